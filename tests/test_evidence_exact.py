"""The evidence stage's faster forms compute exactly what the plain numpy/scipy calls do.

Each helper below replaced a slower call on the per-frame path; the evidence it feeds is
saved in landmark caches and compared across runs, so equal is not enough: the values
must be bit-identical to the call they replaced.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import uniform_filter

from vidhand.evidence.frame import (
    _box_chroma,
    _Grey,
    _mahalanobis2,
    _skin_fraction,
    _thumb,
    _thumb_region,
)
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


def test_mahalanobis_matches_einsum_bit_for_bit() -> None:
    rng = np.random.default_rng(2)
    for _ in range(300):
        seed = rng.normal(0, rng.uniform(1, 30), (40, 2))
        (a, b), (c, d) = np.cov(seed, rowvar=False) + np.eye(2) * 4.0
        icov = np.array([[d, -b], [-c, a]]) / (a * d - b * c)
        rows = rng.normal(0, rng.uniform(1, 60), (500, 2))
        assert np.array_equal(_mahalanobis2(rows, icov),
                              np.einsum("ij,jk,ik->i", rows, icov, rows))


def test_skin_fraction_counts_samples_in_the_99_percent_ellipse() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    box = np.array([10.3, 5.0, 100.7, 80.2])
    ab = _box_chroma(image, box)
    assert ab is not None and len(ab) > 100
    mean, icov = ab.mean(axis=0), np.linalg.inv(np.cov(ab, rowvar=False))
    m2 = np.einsum("ij,jk,ik->i", ab - mean, icov, ab - mean)
    assert _skin_fraction(image, box, mean, icov) == np.mean(m2 < 9.2)
    assert _skin_fraction(image, np.array([50.0, 50.0, 51.0, 80.0]), mean, icov) == 0.0


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
