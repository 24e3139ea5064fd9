"""Per-track arrays and clip context that the temporal detectors read.

The temporal model buffers each track's per-frame evidence while the video streams,
then hands a :class:`TrackData` (numpy arrays over the frames where the hand was
detected) and the :class:`ClipContext` (cuts, other hands, ghosts) to each detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from vidhand.evidence.landmarks import entanglement, landmark_features, pair_spread
from vidhand.tracking.identity import SceneCuts, box_iou
from vidhand.types import Hand, HandFrame

NDF = npt.NDArray[np.float64]
NDI = npt.NDArray[np.int64]


@dataclass
class ClipContext:
    """What the detectors need to know about the whole clip, beyond one track."""

    frame_rate: Fraction
    frame_size_wh: tuple[int, int]
    last_frame: int = -1
    scene: SceneCuts = field(default_factory=SceneCuts)
    boxes: dict[int, list[tuple[int, NDF]]] = field(default_factory=dict)
    ghosts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: per track, the frames where it starts or resumes after a detector gap
    track_starts: dict[int, list[int]] = field(default_factory=dict)

    @property
    def cuts(self) -> list[int]:
        """Frames where a scene cut was found, in order."""
        return self.scene.frames

    @property
    def fps(self) -> float:
        """Nominal frames per second."""
        return float(self.frame_rate)

    def frames(self, seconds: float, minimum: int = 1) -> int:
        """Convert a duration to a frame count at the nominal rate (at least ``minimum``)."""
        return max(minimum, round(seconds * self.fps))

    def near_cut(self, a: int, b: int, pad: int = 2) -> bool:
        """Whether a scene cut falls in frames [a - pad, b + pad]."""
        return any(a - pad <= c <= b + pad for c in self.cuts)

    def at_edge(self, box: NDF, margin: float = 0.02) -> bool:
        """Whether ``box`` touches the frame border (within ``margin`` of the frame size)."""
        w, h = self.frame_size_wh
        mx, my = margin * w, margin * h
        return bool(box[0] <= mx or box[1] <= my or box[2] >= w - mx or box[3] >= h - my)

    def overlaps_other(self, frame: int, track_id: int, box: NDF, iou: float = 0.05) -> bool:
        """Whether another hand's box overlaps ``box`` in ``frame``."""
        return any(tid != track_id and box_iou(box, other) > iou
                   for tid, other in self.boxes.get(frame, ()))


@dataclass
class TrackData:
    """One track's evidence over the frames where it was detected (arrays of length n)."""

    track_id: int
    frames: NDI
    label: NDF  # +1 right, -1 left, 0 unknown
    score: NDF
    size: NDF  # hand size in source px
    center: NDF  # (n, 2) palm centre
    boxes: NDF  # (n, 4)
    chirality: NDF
    knuckles_ok: npt.NDArray[np.bool_]
    n_extended: NDI
    extended: NDI  # (n, 5)
    bones: NDF  # (n, 14)
    px: list[dict[str, Any]]  # pixel evidence per frame ({} when not measured)
    tangle: NDF  # share of the hand's skeleton touching another hand's (entanglement)
    spread: NDF  # (n, 4) adjacent fingers' distance apart in finger widths (pair_spread)

    @property
    def n(self) -> int:
        """Number of observations."""
        return len(self.frames)

    def speed(self) -> NDF:
        """Palm-centre speed in hand sizes per frame (0 for the first observation)."""
        if self.n < 2:
            return np.zeros(self.n)
        d = np.linalg.norm(np.diff(self.center, axis=0), axis=1)
        dt = np.maximum(np.diff(self.frames), 1)
        sp = d / dt / np.maximum(self.size[1:], 1.0)
        return np.concatenate([[0.0], sp])


#: Pixel evidence the detectors read; the rest of a hand's features is not buffered.
PX_KEYS: tuple[str, ...] = (
    "px_judgeable", "px_hand_size", "px_blur", "px_digits", "px_lm_digits",
    "px_finger_support", "px_gaps", "px_valleys", "px_continuity",
    "px_reach", "px_tip_step",
)


