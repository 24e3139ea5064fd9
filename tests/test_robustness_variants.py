"""The re-renderings of ``benchmarks/robustness.py``: each variant writes the frames it says.

Its false-alarm numbers are only as good as the footage it makes, so the variants that
change time (order, rate) or shape are checked here on a small synthetic clip whose
frames carry their index as brightness.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import REPO

from vidhand.synth.encode import H264Writer

sys.path.insert(0, str(REPO / "benchmarks"))
import robustness

W, H, N = 96, 64, 8
RATE = Fraction(15)


def _frame(i: int) -> np.ndarray:
    img = np.full((H, W, 3), 20 + 25 * i, np.uint8)
    img[:8, :16] = 255  # a bright corner: where it lands shows a turn
    return img


def _decode(path: Path) -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        return frames, Fraction(stream.guessed_rate or stream.average_rate)


def _level(img: np.ndarray) -> int:
    """The index a frame's brightness encodes (read away from the bright corner)."""
    return round((float(np.median(img[H // 2:, W // 2:])) - 20) / 25)


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    work = tmp_path_factory.mktemp("variants")
    src = work / "src.mp4"
    with H264Writer(src, RATE, W, H) as w:
        for i in range(N):
            w.write(_frame(i))
    names = ["reverse", "double", "fps_half", "portrait", "square", "mirror", "pillarbox",
             "blend", "pulldown"]
    return {n: _decode(p) for n, p in robustness.make_variants(src, work, names).items()}


def test_time_variants_write_the_frames_they_name(variants):
    frames, rate = variants["reverse"]
    assert [_level(f) for f in frames] == list(range(N))[::-1] and rate == RATE
    frames, rate = variants["double"]
    assert [_level(f) for f in frames] == [i for i in range(N) for _ in (0, 1)]
    assert rate == 2 * RATE
    frames, rate = variants["fps_half"]
    assert [_level(f) for f in frames] == list(range(0, N, 2)) and rate == RATE / 2
    frames, rate = variants["pulldown"]
    assert [_level(f) for f in frames] == [0, 1, 2, 3, 3, 4, 5, 6, 7, 7]
    assert rate == RATE * 5 / 4


def test_shape_variants_turn_crop_mirror_and_pad(variants):
    (first, *_), _ = variants["portrait"]
    assert first.shape[:2] == (W, H)
    assert first[:16, -8:].mean() > 200  # turned clockwise: the top-left corner is top-right
    (first, *_), _ = variants["square"]
    assert first.shape[:2] == (H, H)
    (first, *_), _ = variants["mirror"]
    assert first.shape[:2] == (H, W) and first[:8, -16:].mean() > 200
    (first, *_), _ = variants["pillarbox"]
    bar = W // 8
    assert first.shape[:2] == (H, W + 2 * bar)
    assert first[:, :bar - 2].max() < 24 and first[:, -(bar - 2):].max() < 24  # black
    assert first[:8, bar + 2:bar + 14].mean() > 200  # the picture between the bars


def test_blend_cross_fades_between_every_two_frames(variants):
    frames, rate = variants["blend"]
    assert rate == 2 * RATE
    # Frame k is source frame k/2, or halfway between two source frames.
    levels = [float(np.median(f[H // 2:, W // 2:])) for f in frames]
    assert len(levels) == 2 * N - 1
    assert np.allclose(levels, [20 + 12.5 * k for k in range(2 * N - 1)], atol=3)


def test_tilt_turns_the_picture_and_leaves_no_corner_empty():
    img = np.full((H, W, 3), 60, np.uint8)
    img[:, W // 2 - 1:W // 2 + 1] = 255  # a vertical line through the centre
    out = robustness._tilt(img)
    assert out.shape == img.shape
    assert out.min() >= 55  # no black corner: the turned picture fills the frame
    top, bottom = (int(np.argmax(out[y, :, 0])) for y in (2, H - 3))
    assert abs(top - bottom) >= 0.1 * H  # the line leans
    assert abs(robustness._tilt(img, 0.0).astype(int) - img).max() <= 1  # 0 degrees: as is


def test_shake_sways_the_picture_within_its_margin():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (0, 0), 3)
    ref = robustness._shake(img, 0, amount=0.0)  # enlarged by the margin, not moved
    shifts = []
    for i in range(30):
        out = robustness._shake(img, i)
        assert out.shape == img.shape
        (dx, dy), _ = cv2.phaseCorrelate(np.float32(ref[..., 0]), np.float32(out[..., 0]))
        shifts.append((dx, dy))
    dx, dy = np.array(shifts).T
    # 1.5 % of the size at most (margin 5 %: no edge shows), and it really moves
    assert np.abs(dx).max() <= 0.016 * 320 and np.abs(dy).max() <= 0.016 * 240
    assert np.ptp(dx) > 0.01 * 320 and np.ptp(dy) > 0.01 * 240
    assert np.abs(np.diff(dx)).max() < 0.02 * 320  # a sway, not a jump


def test_flat_profile_lifts_blacks_and_pulls_whites():
    ramp = np.arange(256, dtype=np.uint8).reshape(1, -1, 1).repeat(3, axis=2)
    out = robustness._flat(ramp)[0, :, 0].astype(int)
    assert out[0] == 40 and out[-1] == 200
    assert np.all(np.diff(out) >= 0) and out[128] > 40 + 160 * 128 / 255  # midtones raised
