"""Builders of synthetic hands for tests of the stages after MediaPipe."""

from __future__ import annotations

import numpy as np

from vidhand.types import Hand, HandFrame

# A plausible open right hand in normalised image coordinates (x, y), palm facing camera.
_OPEN_HAND = np.array([
    [0.50, 0.80],  # wrist
    [0.44, 0.76], [0.40, 0.71], [0.37, 0.66], [0.34, 0.62],  # thumb
    [0.46, 0.64], [0.45, 0.56], [0.445, 0.51], [0.44, 0.47],  # index
    [0.50, 0.63], [0.50, 0.54], [0.50, 0.49], [0.50, 0.44],  # middle
    [0.54, 0.64], [0.545, 0.56], [0.55, 0.51], [0.555, 0.47],  # ring
    [0.58, 0.66], [0.59, 0.60], [0.595, 0.565], [0.60, 0.53],  # pinky
], dtype=np.float32)


def make_hand(
    center_px: tuple[float, float] = (320.0, 240.0),
    size_px: float = 120.0,
    handedness: str = "right",
    score: float = 0.95,
    frame_wh: tuple[int, int] = (640, 480),
) -> Hand:
    """A 21-landmark hand of about ``size_px`` centred (palm) at ``center_px``."""
    shape = _OPEN_HAND - _OPEN_HAND[[0, 5, 9, 13, 17]].mean(axis=0)
    extent = float(np.ptp(shape, axis=0).max())
    px = (shape / extent * size_px + np.asarray(center_px, dtype=np.float32)).astype(np.float32)
    w, h = frame_wh
    norm = np.zeros((21, 3), np.float32)
    norm[:, 0] = px[:, 0] / w
    norm[:, 1] = px[:, 1] / h
    world = np.zeros((21, 3), np.float32)
    world[:, :2] = shape / extent * 0.18
    return Hand(landmarks_px=px, landmarks_norm=norm, world=world,
                handedness=handedness, handedness_score=score)  # type: ignore[arg-type]


def make_frame(index: int, hands: list[Hand], fps: float = 30.0,
               frame_wh: tuple[int, int] = (640, 480)) -> HandFrame:
    """A :class:`HandFrame` at ``index`` holding ``hands``."""
    return HandFrame(frame_index=index, pts_s=index / fps, hands=tuple(hands),
                     frame_size_wh=frame_wh)