class TrackBuffer:
    """Accumulates one compact row per observation of a track while frames stream by.

    Rows hold numbers, not :class:`Hand` objects, so memory grows by a few hundred
    bytes per observation however long the video.
    """

    def __init__(self, track_id: int) -> None:
        self.track_id = track_id
        self.rows: list[tuple[Any, ...]] = []

    def add(self, frame_index: int, hand: Hand, tangle: float) -> None:
        """Append one observation (``tangle``: its :func:`entanglement` with the others)."""
        # Landmark geometry is computed here, never read from a cache; pixel evidence
        # (px_*) comes from upstream because it needs the frame.
        lm = landmark_features(hand)
        px = {k: hand.features[k] for k in PX_KEYS if k in hand.features}
        self.rows.append((
            frame_index, {"right": 1.0, "left": -1.0}.get(hand.handedness, 0.0),
            float(hand.handedness_score), hand.size_px,
            tuple(float(v) for v in hand.palm_center_px),
            tuple(float(v) for v in hand.bbox_xyxy),
            lm["lm_chirality"], lm["lm_knuckles_ok"], lm["lm_n_extended"],
            tuple(lm["lm_extended"]), tuple(lm["lm_bones"]), px, float(tangle),
            tuple(float(v) for v in pair_spread(hand.landmarks_px)),
        ))

    @property
    def last_frame(self) -> int:
        """Frame of the latest observation."""
        return self.rows[-1][0]

    def to_data(self) -> TrackData:
        """Freeze the rows into arrays."""
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * 14
        return TrackData(
            track_id=self.track_id,
            frames=np.array(cols[0], dtype=np.int64),
            label=np.array(cols[1], dtype=np.float64),
            score=np.array(cols[2], dtype=np.float64),
            size=np.array(cols[3], dtype=np.float64),
            center=np.array(cols[4], dtype=np.float64).reshape(-1, 2),
            boxes=np.array(cols[5], dtype=np.float64).reshape(-1, 4),
            chirality=np.array(cols[6], dtype=np.float64),
            knuckles_ok=np.array(cols[7], dtype=bool),
            n_extended=np.array(cols[8], dtype=np.int64),
            extended=np.array(cols[9], dtype=np.int64).reshape(-1, 5),
            bones=np.array(cols[10], dtype=np.float64).reshape(-1, 14),
            px=list(cols[11]),
            tangle=np.array(cols[12], dtype=np.float64),
            spread=np.array(cols[13], dtype=np.float64).reshape(-1, 4),
        )


def buffer_hands(buffers: dict[int, TrackBuffer], hand_frame: HandFrame) -> None:
    """Append every tracked hand of ``hand_frame`` to its track's buffer (created on first
    sight), with its :func:`entanglement` with the frame's other hands."""
    for hand in hand_frame.hands:
        if hand.track_id is None:
            continue
        buf = buffers.get(hand.track_id)
        if buf is None:
            buf = buffers[hand.track_id] = TrackBuffer(hand.track_id)
        buf.add(hand_frame.frame_index, hand, entanglement(
            hand.landmarks_px, [h.landmarks_px for h in hand_frame.hands if h is not hand]))


def record_frame(ctx: ClipContext, hand_frame: HandFrame) -> None:
    """Update the clip context with one frame: boxes, ghosts and scene cuts."""
    f = hand_frame.frame_index
    ctx.last_frame = f
    ctx.boxes[f] = [(h.track_id if h.track_id is not None else -1,
                     h.bbox_xyxy.astype(np.float64)) for h in hand_frame.hands]
    ghosts = hand_frame.features.get("ghosts")
    if ghosts:
        ctx.ghosts[f] = ghosts
    ctx.scene.add(f, hand_frame.features.get("scene_diff"))
