"""Renderers of synthetic hand defects: one RGB frame plus its landmarks in, one frame out.

Each ``render_<name>(image, hand, rng, params)`` draws one defect on the hand whose
21 landmarks (source pixels) are ``hand.landmarks_px`` and returns a new RGB uint8 image;
the input is never modified. ``params`` come from :func:`choose_params`, drawn once per
clip so that the defect stays the same from frame to frame, and ``rng`` only adds
per-frame grain. Everything is numpy/cv2 and works on a crop around the hand.

Example:
    >>> rng = np.random.default_rng(0)
    >>> params = choose_params("extra_finger", [hand], rng)
    >>> out = render_extra_finger(image, hand, rng, params)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vidhand.hand_model import FINGERS
from vidhand.types import Hand

Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.float32]

#: Defect name -> the report event types that count as a type match.
EXPECTED_TYPES: dict[str, tuple[str, ...]] = {
    "extra_finger": ("extra_finger", "finger_count_change"),
    "missing_finger": ("missing_finger", "finger_count_change"),
    "fused_fingers": ("fused_fingers", "finger_count_change"),
    "mirror_flip": ("handedness_flip", "topology_change"),
    "vanish": ("hand_vanish", "low_confidence"),
    "stretch": ("proportion_drift",),
    "melt": ("low_confidence", "hand_vanish"),
}

_LONG_FINGERS = ("index", "middle", "ring", "pinky")
_ADJACENT_PAIRS = (("index", "middle"), ("middle", "ring"), ("ring", "pinky"))


# --------------------------------------------------------------------------- geometry


def finger_width_px(lm: npt.NDArray[np.float32]) -> float:
    """Typical finger width in pixels: 0.9 x the mean spacing of the four finger MCPs."""
    spacing = np.linalg.norm(np.diff(lm[[5, 9, 13, 17]], axis=0), axis=1).mean()
    palm = np.linalg.norm(lm[9] - lm[0])  # fallback when the MCPs overlap (side view)
    return float(max(0.9 * spacing, 0.18 * palm, 3.0))


def finger_extension(lm: npt.NDArray[np.float32], finger: str) -> float:
    """How straight and outstretched a finger is, about 0 (curled) to 1 (straight).

    The ratio of the tip's distance from the wrist to the MCP's, mapped so that a
    tip no farther than its knuckle scores 0 and a straight finger of normal length 1,
    times the cosine between the proximal and distal finger segments.
    """
    mcp, pip, _dip, tip = (lm[i] for i in FINGERS[finger])
    wrist = lm[0]
    reach = np.linalg.norm(tip - wrist) / max(np.linalg.norm(mcp - wrist), 1e-3)
    a, b = pip - mcp, tip - pip
    cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-6))
    return float(np.clip((reach - 1.0) / 0.7, 0.0, 1.0) * max(cos, 0.0))


def _roi(hand: Hand, shape: tuple[int, ...], pad: float = 0.75) -> tuple[int, int, int, int]:
    """Crop (x0, y0, x1, y1) around the hand, padded by ``pad`` x its size, clipped."""
    x0, y0, x1, y1 = hand.bbox_xyxy
    p = pad * hand.size_px
    h, w = shape[:2]
    return (int(max(0, np.floor(x0 - p))), int(max(0, np.floor(y0 - p))),
            int(min(w, np.ceil(x1 + p))), int(min(h, np.ceil(y1 + p))))


def _pt(p: npt.ArrayLike) -> tuple[int, int]:
    q = np.asarray(p, dtype=np.float64)
    return round(float(q[0]) * 16), round(float(q[1]) * 16)


def _draw_chain(mask: Mask, pts: npt.ArrayLike, radius: float, value: float = 1.0) -> None:
    """Draw a thick round-capped polyline (sub-pixel, 4 fractional bits) into ``mask``."""
    pts = np.asarray(pts, dtype=np.float64)
    thick = max(1, round(2 * radius))
    for a, b in itertools.pairwise(pts):
        cv2.line(mask, _pt(a), _pt(b), value, thick, cv2.LINE_AA, shift=4)
    for p in pts:
        cv2.circle(mask, _pt(p), max(1, round(radius * 16)), value, -1, cv2.LINE_AA, shift=4)


def hand_mask(shape: tuple[int, int], lm: npt.NDArray[np.float32], grow: float = 0.15,
              width: float | None = None) -> Mask:
    """A float mask of the whole hand (palm polygon plus finger capsules), not feathered.

    Args:
        shape: (h, w) of the mask.
        lm: (21, 2) landmarks in the mask's pixel coordinates.
        grow: extra margin around fingers and palm, as a fraction of a finger width.
        width: finger width (default: :func:`finger_width_px`).
    """
    w = finger_width_px(lm) if width is None else width
    m = np.zeros(shape, np.float32)
    palm = lm[[0, 1, 2, 5, 9, 13, 17]].astype(np.float64)
    hull = cv2.convexHull(np.rint(palm * 16).astype(np.int32))
    cv2.fillConvexPoly(m, hull, 1.0, cv2.LINE_AA, shift=4)
    # Landmarks sit on the bones: skin reaches about half a finger width beyond them.
    k = max(1, round(0.4 * w))
    m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    r = w * (0.5 + grow)
    _draw_chain(m, lm[[0, 17]], r)
    _draw_chain(m, lm[[0, 1]], r)
    for chain in FINGERS.values():
        _draw_chain(m, lm[list(chain)], r)
    g = round(grow * w)
    if g > 0:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * g + 1, 2 * g + 1)))
    return m


def feather(mask: Mask, sigma: float) -> Mask:
    """Gaussian-soften a mask (sigma in pixels, at least 0.5)."""
    s = max(0.5, float(sigma))
    return np.clip(cv2.GaussianBlur(mask, (0, 0), s), 0.0, 1.0)


def _composite(dst: npt.NDArray[np.float32], src: npt.NDArray[np.float32],
               alpha: Mask) -> npt.NDArray[np.float32]:
    a = alpha[..., None]
    return dst * (1.0 - a) + src * a


def _grain(rng: np.random.Generator, ref: npt.NDArray[np.float32], like: npt.NDArray[np.float32],
           mask: Mask) -> npt.NDArray[np.float32]:
    """Noise with the high-frequency strength of ``ref`` where ``mask`` is off.

    Filled regions come out smooth; real footage has sensor/compression grain. This
    adds grain of the surrounding level so the patch does not look airbrushed.
    """
    hf = ref - cv2.GaussianBlur(ref, (0, 0), 1.2)
    ring = mask < 0.05
    # Robust level (MAD): edges in the ring (hair, outlines) must not count as grain.
    std = float(1.4826 * np.median(np.abs(hf[ring]))) if ring.any() else 1.0
    noise = rng.normal(0.0, 1.0, like.shape[:2]).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6) * 1.6
    return like + (min(std, 3.0) * noise)[..., None]


def fill_background(crop: npt.NDArray[np.float32], hole: Mask,
                    plate: npt.NDArray[np.float32] | None = None,
                    plate_valid: Mask | None = None, exclude: Mask | None = None
                    ) -> npt.NDArray[np.float32]:
    """Fill ``hole`` (> 0.5) of ``crop`` with what is plausibly behind it.

    Where a background ``plate`` (pixels seen in other frames while the hand was
    elsewhere) is valid, it is used after matching its colour to this frame's ring
    around the hole. Elsewhere a push-pull fill (a mask-weighted image pyramid) spreads
    the surrounding colours smoothly inwards: a soft, believable smear rather than the
    streaks of cv2.inpaint on large holes.
    """
    known = (hole <= 0.5).astype(np.float32)
    if exclude is not None:  # e.g. the other hand: never smear it into the hole
        known *= (exclude <= 0.05).astype(np.float32)
    out = _push_pull(crop, known)
    if plate is not None and plate_valid is not None:
        ring = (cv2.dilate(hole, np.ones((9, 9), np.uint8)) > 0.5) & (hole <= 0.5)
        ok = ring & (plate_valid > 0.5)
        if ok.sum() > 20:
            gain = (crop[ok].mean(axis=0) + 1.0) / (plate[ok].mean(axis=0) + 1.0)
            diff = float(np.abs(plate[ok] * gain - crop[ok]).mean())
            if diff < 18.0:  # the plate agrees with this frame around the hole
                pv = feather((plate_valid > 0.5).astype(np.float32), 2.0)
                out = _composite(out, np.clip(plate * gain, 0, 255), pv)
    return out


def _push_pull(img: npt.NDArray[np.float32], known: Mask) -> npt.NDArray[np.float32]:
    """Fill pixels where ``known`` is 0 by mask-weighted downsampling then upsampling."""
    levels = [(img * known[..., None], known.astype(np.float32))]
    while min(levels[-1][1].shape) > 3 and levels[-1][1].min() < 0.5:
        pi, pw = levels[-1]
        size = (max(1, pw.shape[1] // 2), max(1, pw.shape[0] // 2))
        pi = cv2.resize(cv2.GaussianBlur(pi, (0, 0), 0.8), size, interpolation=cv2.INTER_AREA)
        pw = cv2.resize(cv2.GaussianBlur(pw, (0, 0), 0.8), size, interpolation=cv2.INTER_AREA)
        levels.append((pi, pw))
    pi, pw = levels[-1]
    filled = pi / np.maximum(pw, 1e-6)[..., None]
    if pw.max() < 1e-6:  # nothing known at all: mean grey rather than black
        filled[:] = 128.0
    for pi, pw in reversed(levels[:-1]):
        up = cv2.resize(filled, (pw.shape[1], pw.shape[0]), interpolation=cv2.INTER_LINEAR)
        own = pi / np.maximum(pw, 1e-6)[..., None]
        a = np.clip(pw * 2.0, 0.0, 1.0)[..., None]
        filled = own * a + up * (1.0 - a)
    k = known[..., None]
    return img * k + filled * (1.0 - k)


def _polyline_project(pts: npt.NDArray[np.float64], chain: npt.NDArray[np.float64]
                      ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Nearest point on a polyline and the distance to it, for every row of ``pts``."""
    best_d = np.full(len(pts), np.inf)
    best_q = np.zeros_like(pts)
    for a, b in itertools.pairwise(chain):
        ab = b - a
        t = np.clip(((pts - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        q = a + t[:, None] * ab
        d = np.linalg.norm(pts - q, axis=1)
        better = d < best_d
        best_d[better] = d[better]
        best_q[better] = q[better]
    return best_q, best_d


def _split(image: Image, hand: Hand, pad: float = 0.75
           ) -> tuple[tuple[int, int, int, int], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    x0, y0, x1, y1 = _roi(hand, image.shape, pad)
    crop = image[y0:y1, x0:x1].astype(np.float32)
    lm = hand.landmarks_px.astype(np.float32) - np.array([x0, y0], np.float32)
    return (x0, y0, x1, y1), crop, lm


def _paste(image: Image, box: tuple[int, int, int, int], crop: npt.NDArray[np.float32],
           params: dict[str, Any] | None = None) -> Image:
    """Write ``crop`` back into a copy of ``image``, leaving other hands (``exclude``) alone."""
    out = image.copy()
    x0, y0, x1, y1 = box
    excl = (params or {}).get("exclude")
    if excl is not None:
        keep = feather((excl[y0:y1, x0:x1] > 0.5).astype(np.float32), 1.5)
        crop = _composite(crop, image[y0:y1, x0:x1].astype(np.float32), keep)
    out[y0:y1, x0:x1] = np.clip(np.rint(crop), 0, 255).astype(np.uint8)
    return out


def _sources(params: dict[str, Any], box: tuple[int, int, int, int]) -> dict[str, Any]:
    """The crop's share of the full-frame ``background``/``background_valid``/``exclude``."""
    x0, y0, x1, y1 = box
    out: dict[str, Any] = {}
    plate, valid = params.get("background"), params.get("background_valid")
    if plate is not None and valid is not None:
        out["plate"] = plate[y0:y1, x0:x1].astype(np.float32)
        out["plate_valid"] = valid[y0:y1, x0:x1].astype(np.float32)
    if params.get("exclude") is not None:
        out["exclude"] = params["exclude"][y0:y1, x0:x1]
    return out


def _finger_masks(shape: tuple[int, int], lm: npt.NDArray[np.float32], width: float,
                  names: Sequence[str], radius: float = 0.5) -> Mask:
    m = np.zeros(shape, np.float32)
    for name in names:
        _draw_chain(m, lm[list(FINGERS[name][1:])], radius * width)
    return m


def _rotate(v: npt.NDArray[np.float64], deg: float) -> npt.NDArray[np.float64]:
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


# --------------------------------------------------------------------------- defects


def render_extra_finger(image: Image, hand: Hand, rng: np.random.Generator,
                        params: dict[str, Any]) -> Image:
    """A sixth digit: a clone of the pinky (or index) splayed out beside it.

    Params: ``donor`` ("pinky"|"index"), ``splay_deg`` (angle away from the donor),
    ``length_scale`` (clone length / donor length), ``gap`` (offset in finger spacings).
    """
    donor = params.get("donor", "pinky")
    box, crop, lm = _split(image, hand, pad=0.9)
    lm64 = lm.astype(np.float64)
    width = finger_width_px(lm)
    chain = list(FINGERS[donor])
    neighbour = 13 if donor == "pinky" else 9
    out_vec = lm64[chain[0]] - lm64[neighbour]
    anchor = lm64[chain[0]]
    if finger_extension(lm, donor) < 0.35:
        # A curled donor would clone into a stub: borrow the straightest finger's pixels.
        src = max(_LONG_FINGERS, key=lambda f: finger_extension(lm, f))
        chain = list(FINGERS[src])
    mcp, tip = lm64[chain[0]], lm64[chain[3]]
    spacing = max(float(np.linalg.norm(out_vec)), 0.8 * width)
    out_dir = out_vec / max(float(np.linalg.norm(out_vec)), 1e-6)
    base = anchor + out_dir * spacing * float(params.get("gap", 1.0)) + (lm64[0] - anchor) * 0.1
    v = tip - mcp
    splay = float(params.get("splay_deg", 16.0))
    cands = [_rotate(v, splay), _rotate(v, -splay)]
    v2 = max(cands, key=lambda c: float(c @ out_dir))
    new_tip = base + v2 * float(params.get("length_scale", 0.9))
    # Similarity transform mapping the donor (mcp -> tip) onto the new digit (base -> new_tip).
    scale = np.linalg.norm(new_tip - base) / max(np.linalg.norm(v), 1e-6)
    ang = np.arctan2(*(new_tip - base)[::-1]) - np.arctan2(*v[::-1])
    c, s = scale * np.cos(ang), scale * np.sin(ang)
    rot = np.array([[c, -s], [s, c]])
    mat = np.hstack([rot, (base - rot @ mcp)[:, None]]).astype(np.float64)
    h, w = crop.shape[:2]
    clone = cv2.warpAffine(crop, mat, (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT)
    # Alpha: the donor's own (bent) finger capsule, extended a little into the palm so the
    # clone grows out of the hand, then moved with the same transform.
    donor_alpha = np.zeros((h, w), np.float32)
    root = mcp + (lm64[0] - mcp) * 0.22
    _draw_chain(donor_alpha, np.vstack([root, lm64[chain]]), 0.46 * width)
    donor_alpha = feather(donor_alpha, 0.12 * width)
    # Fade the root in along the finger axis so the junction with the palm is soft.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    axis = v / max(np.linalg.norm(v), 1e-6)
    along = ((xx - mcp[0]) * axis[0] + (yy - mcp[1]) * axis[1]) / max(np.linalg.norm(v), 1e-6)
    donor_alpha *= np.clip((along + 0.2) / 0.3, 0.0, 1.0)
    alpha = cv2.warpAffine(donor_alpha, mat, (w, h), flags=cv2.INTER_LINEAR)
    # The new digit sits behind the real fingers, never on top of them.
    real = feather(_finger_masks((h, w), lm, width, _LONG_FINGERS, 0.55), 0.1 * width)
    alpha *= 1.0 - real
    # Local colour match: the clone's mean toward the skin where it attaches.
    attach = np.zeros((h, w), np.float32)
    cv2.circle(attach, _pt(mcp + (lm64[0] - mcp) * 0.15), max(1, round(width * 16)), 1.0, -1,
               shift=4)
    sel_a, sel_c = attach > 0.5, alpha > 0.5
    if sel_a.sum() > 5 and sel_c.sum() > 5:
        gain = (crop[sel_a].mean(axis=0) + 1) / (clone[sel_c].mean(axis=0) + 1)
        clone *= np.clip(gain, 0.85, 1.18)
    # A faint contact shadow where the extra digit meets the neighbouring real one.
    rim = (cv2.dilate(alpha, np.ones((3, 3), np.uint8)) - alpha).clip(0, 1)
    shadow = feather(rim, 0.08 * width)
    base_img = crop * (1.0 - 0.12 * shadow * (1 - real))[..., None]
    out = _composite(base_img, clone, alpha)
    return _paste(image, box, out, params)


def render_missing_finger(image: Image, hand: Hand, rng: np.random.Generator,
                          params: dict[str, Any]) -> Image:
    """One finger removed above its knuckle; the hole shows what is behind it.

    Params: ``finger`` (index/middle/ring/pinky/thumb), ``keep`` (fraction of the
    proximal phalanx kept as a stump, default 0.35).
    """
    finger = params.get("finger", "middle")
    box, crop, lm = _split(image, hand)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    chain = lm[list(FINGERS[finger])].astype(np.float64)
    keep = float(params.get("keep", 0.35))
    start = chain[0] + (chain[1] - chain[0]) * keep
    tip_ext = chain[3] + (chain[3] - chain[2]) / max(np.linalg.norm(chain[3] - chain[2]), 1e-6) * (
        0.25 * width)
    hole = np.zeros((h, w), np.float32)
    _draw_chain(hole, np.vstack([start, chain[1:], tip_ext]), 0.6 * width)
    others = [f for f in FINGERS if f != finger]
    rest = hand_mask((h, w), lm, grow=0.1, width=width)
    gone = np.zeros((h, w), np.float32)
    _draw_chain(gone, np.vstack([chain[0], chain[1:], tip_ext]), 0.75 * width)
    # Known pixels for the fill: neither the hand nor the removed finger.
    hole_for_fill = np.maximum(rest, gone)
    filled = fill_background(crop, hole_for_fill, **_sources(params, box))
    filled = _grain(rng, crop, filled, hole_for_fill)
    alpha = feather(hole, 0.14 * width)
    alpha *= 1.0 - feather(_finger_masks((h, w), lm, width, others, 0.5), 0.08 * width)
    return _paste(image, box, _composite(crop, filled, alpha), params)


def render_fused_fingers(image: Image, hand: Hand, rng: np.random.Generator,
                         params: dict[str, Any]) -> Image:
    """Two adjacent fingers merged into one wide digit (the gap filled with their skin).

    Params: ``pair`` (two adjacent finger names, e.g. ``["middle", "ring"]``).
    """
    fa, fb = params.get("pair", ("middle", "ring"))
    box, crop, lm = _split(image, hand)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    ca = lm[list(FINGERS[fa])].astype(np.float64)
    cb = lm[list(FINGERS[fb])].astype(np.float64)
    # Start the web just above the knuckles; the skin between MCPs is already palm.
    ca[0] = ca[0] + (ca[1] - ca[0]) * 0.15
    cb[0] = cb[0] + (cb[1] - cb[0]) * 0.15
    region = np.zeros((h, w), np.float32)
    poly = np.vstack([ca, cb[::-1]])
    cv2.fillPoly(region, [np.rint(poly * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    # A rounded common tip: the hull of both fingertip caps.
    caps = []
    for tip, dip in ((ca[3], ca[2]), (cb[3], cb[2])):
        d = (tip - dip) / max(np.linalg.norm(tip - dip), 1e-6)
        for ang in np.linspace(-90, 90, 7):
            caps.append(tip + _rotate(d, ang) * 0.5 * width)
    caps.extend([ca[2], cb[2]])
    hull = cv2.convexHull(np.rint(np.array(caps) * 16).astype(np.int32))
    cv2.fillConvexPoly(region, hull, 1.0, cv2.LINE_AA, shift=4)
    ys, xs = np.nonzero(region > 0.01)
    if len(xs) == 0:
        return image.copy()
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    qa, da = _polyline_project(pts, ca)
    qb, db = _polyline_project(pts, cb)
    smooth = cv2.GaussianBlur(crop, (0, 0), max(0.8, 0.18 * width))

    def sample(q: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
        mx = q[:, 0].astype(np.float32).reshape(-1, 1)
        my = q[:, 1].astype(np.float32).reshape(-1, 1)
        return cv2.remap(smooth, mx, my, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT).reshape(-1, 3)

    wa = (db / np.maximum(da + db, 1e-6))[:, None]
    skin = sample(qa) * wa + sample(qb) * (1 - wa)
    fill = crop.copy()
    fill[ys, xs] = skin
    fill = _grain(rng, crop, fill, region)
    # Keep the real fingers' own texture near their centre lines; fill the web between.
    keep = np.zeros((h, w), np.float32)
    keep[ys, xs] = np.clip(np.minimum(da, db) / (0.3 * width) - 0.6, 0.0, 1.0)
    alpha = feather(keep * (region > 0.5), 0.12 * width) * feather(region, 0.08 * width)
    out = _composite(crop, fill, alpha)
    # Blur the seams so the two digits read as one.
    seam = feather(region, 0.25 * width)
    seam = seam * (1 - seam) * 4.0
    soft = cv2.GaussianBlur(out, (0, 0), max(0.6, 0.1 * width))
    out = _composite(out, soft, np.clip(seam, 0, 1) * 0.8)
    return _paste(image, box, out, params)


def render_mirror_flip(image: Image, hand: Hand, rng: np.random.Generator,
                       params: dict[str, Any]) -> Image:
    """The hand mirrored about its own wrist-to-middle-finger axis (a left becomes a right).

    Params: none needed.
    """
    box, crop, lm = _split(image, hand)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    lm64 = lm.astype(np.float64)
    centre = lm64[[0, 5, 9, 13, 17]].mean(axis=0)
    d = lm64[9] - lm64[0]
    d /= max(float(np.linalg.norm(d)), 1e-6)
    refl = 2.0 * np.outer(d, d) - np.eye(2)
    mat = np.hstack([refl, (centre - refl @ centre)[:, None]])
    flipped = cv2.warpAffine(crop, mat, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)
    mask = hand_mask((h, w), lm, grow=0.2, width=width)
    fmask = cv2.warpAffine(mask, mat, (w, h), flags=cv2.INTER_LINEAR)
    hole = np.maximum(mask, fmask)
    bg = _grain(rng, crop, fill_background(crop, hole, **_sources(params, box)), hole)
    out = _composite(crop, bg, feather(mask, 0.2 * width))
    out = _composite(out, flipped, feather(cv2.erode(fmask, np.ones((3, 3), np.uint8)),
                                           0.18 * width))
    return _paste(image, box, out, params)


def render_vanish(image: Image, hand: Hand, rng: np.random.Generator,
                  params: dict[str, Any]) -> Image:
    """The hand replaced by what is behind it. ``strength`` (0..1) fades it out."""
    strength = float(params.get("strength", 1.0))
    box, crop, lm = _split(image, hand)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    mask = hand_mask((h, w), lm, grow=0.35, width=width)
    bg = _grain(rng, crop, fill_background(crop, mask, **_sources(params, box)), mask)
    alpha = feather(mask, 0.3 * width) * strength
    return _paste(image, box, _composite(crop, bg, alpha), params)


def render_stretch(image: Image, hand: Hand, rng: np.random.Generator,
                   params: dict[str, Any]) -> Image:
    """One finger elongated along its axis by ``factor`` (a local remap warp).

    Params: ``finger`` (default "index"), ``factor`` (default 1.45).
    """
    finger = params.get("finger", "index")
    factor = float(params.get("factor", 1.45))
    box, crop, lm = _split(image, hand, pad=1.0)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    chain = lm[list(FINGERS[finger])].astype(np.float64)
    base, tip = chain[0], chain[3]
    length = max(float(np.linalg.norm(tip - base)), 1e-6)
    ax = (tip - base) / length
    perp = np.array([-ax[1], ax[0]])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = (xx - base[0]) * ax[0] + (yy - base[1]) * ax[1]
    c = (xx - base[0]) * perp[0] + (yy - base[1]) * perp[1]
    # The bent finger is not a straight line: measure the sideways distance to the chain.
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
    _q, dist = _polyline_project(pts, chain)
    dist = dist.reshape(h, w)
    # The proximal part (MCP..DIP) stretches; the distal phalanx and nail keep their size
    # and are carried out to the new tip, as in generated hands.
    extra = (factor - 1.0) * length
    l_dip = float(np.clip((chain[2] - base) @ ax, 0.3 * length, 0.95 * length))
    margin = 0.6 * length
    end = length + extra
    disp = np.select(
        [a <= 0, a <= l_dip + extra, a <= end, a <= end + margin],
        [0.0, a * extra / (l_dip + extra), extra, extra * (1 - (a - end) / margin)], 0.0)
    # Full effect along the finger (and its extension), fading out sideways.
    ext = np.where(a > length, np.abs(c), dist)
    wgt = np.clip(1.0 - (ext - 0.5 * width) / (0.55 * width), 0.0, 1.0)
    wgt = wgt * wgt * (3 - 2 * wgt)
    shift = disp * wgt
    map_x = (xx - ax[0] * shift).astype(np.float32)
    map_y = (yy - ax[1] * shift).astype(np.float32)
    out = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return _paste(image, box, out, params)


def render_melt(image: Image, hand: Hand, rng: np.random.Generator,
                params: dict[str, Any]) -> Image:
    """The hand liquefies into a smeared, colour-bled blob that stays roughly in place.

    Params: ``strength`` (0..1, ramps in), ``noise`` (a (k, k, 2) array of smooth-noise
    control values, fixed per clip), ``phase`` (slow drift of the noise over time),
    ``drip_deg`` (direction of the smear, degrees from +x, default 90 = down).
    """
    strength = float(params.get("strength", 1.0))
    box, crop, lm = _split(image, hand, pad=0.6)
    h, w = crop.shape[:2]
    width = finger_width_px(lm)
    size = hand.size_px
    noise = np.asarray(params.get("noise", np.zeros((5, 5, 2), np.float32)), np.float32)
    phase = float(params.get("phase", 0.0))
    noise = noise * np.cos(phase) + np.roll(noise, 1, axis=0) * np.sin(phase)
    # The noise grid spans the hand box so the liquify travels with the hand.
    x0, y0, x1, y1 = hand.bbox_xyxy - np.array([box[0], box[1], box[0], box[1]], np.float32)
    field = cv2.resize(noise, (max(2, int(x1 - x0 + 1)), max(2, int(y1 - y0 + 1))),
                       interpolation=cv2.INTER_CUBIC)
    full = np.zeros((h, w, 2), np.float32)
    fx0, fy0 = max(0, int(x0)), max(0, int(y0))
    fh, fw = min(h - fy0, field.shape[0]), min(w - fx0, field.shape[1])
    full[fy0:fy0 + fh, fx0:fx0 + fw] = field[:fh, :fw]
    full = cv2.GaussianBlur(full, (0, 0), max(1.0, 0.07 * size))
    mask = hand_mask((h, w), lm, grow=0.3, width=width)
    soft = feather(mask, 0.35 * width)
    drip = np.deg2rad(float(params.get("drip_deg", 90.0)))
    ddir = np.array([np.cos(drip), np.sin(drip)], np.float32)
    amp = 0.2 * size * strength
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sag = soft * 0.12 * size * strength  # sagging along the drip direction
    map_x = xx - full[..., 0] * amp * soft - ddir[0] * sag
    map_y = yy - full[..., 1] * amp * soft - ddir[1] * sag
    warped = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # Anisotropic smear along the drip direction.
    klen = max(3, int(0.13 * size * strength) | 1)
    kern = np.zeros((klen, klen), np.float32)
    cv2.line(kern, (klen // 2 - round(ddir[0] * klen / 2), klen // 2 - round(ddir[1] * klen / 2)),
             (klen // 2 + round(ddir[0] * klen / 2), klen // 2 + round(ddir[1] * klen / 2)), 1.0, 1)
    kern /= max(float(kern.sum()), 1e-6)
    smeared = cv2.filter2D(warped, -1, kern)
    smeared = cv2.GaussianBlur(smeared, (0, 0), max(0.6, 0.015 * size * strength))
    # Colour bleeding: chroma spreads much further than luma.
    ycc = cv2.cvtColor(np.clip(smeared, 0, 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb)
    ycc = ycc.astype(np.float32)
    ycc[..., 1:] = cv2.GaussianBlur(ycc[..., 1:], (0, 0), max(1.0, 0.07 * size))
    bled = cv2.cvtColor(np.clip(ycc, 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB)
    bled = _grain(rng, crop, bled.astype(np.float32), soft)
    blob = cv2.remap(soft, map_x, map_y, cv2.INTER_LINEAR)
    alpha = np.clip(np.maximum(soft, blob) * min(1.0, 1.15 * strength), 0, 1)
    return _paste(image, box, _composite(crop, bled, alpha), params)


RENDERERS: dict[str, Callable[[Image, Hand, np.random.Generator, dict[str, Any]], Image]] = {
    "extra_finger": render_extra_finger,
    "missing_finger": render_missing_finger,
    "fused_fingers": render_fused_fingers,
    "mirror_flip": render_mirror_flip,
    "vanish": render_vanish,
    "stretch": render_stretch,
    "melt": render_melt,
}
DEFECTS: tuple[str, ...] = tuple(RENDERERS)


#: What each finger-shape defect needs to show: fingers extended at least this much
#: (:func:`finger_extension`, mean over the defect's frames). A fused pair of curled
#: fingers, or a sixth finger copied from a curled one, leaves nothing to see.
_NEEDS_EXTENDED = {"extra_finger": 0.4, "missing_finger": 0.45, "fused_fingers": 0.4,
                   "stretch": 0.5}


def mean_extension(hands: Sequence[Hand]) -> dict[str, float]:
    """Each finger's :func:`finger_extension`, averaged over ``hands``."""
    if not hands:
        return {f: 0.0 for f in FINGERS}
    return {f: float(np.mean([finger_extension(h.landmarks_px, f) for h in hands]))
            for f in FINGERS}


def _candidates(defect: str, ext: dict[str, float]) -> list[tuple[Any, float]]:
    """What a finger-shape defect can be drawn on, in order of preference, each with how
    extended it is: the donor fingers of an extra one (pinky first), else the fingers
    (pairs, by their less extended finger) from the most extended down."""
    if defect == "extra_finger":
        return [(d, ext[d]) for d in ("pinky", "index")]
    if defect == "fused_fingers":
        return sorted(((p, min(ext[p[0]], ext[p[1]])) for p in _ADJACENT_PAIRS),
                      key=lambda c: -c[1])
    return sorted(((f, ext[f]) for f in _LONG_FINGERS), key=lambda c: -c[1])


def _visible_choices(defect: str, ext: dict[str, float]) -> list[Any]:
    """The fingers (or finger pairs) on which ``defect`` would show, best first."""
    need = _NEEDS_EXTENDED.get(defect)
    if need is None:
        return []
    return [c for c, e in _candidates(defect, ext) if e > need]


def defect_visible(defect: str, hands: Sequence[Hand]) -> bool:
    """Whether ``defect`` drawn on ``hands`` would show.

    Finger-shape defects need the fingers they change extended (the synthesizer's own
    choice of finger falls back to a curled one when no finger is); the other defects
    change the whole hand and always show.
    """
    if defect not in _NEEDS_EXTENDED:
        return True
    return bool(_visible_choices(defect, mean_extension(hands)))


def choose_params(defect: str, hands: Sequence[Hand], rng: np.random.Generator) -> dict[str, Any]:
    """Draw one clip's worth of defect parameters from ``rng``, looking at the hand's poses.

    Args:
        defect: one of :data:`DEFECTS`.
        hands: the chosen hand in the frames of the defect (at least one).
        rng: the seeded generator of the clip.

    Returns:
        JSON-friendly parameters (``noise`` excepted, an array the truth file omits).
        Finger-shape defects also record ``visible``: False when no finger was extended
        enough to show the defect (it was drawn on the most extended one anyway).
    """
    if defect not in RENDERERS:
        raise ValueError(f"unknown defect {defect!r}; valid defects: {', '.join(DEFECTS)}")
    ext = mean_extension(hands)
    shown = _visible_choices(defect, ext)
    cands = [c for c, _ in _candidates(defect, ext)] if defect in _NEEDS_EXTENDED else []
    # Nothing extended enough: drawn on the first candidate anyway (either donor of an extra).
    pick = shown or (cands if defect == "extra_finger" else cands[:1])
    shape = {"extension": {f: round(v, 3) for f, v in ext.items()}, "visible": bool(shown)}
    if defect == "extra_finger":
        return {"donor": str(rng.choice(pick)) if len(pick) > 1 and rng.random() < 0.35
                else pick[0],
                "splay_deg": round(float(rng.uniform(10, 22)), 2),
                "length_scale": round(float(rng.uniform(0.82, 0.97)), 3),
                "gap": round(float(rng.uniform(0.85, 1.05)), 3), **shape}
    if defect == "missing_finger":
        return {"finger": str(rng.choice(pick)),
                "keep": round(float(rng.uniform(0.25, 0.4)), 3), **shape}
    if defect == "fused_fingers":
        return {"pair": list(pick[int(rng.integers(len(pick)))]), **shape}
    if defect == "stretch":
        return {"finger": str(rng.choice(pick)),
                "factor": round(float(rng.uniform(1.35, 1.6)), 3), **shape}
    if defect == "vanish":
        return {"fade_frames": 2}
    if defect == "melt":
        return {"ramp_frames": 3, "drip_deg": round(float(rng.uniform(70, 110)), 1),
                "noise": rng.uniform(-1, 1, (7, 7, 2)).astype(np.float32)}
    return {}
