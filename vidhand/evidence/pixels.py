"""Finger evidence from the pixels of one hand, held against its 21 landmarks.

MediaPipe always returns 21 landmarks, so it cannot show a sixth finger, a fused pair
or a missing finger. :func:`measure_hand` looks at the hand's own pixels instead:

1. **Crop.** The landmark box plus a 30 % margin is cut from the analysed frame and
   resized so the hand is ~80 px (``CANON_PX`` square crop). Nothing outside it is read.
2. **Mask.** A colour model seeded by the landmarks: a smoothed 3-D YCrCb histogram of
   the pixels on the bones (hand) against one of the crop pixels far from every bone
   (background), turned into a per-pixel posterior, gated to within ~1.8 finger widths
   of the skeleton, cleaned by a 3x3 open/close and reduced to the components that hold
   the bones. Pixels nearer another hand's bones than this hand's (within ~1.2 finger
   widths) are left out. No GrabCut: one iteration on the 128 px crop took 21 ms per
   hand here (measured, loaded 2-core machine), ten times the budget, while the
   histogram mask already follows the hand on the clips we looked at. (Lab was tried
   first: YCrCb with 4-level Cr/Cb bins separates as well and converts 5x faster.)
3. **Digits.** The mask is sampled along offset curves around the palm (iso-distance
   lines at 0.25-0.625 palm lengths outside the convex palm polygon wrist-CMC-MCPs), not
   around circles: a circle around the palm centre runs through the thenar and wrist,
   merging the thumb with the forearm, while the offset curve leaves the palm where every
   finger does. Runs of hand pixels along a curve are digits; a run wider than 1.4
   finger widths is split at luminance valleys (the dark crease between touching real
   fingers, absent inside a fused blob). Runs facing the wrist (forearm) are dropped, and
   a run must have hand pixels at the same angle on the curve just inside it (it
   protrudes; stray blobs do not). A run no landmark finger explains that ends within
   three finger widths of another hand's bones is not counted: where two hands touch,
   the other's fingertip shows through the mask. The count is the largest one seen on
   at least two of the three outer curves, which absorbs one noisy curve and short
   digits (thumb, pinky) that miss the outermost one.
   Convexity defects were not used: they need spread fingers and a clean contour, and
   mis-count touching fingers; skeleton branches are too noisy at ~80 px.
4. **Landmark side on the same curve.** Each landmark finger chain is intersected with
   the chosen curve, giving ``px_lm_digits`` (what the landmarks predict this very curve
   should see) and the angles used to match pixel digits to fingers.

Measured (``benchmarks/pixel_stats.py``, a 2-core machine shared with other jobs, so
upper bounds): 2.5-4 ms per hand best-of-5, 4-5 ms CPU on average, over the ~2 ms
budget. Digit counts are exact on the synthetic hands and on the 6 real hands checked
by eye in ``tests/test_pixels.py``; touching fingers without a visible crease count as
one digit, so ``px_digits`` flickers on real footage and must be read against the
hand's own baseline and against ``px_lm_digits``.

Known failure modes: skin-coloured backgrounds, a face or an arm behind the hand (their
pixels join the mask; ``px_mask_quality`` drops), gloves and strong colour casts (the
model is learnt per hand, so these mostly work, but low contrast ones do not), hands
holding objects (object edges split runs: 6-8 "digits"), motion blur (``px_blur``).

Example:
    >>> from vidhand.evidence.pixels import measure_hand
    >>> feats = measure_hand(frame.image, hand, scale=frame.scale)
    >>> feats["px_judgeable"], feats["px_digits"], feats["px_lm_digits"]
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from vidhand.evidence.landmarks import (
    DISTAL_IDX,
    FINGER_WIDTH_PL,
    MASK_GATE_FW,
    MAX_TANGLE,
    entanglement,
    gap_points,
    palm_length,
)
from vidhand.hand_model import EDGES
from vidhand.types import Hand

#: Side of the canonical square crop, in pixels; the hand box is CANON_PX / (1 + 2 * MARGIN).
CANON_PX = 128
#: Crop margin around the landmark box on each side, as a fraction of its larger side.
MARGIN = 0.3
#: Below this hand size (analysed pixels) the pixels are not judgeable.
MIN_HAND_PX = 40.0
#: Above this blur ratio (1 = no detail left) the pixels are not judgeable.
MAX_BLUR = 0.8
#: Below this mask quality the pixels are not judgeable.
MIN_MASK_QUALITY = 0.45
#: Offset curves outside the palm polygon, in palm lengths (wrist -> middle MCP).
LEVELS_PL = (0.25, 0.375, 0.5, 0.625)

_PALM_HULL = (0, 1, 5, 9, 13, 17)
_PALM_HULL_IDX = np.array(_PALM_HULL)
#: Full chain per finger, base to tip, for the crossings of the offset curves.
_CHAINS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
_EDGE_IDX = np.array(EDGES)
_N_BINS = 180
_BIN_DEG = 360.0 / _N_BINS
_BIN_RAD = np.radians(np.arange(_N_BINS) * _BIN_DEG - 180.0 + _BIN_DEG / 2)
_COS, _SIN = np.cos(_BIN_RAD), np.sin(_BIN_RAD)
_BIN_ORDER = np.arange(_N_BINS)
_FINGER_IDX = np.arange(5)
_CENTER_IDX = np.array([0, 5, 9, 13, 17])  # wrist and finger MCPs
_CHAIN_IDX = np.array(_CHAINS)
_CHAIN_T = np.linspace(0.0, 1.0, 5, dtype=np.float32)[:-1, None, None, None]
_SUPPORT_T = np.array([0.0, 0.2, 0.4, 0.6, 0.8], np.float32)[None, :, None]
_SUPPORT_T2 = 0.9 * _SUPPORT_T
_GAP_S = np.linspace(0.0, 1.0, 21, dtype=np.float32)[None, None, :, None]
_COS_LIST, _SIN_LIST = _COS.tolist(), _SIN.tolist()
_GRID_Y, _GRID_X = np.ogrid[:CANON_PX, :CANON_PX]
_K3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
#: Steps past a tip landmark, in finger widths, at which :func:`_reach` looks at the mask,
#: and where across the finger's axis: three points on it, two 0.9 widths to its sides.
_REACH_STEP = 0.1
_REACH_S = (np.arange(1, 31, dtype=np.float32) * _REACH_STEP)[None, :, None, None]
_REACH_ACROSS = np.array([-0.25, 0.0, 0.25, -0.9, 0.9], np.float32)[None, None, :, None]
#: Where :func:`_tip_step` compares a finger's colour: 0.1-0.8 widths inside its tip
#: landmark against 0.2-0.9 widths past it, on its axis and 0.2 widths to either side.
_STEP_S = np.concatenate([np.arange(-0.8, -0.05, 0.1), np.arange(0.2, 0.95, 0.1)]
                         ).astype(np.float32)[None, :, None, None]
_STEP_INSIDE = np.arange(_STEP_S.shape[1]) < 8
_STEP_ACROSS = np.array([-0.2, 0.0, 0.2], np.float32)[None, None, :, None]
# YCrCb histogram: 8 Y bins x 32 Cr bins x 32 Cb bins.
_HIST_SHAPE = (8, 32, 32)
_HIST_SIZE = 8 * 32 * 32
_ALL_PX = np.arange(CANON_PX * CANON_PX)


def measure_hand(
    image: npt.NDArray[np.uint8],
    hand: Hand,
    scale: float = 1.0,
    other_hands: Sequence[Hand] = (),
) -> dict[str, Any]:
    """Measure the digits visible in one hand's pixels and how judgeable they are.

    Args:
        image: RGB uint8 frame (h, w, 3) at analysis resolution.
        hand: the hand; ``landmarks_px`` are in source pixels.
        scale: source pixels per analysed pixel (``Frame.scale``).
        other_hands: the other hands of the frame, to mark and mask out overlap.

    Returns:
        A flat JSON-able dict of ``px_*`` values (see ``FEATURE_KEYS``).
    """
    return _measure(image, hand, scale, other_hands, None)


def draw_debug(
    image: npt.NDArray[np.uint8],
    hand: Hand,
    scale: float = 1.0,
    other_hands: Sequence[Hand] = (),
) -> tuple[dict[str, Any], npt.NDArray[np.uint8]]:
    """Like :func:`measure_hand`, plus an RGB picture: crop | mask, bones, digits found.

    Digits are drawn as dots on the chosen offset curve: green when a landmark finger
    explains them, red when unmatched; landmark crossings are white crosses.
    """
    dbg: dict[str, Any] = {}
    feats = _measure(image, hand, scale, other_hands, dbg)
    crop, mask, lm = dbg["crop"], dbg["mask"], dbg["lm"]
    over = crop.copy()
    over[mask] = (0.5 * over[mask] + np.array([0, 0, 127])).astype(np.uint8)
    curve = np.abs(dbg["dpalm"] - dbg["level_px"]) <= 0.75
    over[curve] = (255, 255, 0)
    for a, b in EDGES:
        cv2.line(over, tuple(np.round(lm[a]).astype(int)), tuple(np.round(lm[b]).astype(int)),
                 (255, 255, 255), 1)
    center = dbg["center"]
    for run in dbg["runs"]:
        # Put the dot where the run's direction meets the chosen curve.
        rad = math.radians(run["deg"])
        p = _ray_hit(dbg["dpalm"], center, rad, dbg["level_px"])
        colour = (0, 255, 0) if run["finger"] >= 0 else (255, 0, 0)
        cv2.circle(over, p, 3, colour, -1)
    for deg in dbg["lm_deg"].values():
        p = _ray_hit(dbg["dpalm"], center, math.radians(deg), dbg["level_px"])
        cv2.drawMarker(over, p, (255, 255, 255), cv2.MARKER_CROSS, 6, 1)
    pic = np.concatenate([crop, over], axis=1)
    pic = cv2.resize(pic, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    return feats, pic


def _ray_hit(dpalm: npt.NDArray[np.float32], center: npt.NDArray[np.float32], rad: float,
             level: float) -> tuple[int, int]:
    """First pixel along the ray from ``center`` at angle ``rad`` whose palm distance >= level."""
    for r in range(CANON_PX * 2):
        x = round(center[0] + r * math.cos(rad))
        y = round(center[1] + r * math.sin(rad))
        if not (0 <= x < CANON_PX and 0 <= y < CANON_PX):
            break
        if dpalm[y, x] >= level:
            return x, y
    return int(center[0]), int(center[1])


def _measure(
    image: npt.NDArray[np.uint8],
    hand: Hand,
    scale: float,
    other_hands: Sequence[Hand],
    dbg: dict[str, Any] | None,
) -> dict[str, Any]:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an RGB uint8 array (h, w, 3), got "
                         f"{image.dtype} {image.shape}")
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    img_h, img_w = image.shape[:2]
    lm_img = hand.landmarks_px.astype(np.float32) / np.float32(scale)
    lo, hi = lm_img.min(axis=0), lm_img.max(axis=0)
    size = float(max(hi[0] - lo[0], hi[1] - lo[1], 1.0))

    # --- judgeability from geometry alone -------------------------------------------
    pad = 0.08 * size
    at_edge = bool(lo[0] - pad < 0 or lo[1] - pad < 0 or hi[0] + pad > img_w
                   or hi[1] + pad > img_h)
    box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    others_img = [o.landmarks_px.astype(np.float32) / np.float32(scale) for o in other_hands
                  if o is not hand]
    overlap = max((_box_cover(box, (*o.min(axis=0), *o.max(axis=0))) for o in others_img),
                  default=0.0)

    # --- canonical crop ------------------------------------------------------------
    crop, lm, valid = _crop(image, lm_img, lo, hi, size)
    ycc = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb)
    lum = cv2.GaussianBlur(ycc[:, :, 0], (3, 3), 0)

    pl = max(palm_length(lm), 0.25 * (CANON_PX / (1 + 2 * MARGIN)))
    fw = min(max(FINGER_WIDTH_PL * pl, 3.0), 24.0)  # expected finger width (canonical px)

    # --- mask ------------------------------------------------------------------------
    skel = np.zeros((CANON_PX, CANON_PX), np.uint8)
    _draw_skeleton(skel, lm)
    dist = cv2.distanceTransform(255 - skel, cv2.DIST_L2, 3)
    gate = (dist <= MASK_GATE_FW * fw) & valid
    # Distance to the nearest other hand's bones (canonical px): its zone leaves the
    # mask, and a digit ending beside it is not counted as this hand's (see below).
    other_dist = np.full(dist.shape, np.inf, np.float32)
    for other in others_img:
        other_dist = np.minimum(other_dist, _other_bone_distance(other, lm_img, lo, size))
    gate &= ~((other_dist < dist) & (other_dist <= 1.2 * fw))
    fg_samples = (dist <= max(1.0, 0.25 * fw)) & valid
    bg_samples = (dist > 2.2 * fw) & valid
    if bg_samples.sum() < 80:
        bg_samples = (dist > MASK_GATE_FW * fw) & valid
    post, sep = _colour_posterior(ycc, fg_samples, bg_samples)
    mask = (cv2.blur(post, (3, 3)) > 0.5) & gate
    mask8 = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _K3)
    mask8 = cv2.morphologyEx(mask8, cv2.MORPH_CLOSE, _K3)
    mask8 = _keep_hand_components(mask8, fg_samples)
    mask = mask8.astype(bool)

    n_fg = np.count_nonzero(fg_samples)
    # Boolean means as counts (np.mean of a bool array is exactly count / size).
    cover = np.count_nonzero(mask & fg_samples) / n_fg if n_fg else 0.0
    # Leak: hand pixels at the edge of the gate (away from the wrist/forearm side).
    near_wrist = _disc(lm[0], 0.6 * pl)
    rim = (dist > 1.4 * fw) & gate & ~near_wrist
    n_rim = np.count_nonzero(rim)
    leak = np.count_nonzero(mask & rim) / n_rim if n_rim else 0.0
    quality = float(min(max(sep / 0.7, 0.0), 1.0) * cover * (1.0 - leak))

    blur = _blur_ratio(lum, mask8)

    # --- digits on offset curves around the palm --------------------------------------
    hull = np.zeros_like(skel)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(lm[_PALM_HULL_IDX]).astype(np.int32)), 1)
    dpalm = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 3)
    center = lm[_CENTER_IDX].mean(axis=0)
    up = lm[9] - lm[0]
    up_deg = math.degrees(math.atan2(float(up[1]), float(up[0])))
    wrist_deg = math.degrees(math.atan2(*(lm[0] - center)[::-1]))
    levels_px = np.array(LEVELS_PL) * pl
    band = _CurveBand(dpalm, center, mask, lum, levels_px)
    chains = _ChainSamples(lm, dpalm, center)
    levels = [_digits_on_curve(i, float(d), band, chains, wrist_deg, fw, need_runs=i > 0)
              for i, d in enumerate(levels_px)]
    # A digit must protrude: a run counts only if the curve just inside it has hand
    # pixels at the same angle, so isolated blobs and one-level noise drop out.
    # Nor does one that no finger of this hand explains and that ends within three finger
    # widths of another hand's bones: where hands touch, the other's fingertip shows through.
    for inner, outer in itertools.pairwise(levels):
        outer["runs"] = [r for r in outer["runs"] if inner["on"][r["bins"]].any()
                         and not (r["finger"] < 0 and _beside(other_dist, center, r, 3.0 * fw))]
        outer["unmatched"] = sum(r["finger"] < 0 for r in outer["runs"])
    levels = levels[1:]
    counts = [len(lv["runs"]) for lv in levels]
    best = _robust_count(counts)
    # The curve that shows that count, preferring the middle one.
    pick = min((i for i, n in enumerate(counts) if n == best), key=lambda i: abs(i - 1))
    chosen = levels[pick]
    unmatched = min(levels[i]["unmatched"] for i, n in enumerate(counts) if n == best)

    tips = [[round(_wrap_deg(r["deg"] - up_deg), 1), round(r["width"] / fw, 2), r["finger"],
             r["n_fingers"]] for r in chosen["runs"]]

    mask_tol = cv2.dilate(mask8, _K3)
    support = _support(mask_tol, lm)
    gaps, valleys = _gaps(mask, lum, lm)
    bones = _last_bones(lm)
    reach = _reach(mask8, bones, fw)
    tip_step = _tip_step(ycc, bones, fw)

    if dbg is not None:
        dbg.update(crop=crop, mask=mask, lm=lm, dpalm=dpalm, center=center,
                   level_px=LEVELS_PL[pick + 1] * pl, runs=chosen["runs"], lm_deg=chosen["lm_deg"])
    tangle = entanglement(lm_img, others_img)
    judgeable = bool(size >= MIN_HAND_PX and not at_edge and tangle <= MAX_TANGLE
                     and blur <= MAX_BLUR and quality >= MIN_MASK_QUALITY)
    return {
        "px_judgeable": judgeable,
        "px_hand_size": round(size, 1),
        "px_at_edge": at_edge,
        "px_overlap": round(overlap, 3),
        "px_tangle": round(tangle, 3),
        "px_blur": round(blur, 3),
        "px_mask_quality": round(quality, 3),
        "px_color_sep": round(sep, 3),
        "px_skeleton_cover": round(cover, 3),
        "px_leak": round(leak, 3),
        "px_digits": int(best),
        "px_digits_by_level": counts,
        "px_level": LEVELS_PL[pick + 1],
        "px_lm_digits": int(chosen["lm_crossings"]),
        "px_unmatched_digits": int(unmatched),
        "px_digit_tips": tips,
        "px_finger_support": [round(float(v), 3) for v in support],
        "px_gaps": [round(float(v), 3) for v in gaps],
        "px_valleys": [round(float(v), 3) for v in valleys],
        "px_reach": reach,
        "px_tip_step": tip_step,
    }


#: Keys of the dict returned by :func:`measure_hand`.
FEATURE_KEYS: tuple[str, ...] = (
    "px_judgeable", "px_hand_size", "px_at_edge", "px_overlap", "px_tangle", "px_blur",
    "px_mask_quality", "px_color_sep", "px_skeleton_cover", "px_leak", "px_digits",
    "px_digits_by_level", "px_level", "px_lm_digits", "px_unmatched_digits", "px_digit_tips",
    "px_finger_support", "px_gaps", "px_valleys", "px_reach",
    "px_tip_step",
)


def _box_cover(box: tuple[float, ...], other: tuple[float, ...]) -> float:
    """Fraction of ``box`` (x0, y0, x1, y1) covered by ``other``."""
    iw = min(box[2], other[2]) - max(box[0], other[0])
    ih = min(box[3], other[3]) - max(box[1], other[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    return float(min(iw * ih / area, 1.0))


def _crop(image: npt.NDArray[np.uint8], lm_img: npt.NDArray[np.float32],
          lo: npt.NDArray[np.float32], hi: npt.NDArray[np.float32], size: float,
          ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Cut the hand box plus margin, resize to CANON_PX; return crop, landmarks, valid."""
    img_h, img_w = image.shape[:2]
    side = size * (1 + 2 * MARGIN)
    k = CANON_PX / side
    ox = (lo[0] + hi[0]) / 2 - side / 2
    oy = (lo[1] + hi[1]) / 2 - side / 2
    x0, y0 = max(math.floor(ox), 0), max(math.floor(oy), 0)
    x1, y1 = min(math.ceil(ox + side), img_w), min(math.ceil(oy + side), img_h)
    crop = np.zeros((CANON_PX, CANON_PX, 3), np.uint8)
    valid = np.zeros((CANON_PX, CANON_PX), bool)
    lm = (lm_img - np.array([ox, oy], np.float32)) * np.float32(k)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return crop, lm, valid
    px0 = min(max(round((x0 - ox) * k), 0), CANON_PX - 1)
    py0 = min(max(round((y0 - oy) * k), 0), CANON_PX - 1)
    nw = max(min(round((x1 - x0) * k), CANON_PX - px0), 1)
    nh = max(min(round((y1 - y0) * k), CANON_PX - py0), 1)
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    crop[py0:py0 + nh, px0:px0 + nw] = cv2.resize(image[y0:y1, x0:x1], (nw, nh),
                                                  interpolation=interp)
    valid[py0:py0 + nh, px0:px0 + nw] = True
    # Exact mapping of the landmarks into the resized, placed sub-image.
    sx, sy = nw / (x1 - x0), nh / (y1 - y0)
    lm = np.stack([(lm_img[:, 0] - x0) * sx + px0, (lm_img[:, 1] - y0) * sy + py0], axis=1)
    return crop, lm.astype(np.float32), valid


