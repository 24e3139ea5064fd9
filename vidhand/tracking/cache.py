"""The landmark cache: every run's raw detections, saved beside its report.

Format ``vidhand.landmarks/1`` is a compressed ``.npz``:

- ``meta``: JSON string with the video facts and the detector settings;
- ``frame_index`` (N,) int32 and ``pts_s`` (N,) float64 for every decoded frame;
- ``det_frame`` (M,) int32: index into the frame arrays for each detection;
- ``landmarks_norm`` (M, 21, 3) float32, ``world`` (M, 21, 3) float32;
- ``handedness`` (M,) int8 (0 left, 1 right, -1 unknown), ``score`` (M,) float32;
- ``features``: JSON string, a list of M dicts (evidence measured upstream per hand);
- ``frame_features``: JSON string, a list of N dicts (evidence measured per frame).

Replaying it (:class:`LandmarkRecording.hand_frames`) reproduces exactly what the
detector produced, so everything after MediaPipe re-runs without it.

Example:
    >>> rec = read_landmarks("out/clip.landmarks.npz")
    >>> for hand_frame in rec.hand_frames():
    ...     print(hand_frame.frame_index, len(hand_frame.hands))
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vidhand.errors import LandmarkFileError
from vidhand.report import _jsonable, write_bytes_atomic
from vidhand.types import Hand, HandFrame

FORMAT = "vidhand.landmarks/1"
_LABELS = {"left": 0, "right": 1, "unknown": -1}
_NAMES = {v: k for k, v in _LABELS.items()}


@dataclass
class LandmarkRecorder:
    """Collects detections frame by frame, then writes them with :meth:`write`."""

    frame_index: list[int] = field(default_factory=list)
    pts_s: list[float] = field(default_factory=list)
    det_frame: list[int] = field(default_factory=list)
    norm: list[npt.NDArray[np.float32]] = field(default_factory=list)
    world: list[npt.NDArray[np.float32]] = field(default_factory=list)
    handedness: list[int] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    # Evidence is kept as JSON text from the start: a fraction of the memory of the dicts.
    features: list[str] = field(default_factory=list)
    frame_features: list[str] = field(default_factory=list)

    def add(self, hand_frame: HandFrame) -> None:
        """Record one frame's detections (before identities are assigned)."""
        row = len(self.frame_index)
        self.frame_index.append(hand_frame.frame_index)
        self.pts_s.append(hand_frame.pts_s)
        self.frame_features.append(json.dumps(_jsonable(hand_frame.features)))
        for hand in hand_frame.hands:
            self.det_frame.append(row)
            self.norm.append(hand.landmarks_norm)
            self.world.append(hand.world)
            self.handedness.append(_LABELS[hand.handedness])
            self.score.append(hand.handedness_score)
            self.features.append(json.dumps(_jsonable(hand.features)))

    def to_bytes(self, meta: dict[str, Any]) -> bytes:
        """Serialise to the ``.npz`` format described in the module docstring."""
        m = len(self.det_frame)
        arrays = {
            "meta": np.array(json.dumps({"format": FORMAT, **_jsonable(meta)})),
            "frame_index": np.asarray(self.frame_index, dtype=np.int32),
            "pts_s": np.asarray(self.pts_s, dtype=np.float64),
            "det_frame": np.asarray(self.det_frame, dtype=np.int32),
            "landmarks_norm": (np.stack(self.norm).astype(np.float32) if m
                               else np.zeros((0, 21, 3), np.float32)),
            "world": (np.stack(self.world).astype(np.float32) if m
                      else np.zeros((0, 21, 3), np.float32)),
            "handedness": np.asarray(self.handedness, dtype=np.int8),
            "score": np.asarray(self.score, dtype=np.float32),
            "features": np.array("[" + ",".join(self.features) + "]"),
            "frame_features": np.array("[" + ",".join(self.frame_features) + "]"),
        }
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    def write(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> Path:
        """Write atomically to ``path``."""
        return write_bytes_atomic(path, self.to_bytes(meta))


@dataclass(frozen=True, eq=False)
class LandmarkRecording:
    """A landmark file loaded into memory."""

    meta: dict[str, Any]
    frame_index: npt.NDArray[np.int32]
    pts_s: npt.NDArray[np.float64]
    det_frame: npt.NDArray[np.int32]
    landmarks_norm: npt.NDArray[np.float32]
    world: npt.NDArray[np.float32]
    handedness: npt.NDArray[np.int8]
    score: npt.NDArray[np.float32]
    features: list[dict[str, Any]]
    frame_features: list[dict[str, Any]]

    @property
    def frame_size_wh(self) -> tuple[int, int]:
        """Source frame size (width, height) the landmarks refer to."""
        video = self.meta["video"]
        return int(video["width"]), int(video["height"])

    def hand_frames(self) -> Iterator[HandFrame]:
        """Yield one :class:`HandFrame` per recorded frame, as the detector produced it."""
        w, h = self.frame_size_wh
        scale = np.array([w, h], dtype=np.float32)
        starts = np.searchsorted(self.det_frame, np.arange(len(self.frame_index) + 1))
        for row, (fi, pts) in enumerate(
                zip(self.frame_index.tolist(), self.pts_s.tolist(), strict=True)):
            hands = []
            for d in range(int(starts[row]), int(starts[row + 1])):
                lm = self.landmarks_norm[d]
                hands.append(Hand(
                    landmarks_px=lm[:, :2] * scale,
                    landmarks_norm=lm,
                    world=self.world[d],
                    handedness=_NAMES[int(self.handedness[d])],  # type: ignore[arg-type]
                    handedness_score=float(self.score[d]),
                    features=dict(self.features[d]),
                ))
            yield HandFrame(frame_index=fi, pts_s=pts, hands=tuple(hands), frame_size_wh=(w, h),
                            features=dict(self.frame_features[row]))


def read_landmarks(path: str | os.PathLike[str]) -> LandmarkRecording:
    """Load a landmark file; raise :class:`LandmarkFileError` naming the file on any problem."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise LandmarkFileError(
            f"{p}: no such landmark file; run `vidhand check` to record one") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise LandmarkFileError(
            f"{p}: not a vidhand landmark file ({exc}); re-run `vidhand check` to record one"
        ) from None
    try:
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != FORMAT:
            raise LandmarkFileError(
                f"{p}: format {meta.get('format')!r} is not {FORMAT!r}; re-run `vidhand check`")
        rec = LandmarkRecording(
            meta=meta,
            frame_index=data["frame_index"], pts_s=data["pts_s"], det_frame=data["det_frame"],
            landmarks_norm=data["landmarks_norm"], world=data["world"],
            handedness=data["handedness"], score=data["score"],
            features=json.loads(str(data["features"])),
            frame_features=json.loads(str(data["frame_features"])),
        )
    except KeyError as exc:
        raise LandmarkFileError(f"{p}: landmark file lacks {exc}; re-run `vidhand check`") from None
    m = len(rec.det_frame)
    if not (rec.landmarks_norm.shape == (m, 21, 3) and rec.world.shape == (m, 21, 3)
            and len(rec.handedness) == len(rec.score) == len(rec.features) == m
            and len(rec.frame_features) == len(rec.frame_index) == len(rec.pts_s)):
        raise LandmarkFileError(f"{p}: landmark arrays disagree in length; file is corrupt")
    return rec
