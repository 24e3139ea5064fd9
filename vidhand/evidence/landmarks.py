"""Geometric evidence from one hand's 21 landmarks.

Everything here is per hand and per frame; the temporal checks compare these
numbers with the same hand's own baseline over time.

- Finger extension from joint angles of the *world* landmarks (metric 3D, so
  perspective and hand size do not change them).
- Bone lengths relative to the palm (world landmarks): proportion drift.
- Chirality: the signed area of the palm polygon (wrist, index MCP, pinky MCP)
  in the image. For a given hand it flips sign when the hand turns over, passing
  through an edge-on pose (small area); a mirrored hand flips it at once.
- Knuckle order: index, middle, ring and pinky MCPs must lie in a monotonic
  angular order around the wrist; a permutation is a topology break.

Example:
    >>> feats = landmark_features(hand)
    >>> feats["lm_extended"]  # e.g. [1, 1, 0, 0, 0] thumb..pinky
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from vidhand.hand_model import EDGES, FINGERS
from vidhand.types import Hand

NDF = npt.NDArray[np.float64]

#: Bones whose length relative to the palm is followed: (name, from, to).
BONES: tuple[tuple[str, int, int], ...] = (
    ("thumb_1", 2, 3), ("thumb_2", 3, 4),
    ("index_1", 5, 6), ("index_2", 6, 7), ("index_3", 7, 8),
    ("middle_1", 9, 10), ("middle_2", 10, 11), ("middle_3", 11, 12),
    ("ring_1", 13, 14), ("ring_2", 14, 15), ("ring_3", 15, 16),
    ("pinky_1", 17, 18), ("pinky_2", 18, 19), ("pinky_3", 19, 20),
)
#: Palm segments whose sum is the hand's scale.
PALM_SEGMENTS: tuple[tuple[int, int], ...] = ((0, 5), (0, 17), (5, 17), (0, 9))

_BONE_FROM = np.array([b[1] for b in BONES])
_BONE_TO = np.array([b[2] for b in BONES])


def _angle_deg(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> float:
    na = float(np.linalg.norm(a))
    nb = float(np.linalg.norm(b))
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    c = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    return float(np.degrees(np.arccos(c)))


def finger_flexion(world: npt.NDArray[np.floating]) -> list[float]:
    """Total flexion in degrees of each finger (thumb..pinky): 0 = straight.

    Sum of the bend angles at the finger's joints, measured between consecutive
    bones of the chain wrist/CMC -> MCP -> PIP -> DIP -> TIP in world coordinates.
    """
    out = []
    for name, chain in FINGERS.items():
        pts = [world[0], *(world[i] for i in chain)] if name != "thumb" else [
            world[i] for i in (0, *chain)]
        bones = [pts[i + 1] - pts[i] for i in range(len(pts) - 1)]
        # For the thumb skip the wrist->CMC bone; for fingers skip wrist->MCP (palm).
        bends = [_angle_deg(bones[i], bones[i + 1]) for i in range(1, len(bones) - 1)]
        out.append(float(sum(bends)))
    return out


def extended_fingers(world: npt.NDArray[np.floating], flexion: list[float] | None = None,
                     ) -> list[int]:
    """1 where a finger is extended (straight enough and reaching away from the palm)."""
    flex = finger_flexion(world) if flexion is None else flexion
    palm_c = world[[0, 5, 9, 13, 17]].mean(axis=0)
    palm = _palm_scale(world)
    ext = []
    for k, (name, chain) in enumerate(FINGERS.items()):
        tip, base = world[chain[3]], world[chain[0]]
        reach = float(np.linalg.norm(tip - palm_c) - np.linalg.norm(base - palm_c)) / palm
        if name == "thumb":
            # Thumb: straight-ish and its tip away from the index MCP.
            away = float(np.linalg.norm(world[4] - world[5])) / palm
            ext.append(int(flex[k] < 60.0 and away > 0.16))
        else:
            ext.append(int(flex[k] < 75.0 and reach > 0.15))
    return ext


def _palm_scale(world: npt.NDArray[np.floating]) -> float:
    return max(float(sum(np.linalg.norm(world[a] - world[b]) for a, b in PALM_SEGMENTS)), 1e-6)


def bone_ratios(world: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Length of each bone in :data:`BONES` divided by the palm scale."""
    lengths = np.linalg.norm(world[_BONE_TO] - world[_BONE_FROM], axis=1)
    return lengths / _palm_scale(world)


def chirality(px: npt.NDArray[np.floating]) -> float:
    """Signed area of the triangle wrist / index MCP / pinky MCP over its squared size.

    In [-0.5, 0.5]; the sign says which side of the palm faces the camera for a given
    hand, a value near 0 means the palm is seen edge-on.
    """
    a = px[5] - px[0]
    b = px[17] - px[0]
    cross = float(a[0] * b[1] - a[1] * b[0])
    norm = float(np.dot(a, a) + np.dot(b, b)) or 1.0
    return cross / norm


def knuckle_order_ok(px: npt.NDArray[np.floating]) -> bool:
    """Whether index/middle/ring/pinky MCPs lie in monotonic angular order around the wrist."""
    v = px[[5, 9, 13, 17]] - px[0]
    ang = np.unwrap(np.arctan2(v[:, 1], v[:, 0]))
    d = np.diff(ang)
    return bool(np.all(d > 0) or np.all(d < 0))