def _draw_skeleton(canvas: npt.NDArray[np.uint8], lm: npt.NDArray[np.float32]) -> None:
    """Draw the 21-landmark bones (1 px) and the shrunk palm polygon as 255 on ``canvas``."""
    pts = np.round(lm * 4).astype(np.int32)  # 2 fractional bits
    cv2.polylines(canvas, list(pts[_EDGE_IDX]), False, 255, 1, cv2.LINE_8, shift=2)
    palm = lm[_PALM_HULL_IDX]
    mid = palm.mean(axis=0)
    shrunk = np.round((mid + 0.6 * (palm - mid)) * 4).astype(np.int32)
    cv2.fillConvexPoly(canvas, cv2.convexHull(shrunk), 255, cv2.LINE_8, shift=2)


def _other_bone_distance(other_img: npt.NDArray[np.float32], lm_img: npt.NDArray[np.float32],
                         lo: npt.NDArray[np.float32], size: float) -> npt.NDArray[np.float32]:
    """Distance of each canonical crop pixel to another hand's bones (inf: not in the crop)."""
    side = size * (1 + 2 * MARGIN)
    k = CANON_PX / side
    hi = lm_img.max(axis=0)
    origin = np.array([(lo[0] + hi[0]) / 2 - side / 2, (lo[1] + hi[1]) / 2 - side / 2],
                      np.float32)
    olm = (other_img - origin) * np.float32(k)
    if (olm.max(axis=0) < 0).any() or (olm.min(axis=0) >= CANON_PX).any():
        return np.full((CANON_PX, CANON_PX), np.inf, np.float32)
    sk = np.zeros((CANON_PX, CANON_PX), np.uint8)
    _draw_skeleton(sk, olm)
    return cv2.distanceTransform(255 - sk, cv2.DIST_L2, 3)


