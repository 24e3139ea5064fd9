"""A lost hand's place, measured on drawn frames and judged by the temporal checks.

The detector loses a hand after 30 frames in place. Where the hand was drawn away one box
to the side (it outran the detector), its skin turns up around its box and nothing is
flagged; where it was wiped out, its box and its neighbourhood lose that skin and a
``hand_vanish`` is raised. Pixels, evidence stage and checks are the real ones.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
from helpers import make_hand

from vidhand.checks.temporal import TemporalConfig
from vidhand.evidence.frame import EvidenceExtractor
from vidhand.evidence.landmarks import landmark_features
from vidhand.hand_model import EDGES
from vidhand.pipeline import check_hand_frames
from vidhand.types import Frame, Hand, HandFrame, VideoInfo

W, H, FPS, N, LOST = 640, 480, 30, 60, 30
SKIN = (205, 150, 125)


def _draw(hand: Hand, image: np.ndarray) -> None:
    pts = np.round(hand.landmarks_px).astype(np.int32)
    cv2.fillConvexPoly(image, cv2.convexHull(pts[[0, 1, 5, 9, 13, 17]]), SKIN)
    for a, b in EDGES:
        cv2.line(image, tuple(map(int, pts[a])), tuple(map(int, pts[b])), SKIN, 9)


def _events(after: str) -> list:
    """Hand seen in place for LOST frames, then lost; ``after``: where its pixels go."""
    rng = np.random.default_rng(0)
    background = rng.integers(50, 80, (H, W, 1), dtype=np.uint8).repeat(3, axis=2)
    hand = make_hand((200.0, 240.0), size_px=100, frame_wh=(W, H))
    hand = Hand(**{**hand.__dict__, "features": landmark_features(hand)})
    shift = 1.3 * float(np.ptp(hand.landmarks_px[:, 0]))  # one grown box to the right
    moved = make_hand((200.0 + shift, 240.0), size_px=100, frame_wh=(W, H))
    extractor = EvidenceExtractor(pixels=False)
    frames = []
    for i in range(N):
        image = background.copy()
        if i < LOST:
            _draw(hand, image)
        elif after == "moved on":
            _draw(moved, image)
        seen = (hand,) if i < LOST else ()
        frames.append(extractor.process(
            Frame(index=i, pts_s=i / FPS, image=image),
            HandFrame(frame_index=i, pts_s=i / FPS, hands=seen, frame_size_wh=(W, H))))
    info = VideoInfo(path="drawn.mp4", width=W, height=H, frame_rate=Fraction(FPS),
                     frame_count=N, duration_s=N / FPS)
    return check_hand_frames(frames, info)[1]


def test_a_hand_wiped_out_vanishes_one_that_moved_on_does_not() -> None:
    (ev,) = _events("wiped out")
    assert ev.type == "hand_vanish" and ev.start_frame == LOST, ev
    assert ev.evidence["skin_now"] < 0.1 < ev.evidence["skin_then"]
    # Its neighbourhood lost that skin too (measured on coarser samples than the box,
    # so not exactly all of it).
    assert ev.evidence["skin_moved_near"] < TemporalConfig().vanish_moved_on
    # The same loss, the hand drawn one box to the side: its skin is next door.
    assert _events("moved on") == []
