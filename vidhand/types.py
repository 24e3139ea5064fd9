"""Plain data that crosses vidhand's stage boundaries.

Decode -> track -> check -> export exchange only these frozen dataclasses of
values and numpy arrays; no PyAV, OpenCV or MediaPipe object leaves the module
that made it. Frames are 0-based in decode order and frame rates are
:class:`fractions.Fraction`.

Example:
    >>> from vidhand.types import Event
    >>> Event(event_id=0, type="hand_vanish", track_id=1, start_frame=10,
    ...       end_frame=14, start_s=0.4, end_s=0.56, severity=0.7, message="...")
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Handedness = Literal["left", "right", "unknown"]
Verdict = Literal["pass", "warn", "fail"]

#: Names of the event types of the temporal model (issue #3). Part of the report schema.
EVENT_TYPES: tuple[str, ...] = (
    "finger_count_change",
    "extra_finger",
    "missing_finger",
    "fused_fingers",
    "topology_change",
    "handedness_flip",
    "proportion_drift",
    "hand_vanish",
    "low_confidence",
)


@dataclass(frozen=True)
class VideoInfo:
    """What the decoder knows about a video before (and while) reading it.

    ``width``/``height`` are the display size (after rotation metadata is applied),
    in source pixels. ``frame_count`` is the container's estimate until the stream
    has been read to its end; the report stores the number of frames actually decoded.
    """

    path: str
    width: int
    height: int
    frame_rate: Fraction
    frame_count: int | None
    duration_s: float | None
    rotation_deg: int = 0
    codec: str = ""
    pix_fmt: str = ""
    is_vfr: bool = False
    start_timecode: str | None = None
    backend: str = ""

    @property
    def fps(self) -> float:
        """Nominal frame rate as a float (for display; compute with ``frame_rate``)."""
        return float(self.frame_rate)


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in decode order.
        pts_s: presentation time in seconds (exact, from the stream's time base).
        image: RGB uint8 array of shape (h, w, 3), C-contiguous. It may be smaller
            than the source when ``max_side`` was given; ``scale`` maps it back.
        scale: source pixels per analysed pixel (1.0 when not downscaled).
    """

    index: int
    pts_s: float
    image: npt.NDArray[np.uint8]
    scale: float = 1.0

    @property
    def source_size_wh(self) -> tuple[int, int]:
        """Size of the frame in source pixels (width, height)."""
        h, w = self.image.shape[:2]
        return round(w * self.scale), round(h * self.scale)


@dataclass(frozen=True, eq=False)
class Hand:
    """One detected hand in one frame.

    Attributes:
        landmarks_px: (21, 2) float32, x/y in source pixels.
        landmarks_norm: (21, 3) float32, x/y normalised to [0, 1] of the frame, z relative depth.
        world: (21, 3) float32, metric landmarks in metres around the hand's centre.
        handedness: the subject's true hand ("right" is the person's right hand in an
            unmirrored video).
        handedness_score: the detector's confidence in that label, in [0, 1].
        bbox_xyxy: (4,) float32 box around the landmarks in source pixels.
        track_id: identity assigned by :mod:`vidhand.tracking.identity`, ``None`` before.
        features: per-hand measurements added by later stages (pixel evidence), plain values.
    """

    landmarks_px: npt.NDArray[np.float32]
    landmarks_norm: npt.NDArray[np.float32]
    world: npt.NDArray[np.float32]
    handedness: Handedness
    handedness_score: float
    track_id: int | None = None
    features: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, shape in (("landmarks_px", (21, 2)), ("landmarks_norm", (21, 3)),
                            ("world", (21, 3))):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.shape != shape:
                got = getattr(arr, "shape", type(arr).__name__)
                raise ValueError(f"Hand.{name} must be an np.ndarray of shape {shape}, got {got}")
        if self.handedness not in ("left", "right", "unknown"):
            raise ValueError(f"Hand.handedness must be left/right/unknown, got {self.handedness!r}")

    @property
    def bbox_xyxy(self) -> npt.NDArray[np.float32]:
        """Box around the 21 landmarks, (x0, y0, x1, y1) in source pixels."""
        xy = self.landmarks_px
        return np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()],
                        dtype=np.float32)

    @property
    def palm_center_px(self) -> npt.NDArray[np.float32]:
        """Mean of wrist and the four finger MCP joints, in source pixels."""
        return self.landmarks_px[[0, 5, 9, 13, 17]].mean(axis=0)

    @property
    def size_px(self) -> float:
        """Hand scale in source pixels: the larger side of the landmark box (at least 1)."""
        x0, y0, x1, y1 = self.bbox_xyxy
        return float(max(x1 - x0, y1 - y0, 1.0))

    def with_track(self, track_id: int) -> Hand:
        """Return a copy carrying ``track_id``."""
        return dataclasses.replace(self, track_id=track_id)


@dataclass(frozen=True, eq=False)
class HandFrame:
    """The hands found in one frame (possibly none).

    ``features`` holds frame-level measurements made upstream (scene-cut score,
    looks at where recently seen hands went), plain JSON-able values.
    """

    frame_index: int
    pts_s: float
    hands: tuple[Hand, ...] = ()
    frame_size_wh: tuple[int, int] = (0, 0)
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Track:
    """A hand followed through time."""

    track_id: int
    handedness: Handedness
    first_frame: int
    last_frame: int
    frames_observed: int

    def to_dict(self) -> dict[str, Any]:
        """Return the report's JSON form."""
        return dataclasses.asdict(self)


def _check_span(kind: str, start_frame: int, end_frame: int, severity: float) -> None:
    if end_frame < start_frame:
        raise ValueError(f"{kind} end_frame ({end_frame}) must be >= start_frame ({start_frame})")
    if not (0.0 <= severity <= 1.0) or math.isnan(severity):
        raise ValueError(f"{kind} severity must be in [0, 1], got {severity}")


@dataclass(frozen=True)
class Event:
    """A typed hand defect over an inclusive frame range.

    ``severity`` is in [0, 1]; ``evidence`` holds the numbers that triggered it.
    """

    event_id: int
    type: str
    track_id: int | None
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    severity: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_span(type(self).__name__, self.start_frame, self.end_frame, self.severity)

    def to_dict(self) -> dict[str, Any]:
        """Return the report's JSON form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Finding:
    """What a check reports before the pipeline numbers it and adds seconds.

    Frames are 0-based and ``end_frame`` is inclusive.
    """

    type: str
    track_id: int | None
    start_frame: int
    end_frame: int
    severity: float
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_span(type(self).__name__, self.start_frame, self.end_frame, self.severity)