def _beside(other_dist: npt.NDArray[np.float32], center: npt.NDArray[np.float32],
            run: dict[str, Any], reach: float) -> bool:
    """Whether a digit run (on its curve) lies within ``reach`` of another hand's bones."""
    rad = math.radians(run["deg"])
    x = round(float(center[0]) + run["r"] * math.cos(rad))
    y = round(float(center[1]) + run["r"] * math.sin(rad))
    h, w = other_dist.shape
    return bool(0 <= x < w and 0 <= y < h and other_dist[y, x] <= reach)


def _colour_posterior(ycc: npt.NDArray[np.uint8], fg: npt.NDArray[np.bool_],
                      bg: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float32], float]:
    """P(hand | YCrCb colour) from histograms of the fg and bg samples; and their separation."""
    # Natural colours span Cr, Cb ~ 64..191: 32 bins of 4 levels there (clipped outside).
    cr = np.clip((ycc[:, :, 1].astype(np.int32) - 64) >> 2, 0, 31)
    cb = np.clip((ycc[:, :, 2].astype(np.int32) - 64) >> 2, 0, 31)
    idx = ((ycc[:, :, 0] >> 5).astype(np.int32) << 10) | (cr << 5) | cb
    n = _HIST_SIZE
    if not fg.any() or not bg.any():
        return np.zeros(ycc.shape[:2], np.float32), 0.0
    hf = np.bincount(idx[fg], minlength=n).astype(np.float32).reshape(_HIST_SHAPE)
    hb = np.bincount(idx[bg], minlength=n).astype(np.float32).reshape(_HIST_SHAPE)
    hf = _box3(hf / hf.sum()) + 1e-5
    hb = _box3(hb / hb.sum()) + 1e-5
    table = (hf / (hf + hb)).astype(np.float32, copy=False).ravel()
    post = table[idx]
    sep = float(post[fg].mean() - post[bg].mean())
    return post, sep