def landmark_features(hand: Hand) -> dict[str, Any]:
    """All per-frame landmark evidence of one hand as a flat, JSON-able dict."""
    world = hand.world.astype(np.float64)
    px = hand.landmarks_px.astype(np.float64)
    flex = finger_flexion(world)
    ext = extended_fingers(world, flex)
    return {
        "lm_extended": ext,
        "lm_n_extended": int(sum(ext)),
        "lm_flexion": [round(f, 1) for f in flex],
        "lm_bones": [round(float(r), 4) for r in bone_ratios(world)],
        "lm_chirality": round(chirality(px), 4),
        "lm_knuckles_ok": knuckle_order_ok(px),
    }


_EDGE_A = np.array([a for a, _ in EDGES])
_EDGE_B = np.array([b for _, b in EDGES])
_ALONG = np.linspace(0.0, 1.0, 5)[:, None, None]
#: Distance, in palm lengths, within which another hand's bone touches this hand's
#: (about one and a half finger widths).
TOUCH_PL = 0.27
#: Above this share of its skeleton touching another hand's, a hand's shape is not judged.
MAX_TANGLE = 0.15
#: A finger's width in the picture, as a share of the palm length (:func:`palm_length`).
FINGER_WIDTH_PL = 0.18
#: The pixel evidence's hand mask keeps pixels within this many finger widths of the skeleton.
MASK_GATE_FW = 1.8
#: Per finger (thumb..pinky), its distal chain of three landmarks (its chain without the base).
DISTAL_IDX = np.array([chain[1:] for chain in FINGERS.values()])


def palm_length(xy: npt.NDArray[np.floating]) -> float:
    """A hand's scale in the picture: wrist to middle knuckle, or 1.25 x the knuckle span
    (whichever is larger, so a foreshortened palm does not shrink it), at least 1."""
    return max(float(np.linalg.norm(xy[0] - xy[9])), 1.25 * float(np.linalg.norm(xy[5] - xy[17])),
               1.0)


def gap_points(xy: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """The two points per finger (thumb..pinky) that the lines between adjacent fingers
    join: the PIP-DIP midpoint and the DIP (the IP and the IP-TIP midpoint of the thumb).
    (5, 2, 2), in the dtype of ``xy``."""
    d = xy[DISTAL_IDX]  # (5, 3, 2)
    pts = np.stack([(d[:, 0] + d[:, 1]) / 2, d[:, 1]], axis=1)
    pts[0] = np.stack([d[0, 1], (d[0, 1] + d[0, 2]) / 2])
    return pts


def pair_spread(xy: npt.NDArray[np.floating]) -> NDF:
    """How far apart the skeleton puts each pair of adjacent fingers (thumb-index,
    index-middle, middle-ring, ring-pinky), in finger widths: the mean length of the two
    lines between their :func:`gap_points` (where the pixel evidence looks for background
    between them). About 1 where two fingers touch along their length; at 1.6 their edges
    are 0.6 of a finger's width apart, background in between."""
    xy = np.asarray(xy, dtype=np.float64)
    pts = gap_points(xy)
    width = FINGER_WIDTH_PL * palm_length(xy)
    return np.linalg.norm(pts[:4] - pts[1:], axis=2).mean(axis=1) / width


def bone_distance(points: npt.NDArray[np.floating], xy: npt.NDArray[np.floating]) -> NDF:
    """Distance from each of ``points`` (n, 2) to the nearest bone of the hand ``xy`` (21, 2)."""
    pts = np.asarray(points, dtype=np.float64)
    o = np.asarray(xy, dtype=np.float64)
    a, ab = o[_EDGE_A], o[_EDGE_B] - o[_EDGE_A]
    t = np.einsum("nmk,mk->nm", pts[:, None, :] - a[None], ab) / np.maximum(
        np.einsum("mk,mk->m", ab, ab), 1e-9)
    closest = a[None] + np.clip(t, 0.0, 1.0)[..., None] * ab[None]
    return np.linalg.norm(pts[:, None, :] - closest, axis=2).min(axis=1)


def entanglement(xy: npt.NDArray[np.floating], others: list[npt.NDArray[np.floating]]) -> float:
    """Share of a hand's skeleton lying within about a finger width of another hand's bones.

    ``xy`` and each of ``others`` are (21, 2) landmark positions in the same pixels. Box
    overlap only says that two hands are near; this says whether they cover each other.
    Hands held side by side or framing a face overlap in their boxes while their fingers
    stay apart (a small value); a hand in front of the other gives a large one.
    """
    if not others:
        return 0.0
    lm = np.asarray(xy, dtype=np.float64)
    pts = ((1 - _ALONG) * lm[_EDGE_A][None] + _ALONG * lm[_EDGE_B][None]).reshape(-1, 2)
    reach = TOUCH_PL * palm_length(lm)
    lo, hi = lm.min(axis=0) - reach, lm.max(axis=0) + reach
    near = np.zeros(len(pts), dtype=bool)
    for other in others:
        o = np.asarray(other, dtype=np.float64)
        if (o.min(axis=0) > hi).any() or (o.max(axis=0) < lo).any():
            continue  # boxes apart by more than the reach: no bone can touch
        near |= bone_distance(pts, o) <= reach
    return float(near.mean())
