"""The evidence stage's faster forms compute exactly what the plain numpy/scipy calls do.

Each helper below replaced a slower call on the per-frame path; the evidence it feeds is
saved in landmark caches and compared across runs, so equal is not enough: the values
must be bit-identical to the call they replaced.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import uniform_filter

from vidhand.evidence.frame import _Grey, _skin_fraction, _thumb, _thumb_region
from vidhand.evidence.pixels import _GRID_X, _GRID_Y, CANON_PX, _box3, _disc


def test_box3_is_uniform_filter_nearest() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        hist = rng.random((8, 32, 32)) * (rng.random((8, 32, 32)) < rng.random())
        hist = (hist / max(hist.sum(), 1.0)).astype(np.float32)
        assert np.array_equal(_box3(hist), uniform_filter(hist, 3, mode="nearest"))


def test_disc_matches_the_full_grid() -> None:
    rng = np.random.default_rng(1)
    centers = [np.array([np.nan, 3.0], np.float32)]
    centers += [(rng.random(2) * 260 - 66).astype(np.float32) for _ in range(2000)]
    for c in centers:
        r = float(rng.random() * rng.choice([5, 50, 200]))
        full = (_GRID_X - c[0]) ** 2 + (_GRID_Y - c[1]) ** 2 <= r ** 2
        assert full.shape == (CANON_PX, CANON_PX)
        assert np.array_equal(_disc(c, r), full)


def _skin_fraction_einsum(image, box, mean, icov) -> float:
    """The original form of ``_skin_fraction``."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(np.ceil(x1)), w), min(int(np.ceil(y1)), h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    crop = image[y0:y1, x0:x1]
    step = max(1, int(max(crop.shape[:2]) // 32))
    px = np.ascontiguousarray(crop[::step, ::step]).reshape(-1, 1, 3)
    ab = cv2.cvtColor(px, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)[:, 1:]
    d = ab - mean
    m2 = np.einsum("ij,jk,ik->i", d, icov, d)
    return float(np.mean(m2 < 9.2))


def test_skin_fraction_matches_einsum_form() -> None:
    rng = np.random.default_rng(2)
    for _ in range(300):
        image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
        seed = cv2.cvtColor(rng.integers(0, 256, (40, 1, 3), dtype=np.uint8),
                            cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)[:, 1:]
        mean = seed.mean(axis=0)
        (a, b), (c, d) = np.cov(seed, rowvar=False) + np.eye(2) * 4.0
        icov = np.array([[d, -b], [-c, a]]) / (a * d - b * c)
        x0, y0 = rng.random(2) * 80
        box = np.array([x0, y0, x0 + 5 + rng.random() * 80, y0 + 5 + rng.random() * 80])
        assert _skin_fraction(image, box, mean, icov) == _skin_fraction_einsum(
            image, box, mean, icov)


def test_grey_regions_are_sliced_exactly() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    grey = _Grey(image)
    grey.region(20, 30, 220, 180)  # a large region first: the rest fall inside it
    for _ in range(100):
        x0, y0 = rng.integers(0, 250), rng.integers(0, 150)
        box = np.array([x0, y0, x0 + rng.integers(5, 120), y0 + rng.integers(5, 120)], float)
        for pad in (0, 3):
            fresh = _thumb(_Grey(image), box, pad)
            cached = _thumb(grey, box, pad)
            assert (fresh is None) == (cached is None)
            if fresh is not None:
                assert np.array_equal(fresh, cached)
            x0_, y0_, x1_, y1_ = _thumb_region(image.shape, box, pad)
            if x1_ > x0_ and y1_ > y0_:
                direct = cv2.cvtColor(np.ascontiguousarray(image[y0_:y1_, x0_:x1_]),
                                      cv2.COLOR_RGB2GRAY)
                assert np.array_equal(grey.region(x0_, y0_, x1_, y1_), direct)