def _box3(hist: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``uniform_filter(hist, 3, mode="nearest")``: the same 1-D passes, less wrapping."""
    out = np.empty_like(hist)
    uniform_filter1d(hist, 3, 0, out, mode="nearest")
    for axis in range(1, hist.ndim):
        uniform_filter1d(out, 3, axis, out, mode="nearest")
    return out


def _keep_hand_components(mask8: npt.NDArray[np.uint8],
                          fg: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """Keep the connected components that hold the bones (drop stray background blobs)."""
    n, labels = cv2.connectedComponents(mask8, connectivity=8)
    if n <= 2:
        return mask8
    hits = np.bincount(labels[fg], minlength=n)
    hits[0] = 0
    keep = hits >= max(5, 0.1 * hits.max())
    return keep[labels].astype(np.uint8)


def _disc(center: npt.NDArray[np.float32], radius: float) -> npt.NDArray[np.bool_]:
    out = np.zeros((CANON_PX, CANON_PX), bool)
    cx, cy = float(center[0]), float(center[1])
    if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(radius)):
        return out
    # Only the disc's bounding box (plus a pixel) can be inside it.
    x0, x1 = max(math.floor(cx - radius) - 1, 0), min(math.ceil(cx + radius) + 2, CANON_PX)
    y0, y1 = max(math.floor(cy - radius) - 1, 0), min(math.ceil(cy + radius) + 2, CANON_PX)
    if x0 < x1 and y0 < y1:
        yy, xx = _GRID_Y[y0:y1], _GRID_X[:, x0:x1]
        out[y0:y1, x0:x1] = (xx - center[0]) ** 2 + (yy - center[1]) ** 2 <= radius ** 2
    return out


def _blur_ratio(lum: npt.NDArray[np.uint8], mask8: npt.NDArray[np.uint8]) -> float:
    """Gradient energy after / before a sigma-1.5 re-blur, on the hand's outline band.

    Near 0.3 for a sharp outline, towards 1 as the image is already blurred (re-blur
    method, Crete et al. 2007); independent of contrast.
    """
    band = cv2.morphologyEx(mask8, cv2.MORPH_GRADIENT, _K3).astype(bool)
    where = np.flatnonzero(band)  # the band's pixels in the order a boolean index takes them
    if len(where) < 20:
        where = _ALL_PX
    f = lum.astype(np.float32)
    e0 = _grad_energy(f, where)
    e1 = _grad_energy(cv2.GaussianBlur(f, (0, 0), 1.5), where)
    return float(min(e1 / e0, 1.0)) if e0 > 1e-6 else 1.0


def _grad_energy(f: npt.NDArray[np.float32], where: npt.NDArray[np.intp]) -> float:
    """Mean squared gradient of ``f`` at the flat pixel indices ``where``."""
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3).ravel()[where]
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3).ravel()[where]
    return float((gx * gx + gy * gy).mean())


def _wrap_deg(a: float) -> float:
    return (a + 180.0) % 360.0 - 180.0


class _CurveBand:
    """Per offset curve and angle bin: pixel count, hand pixels, their luminance, radius."""

    def __init__(self, dpalm: npt.NDArray[np.float32], center: npt.NDArray[np.float32],
                 mask: npt.NDArray[np.bool_], lum: npt.NDArray[np.uint8],
                 levels_px: npt.NDArray[np.float64]) -> None:
        n = len(levels_px)
        step = float(levels_px[1] - levels_px[0])
        # Flat pixel indices (row-major, as np.nonzero orders them): one gather per image.
        flat = np.flatnonzero((dpalm >= levels_px[0] - 0.75) & (dpalm <= levels_px[-1] + 0.75))
        d = dpalm.ravel()[flat]
        k = np.round((d - levels_px[0]) / step).astype(np.int32)
        sel = (k >= 0) & (k < n)
        sel[sel] &= np.abs(d[sel] - levels_px[k[sel]]) <= 0.75
        flat, k = flat[sel], k[sel]
        ys, xs = np.divmod(flat, dpalm.shape[1])
        dy, dx = ys - center[1], xs - center[0]
        bins = ((np.degrees(np.arctan2(dy, dx)) + 180.0) / _BIN_DEG).astype(np.int32) % _N_BINS
        idx = k * _N_BINS + bins
        on = mask.ravel()[flat].astype(np.float32)
        size = n * _N_BINS
        shape = (n, _N_BINS)
        self.n_px = np.bincount(idx, minlength=size).astype(np.float32).reshape(shape)
        self.n_on = np.bincount(idx, weights=on, minlength=size).reshape(shape)
        self.l_on = np.bincount(idx, weights=lum.ravel()[flat] * on, minlength=size).reshape(shape)
        self.r_sum = np.bincount(idx, weights=np.hypot(dy, dx), minlength=size).reshape(shape)
        # What _digits_on_curve reads per curve, computed for all curves at once.
        self.occupied = self.n_on >= 0.5 * np.maximum(self.n_px, 1)
        # Hand pixels per bin, widened by 3 bins (6 deg) for the next curve's support test.
        wrapped = np.concatenate([self.occupied[:, -3:], self.occupied, self.occupied[:, :3]],
                                 axis=1)
        self.on_wide = wrapped[:, :_N_BINS].copy()
        for s in range(1, 7):
            self.on_wide |= wrapped[:, s:s + _N_BINS]
        self.px = self.n_px / 1.5  # the band is ~1.5 px thick: arc length per bin
        self.lum = self.l_on / np.maximum(self.n_on, 1)
        self.rad = self.r_sum / np.maximum(self.n_px, 1)


class _ChainSamples:
    """Dense points along each landmark finger chain, with their palm distance and angle."""

    def __init__(self, lm: npt.NDArray[np.float32], dpalm: npt.NDArray[np.float32],
                 center: npt.NDArray[np.float32]) -> None:
        t = _CHAIN_T
        pts = lm[_CHAIN_IDX]  # (5, 4, 2)
        seg = pts[None, :, :3] + t * (pts[None, :, 1:] - pts[None, :, :3])  # (4, 5, 3, 2)
        dense = np.concatenate([seg.transpose(1, 2, 0, 3).reshape(5, 12, 2), pts[:, 3:]],
                               axis=1)  # (5, 13, 2), base to tip
        h, w = dpalm.shape
        xi = np.minimum(np.maximum(np.rint(dense[..., 0]).astype(int), 0), w - 1)
        yi = np.minimum(np.maximum(np.rint(dense[..., 1]).astype(int), 0), h - 1)
        self.d = dpalm[yi, xi]
        self.d_max = self.d.max(axis=1)
        self.d_argmax = self.d.argmax(axis=1)
        self.deg = np.degrees(np.arctan2(dense[..., 1] - center[1], dense[..., 0] - center[0]))


def _landmark_crossings(d: float, chains: _ChainSamples, fw: float) -> dict[int, float]:
    """Angle (deg, around the palm centre) where each landmark finger meets level ``d``.

    A finger counts when its bone line comes within half a finger width of the curve
    (its pixels then reach it): a curled finger's knuckle seen from the side does, like
    in the mask. The angle is where the bone first reaches ``d`` (else its farthest point).
    """
    reach = chains.d >= d
    k = np.where(reach.any(axis=1), reach.argmax(axis=1), chains.d_argmax)
    deg = chains.deg[_FINGER_IDX, k].tolist()
    return {f: deg[f] for f in np.nonzero(chains.d_max >= d - 0.5 * fw)[0].tolist()}


def _digits_on_curve(level: int, d: float, band: _CurveBand, chains: _ChainSamples,
                     wrist_deg: float, fw: float, need_runs: bool = True) -> dict[str, Any]:
    """Runs of hand pixels along curve ``level`` (``d`` px outside the palm polygon).

    The per-run work is plain Python on short lists: ~180 bins, a handful of runs, where
    numpy's per-call overhead would dominate.
    """
    occupied = band.occupied[level]
    on_wide = band.on_wide[level]
    if not need_runs:
        return {"on": on_wide}
    lm_deg = _landmark_crossings(d, chains, fw)
    out: list[dict[str, Any]] = []
    if occupied.any() and not occupied.all():
        start = int(np.argmin(occupied))  # a background bin: scan from there, no wrap-around
        order = np.concatenate([_BIN_ORDER[start:], _BIN_ORDER[:start]])  # rolled by -start
        seq = np.zeros(_N_BINS + 2, np.int8)
        seq[1:-1] = occupied[order]
        edges = seq[1:] - seq[:-1]
        px, lum, rad = (_rolled(a[level].tolist(), start) for a in (band.px, band.lum, band.rad))
        cos, sin = _rolled(_COS_LIST, start), _rolled(_SIN_LIST, start)
        for i0, j0 in zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist(),
                          strict=True):
            for i, j in _split_run(i0, j0, px, lum, fw):
                width = sum(px[i:j])
                if width < 0.35 * fw:
                    continue
                mid = math.degrees(math.atan2(sum(map(operator.mul, sin[i:j], px[i:j])),
                                              sum(map(operator.mul, cos[i:j], px[i:j]))))
                if abs(_wrap_deg(mid - wrist_deg)) < 40.0:
                    continue  # forearm / wrist side
                r_eff = max(sum(rad[i:j]) / (j - i), 1.0)
                half = math.degrees((0.5 * width + 0.6 * fw) / r_eff)
                fingers = [f for f, a in lm_deg.items() if abs(_wrap_deg(a - mid)) <= half]
                nearest = min(fingers, key=lambda f: abs(_wrap_deg(lm_deg[f] - mid)),
                              default=-1)
                out.append({"deg": mid, "width": width, "finger": nearest,
                            "n_fingers": len(fingers), "bins": order[i:j], "r": r_eff})
    return {"runs": out, "on": on_wide, "unmatched": sum(r["finger"] < 0 for r in out),
            "lm_crossings": len(lm_deg), "lm_deg": lm_deg}


def _rolled(values: list[float], start: int) -> list[float]:
    """``values`` rotated to begin at ``start`` (like ``np.roll(values, -start)``)."""
    return values[start:] + values[:start]


def _split_run(i0: int, j0: int, px: list[float], lum: list[float],
               fw: float) -> list[tuple[int, int]]:
    """Split bins [i0, j0) wider than 1.4 finger widths at luminance valleys (creases)."""
    n = j0 - i0
    width = sum(px[i0:j0])
    if width < 1.4 * fw or n < 5:
        return [(i0, j0)]
    raw = lum[i0:j0]
    prof = [raw[0]] + [0.25 * raw[k - 1] + 0.5 * raw[k] + 0.25 * raw[k + 1]
                       for k in range(1, n - 1)] + [raw[-1]]
    arc = list(itertools.accumulate(px[i0:j0]))
    left = list(itertools.accumulate(prof, max))
    right = list(itertools.accumulate(prof[::-1], max))[::-1]
    scored = sorted(((min(left[k - 1], right[k + 1]) - prof[k], k) for k in range(1, n - 1)
                     if prof[k] <= prof[k - 1] and prof[k] <= prof[k + 1]), reverse=True)
    thr = max(5.0, 0.07 * sorted(prof)[n // 2])
    cuts: list[int] = []
    for dep, k in scored:
        if dep < thr:
            break
        if all(abs(arc[k] - arc[b]) >= 0.5 * fw for b in (0, *cuts, n - 1)):
            cuts.append(k)
    bounds = [0, *sorted(cuts), n]
    return [(i0 + a, i0 + b) for a, b in itertools.pairwise(bounds) if b > a]


def _robust_count(counts: list[int]) -> int:
    """The largest count seen on at least two of the curves (else the median)."""
    for n in sorted(set(counts), reverse=True):
        if sum(c >= n for c in counts) >= 2:
            return n
    return int(np.median(counts))


def _support(mask: npt.NDArray[np.uint8], lm: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Per finger, the fraction of points along its distal chain that lie on the hand mask.

    Five points on each of the two distal segments, stopping short of the tip landmark
    (which sits on the fingertip's edge).
    """
    pts = lm[DISTAL_IDX]  # (5, 3, 2)
    t, t2 = _SUPPORT_T, _SUPPORT_T2
    p = np.concatenate([pts[:, :1] + t * (pts[:, 1:2] - pts[:, :1]),
                        pts[:, 1:2] + t2 * (pts[:, 2:3] - pts[:, 1:2])], axis=1)
    on = _lookup(p, mask)[0]
    return np.count_nonzero(on, axis=1) / on.shape[1]


class _Bones(NamedTuple):
    """Each finger's (thumb..pinky) tip landmark, the unit vectors along and across its
    last bone, and that bone's length (canonical px): the frame :func:`_along_last_bone`
    places points in."""

    tip: npt.NDArray[np.float32]
    u: npt.NDArray[np.float32]
    v: npt.NDArray[np.float32]
    length: npt.NDArray[np.float32]


def _last_bones(lm: npt.NDArray[np.float32]) -> _Bones:
    """:class:`_Bones` of a hand, computed once for :func:`_reach` and :func:`_tip_step`."""
    tip = lm[DISTAL_IDX[:, 2]]
    axis = tip - lm[DISTAL_IDX[:, 1]]
    norm = np.linalg.norm(axis, axis=1)
    u = axis / np.maximum(norm, 1e-6)[:, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)
    return _Bones(tip, u, v, norm)


def _along_last_bone(bones: _Bones, fw: float, along: npt.NDArray[np.float32],
                     across: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Points on each finger's last-bone axis, ``along`` finger widths past its tip
    landmark (negative: inside the finger), ``across`` widths to its side:
    (5, len(along), len(across), 2)."""
    return (bones.tip[:, None, None, :] + along * fw * bones.u[:, None, None, :]
            + across * fw * bones.v[:, None, None, :])


def _reach(mask: npt.NDArray[np.uint8], bones: _Bones, fw: float) -> list[float | None]:
    """Per finger (thumb..pinky), how far the hand's mask goes on past the tip landmark.

    Measured in finger widths along the finger's last bone, up to 3 (the mask itself
    ends ``MASK_GATE_FW`` widths from the skeleton): the length of the strip, about a
    finger wide, on the mask straight on from the tip. The tip landmark sits at the end
    of a real finger, so this is usually under one width; a finger the picture draws
    longer than the skeleton the landmark model fits to it (a stretched finger) goes on
    past it. ``None`` where the strip is no strip (the mask on both sides of it too: skin behind the
    finger, such as a face) or the last bone has no direction.
    """
    p = _along_last_bone(bones, fw, _REACH_S, _REACH_ACROSS)  # (5, steps, 5, 2)
    on = _lookup(p, mask)[0].astype(bool)
    strip = on[..., :3].any(axis=2)
    sides = on[..., 3:].all(axis=2)
    n = strip.shape[1]
    steps = np.where(strip.all(axis=1), n, np.argmax(~strip, axis=1))  # first step off
    blob = (sides & (np.arange(n) < steps[:, None])).any(axis=1)
    return [None if blob[k] or bones.length[k] < 1.0 else round(int(steps[k]) * _REACH_STEP, 1)
            for k in range(5)]


def _tip_step(ycc: npt.NDArray[np.uint8], bones: _Bones, fw: float) -> list[float | None]:
    """Per finger (thumb..pinky), how much its colour changes at its tip landmark.

    The distance (YCrCb levels) between the finger's mean colour just inside the tip
    landmark and just past it, along its last bone. A real finger ends there (its
    outline, a nail, the background beyond), so the step is large whatever lies behind,
    a face included; where a picture draws the finger on past the tip the landmark model
    put (a stretched finger), the same skin goes on and the step is small. ``None``
    where the last bone has no direction.
    """
    p = _along_last_bone(bones, fw, _STEP_S, _STEP_ACROSS)  # (5, steps, 3, 2)
    xi = np.clip(np.rint(p[..., 0]).astype(int), 0, CANON_PX - 1)
    yi = np.clip(np.rint(p[..., 1]).astype(int), 0, CANON_PX - 1)
    colour = ycc[yi, xi].astype(np.float64).mean(axis=2)  # (5, steps, 3)
    step = np.linalg.norm(colour[:, _STEP_INSIDE].mean(axis=1)
                          - colour[:, ~_STEP_INSIDE].mean(axis=1), axis=1)
    return [None if bones.length[k] < 1.0 else round(float(step[k]), 1) for k in range(5)]


def _lookup(p: npt.NDArray[np.float32], *imgs: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """Each of ``imgs`` at the nearest pixel of points ``p`` (..., 2); 0 outside the crop."""
    xi, yi = np.rint(p[..., 0]).astype(int), np.rint(p[..., 1]).astype(int)
    inside = (xi >= 0) & (xi < CANON_PX) & (yi >= 0) & (yi < CANON_PX)
    yc = np.minimum(np.maximum(yi, 0), CANON_PX - 1)
    xc = np.minimum(np.maximum(xi, 0), CANON_PX - 1)
    return [np.where(inside, img[yc, xc], 0) for img in imgs]


def _gaps(mask: npt.NDArray[np.bool_], lum: npt.NDArray[np.uint8], lm: npt.NDArray[np.float32],
          ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Background fraction and luminance valley between each pair of adjacent fingers.

    Sampled on segments joining the fingers' middle and distal points (PIP-DIP midpoint
    and DIP; IP and IP-TIP midpoint for the thumb). ``gap`` is the fraction of non-hand
    pixels on the central 60 % of the segments; ``valley`` the relative depth of the
    darkest point there below the fingers' own brightness (a crease between touching
    fingers, ~0 inside one blob).
    """
    pts = gap_points(lm)  # (5, 2, 2)
    pa, pb = pts[:4, :, None], pts[1:, :, None]  # (4, 2, 1, 2)
    p = pa + _GAP_S * (pb - pa)  # (4, 2, 21, 2)
    m, lv = _lookup(p, mask, lum)
    m = m.astype(bool)
    lv = lv.astype(np.float32)
    gaps = 1.0 - np.count_nonzero(m[..., 4:17], axis=2) / 13
    ends = np.minimum(lv[..., :4].max(axis=2), lv[..., 17:].max(axis=2))
    valleys = np.maximum(ends - lv[..., 5:16].min(axis=2), 0.0) / np.maximum(ends, 1.0)
    return (gaps[:, 0] + gaps[:, 1]) / 2, (valleys[:, 0] + valleys[:, 1]) / 2
