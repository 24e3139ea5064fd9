"""Inputs shared by the preview and the thumbnails: video, hands, boxes, levels (internal)."""

from __future__ import annotations

import bisect
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vidhand.errors import VideoOpenFailure
from vidhand.report import Report, get_profile
from vidhand.types import Event, HandFrame, VideoInfo


def resolve_video(report: Report, video_path: str | os.PathLike[str] | None) -> Path:
    """The video to draw on: ``video_path`` or the one the report names.

    Raises:
        VideoOpenFailure: the file does not exist (the message says to pass ``--video``).
    """
    if video_path is not None:
        p = Path(video_path)
        if not p.is_file():
            raise VideoOpenFailure(f"Video file not found: '{p}'; check the --video path")
        return p
    p = Path(report.video.path)
    if not p.is_file():
        raise VideoOpenFailure(
            f"The report's video '{p}' is missing (moved or deleted?); pass its current "
            f"location with --video PATH (video_path=)")
    return p


def check_same_video(report: Report, info: VideoInfo) -> None:
    """Raise when the opened video's size is not the one the report describes.

    Raises:
        VideoOpenFailure: a different video was passed.
    """
    if (info.width, info.height) != (report.video.width, report.video.height):
        raise VideoOpenFailure(
            f"'{info.path}' is {info.width}x{info.height} but the report describes a "
            f"{report.video.width}x{report.video.height} video; pass the video the report "
            f"was made from (--video)")


def severity_level(report: Report, severity: float) -> str:
    """``"fail"``, ``"warn"`` or ``"info"`` for ``severity`` under the report's profile."""
    try:
        profile = get_profile(str(report.settings.get("profile", "balanced")))
    except ValueError:
        profile = get_profile("balanced")
    if severity >= profile.fail_at:
        return "fail"
    if severity >= profile.warn_at:
        return "warn"
    return "info"


def by_index(hand_frames: list[HandFrame]) -> dict[int, HandFrame]:
    """Hand frames keyed by frame index."""
    return {hf.frame_index: hf for hf in hand_frames}


class TrackBoxes:
    """Every observed box of every track, for "where was this hand" look-ups."""

    def __init__(self, hand_frames: list[HandFrame]) -> None:
        frames: dict[int, list[int]] = {}
        boxes: dict[int, list[npt.NDArray[np.float32]]] = {}
        handedness: dict[int, str] = {}
        for hf in hand_frames:
            for hand in hf.hands:
                if hand.track_id is None:
                    continue
                frames.setdefault(hand.track_id, []).append(hf.frame_index)
                boxes.setdefault(hand.track_id, []).append(hand.bbox_xyxy)
                handedness[hand.track_id] = hand.handedness
        self._frames = frames
        self._boxes = {t: np.stack(b) for t, b in boxes.items()}
        self.handedness = handedness

    def present(self, track_id: int) -> list[int]:
        """Frame indices (sorted) where ``track_id`` was observed."""
        return self._frames.get(track_id, [])

    def nearest(self, track_id: int,
                frame_index: int) -> tuple[int, npt.NDArray[np.float32]] | None:
        """(frame, box) of the observation of ``track_id`` closest to ``frame_index``."""
        frames = self._frames.get(track_id)
        if not frames:
            return None
        i = bisect.bisect_left(frames, frame_index)
        best = min((j for j in (i - 1, i) if 0 <= j < len(frames)),
                   key=lambda j: (abs(frames[j] - frame_index), -frames[j]))
        return frames[best], self._boxes[track_id][best]

    def union(self, track_id: int, first: int, last: int) -> npt.NDArray[np.float32] | None:
        """Box around every observation of ``track_id`` in frames ``first..last``."""
        frames = self._frames.get(track_id)
        if not frames:
            return None
        lo, hi = bisect.bisect_left(frames, first), bisect.bisect_right(frames, last)
        if lo >= hi:
            return None
        b = self._boxes[track_id][lo:hi]
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()],
                        np.float32)


def event_label(event: Event) -> str:
    """Human name of an event type: ``missing_finger`` -> ``missing finger``."""
    return event.type.replace("_", " ")
