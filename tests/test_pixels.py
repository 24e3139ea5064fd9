"""Tests of vidhand.evidence.pixels: synthetic rendered hands, then real frames checked by eye."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from conftest import shared_clip

from vidhand.evidence.landmarks import MAX_TANGLE
from vidhand.evidence.pixels import FEATURE_KEYS, measure_hand
from vidhand.types import Hand

SKIN = (224, 172, 150)
FINGER_W = 16
# Finger bases (MCP), directions (deg, image coords: -90 is up) and lengths, thumb..pinky.
_MCP = np.array([(128, 228), (132, 158), (154, 152), (176, 154), (196, 162)], np.float32)
_DIR = (-155.0, -104.0, -91.0, -78.0, -64.0)
_LEN = (72.0, 74.0, 80.0, 74.0, 58.0)
_WRIST = np.array((162, 262), np.float32)
_THUMB_CMC = np.array((136, 246), np.float32)


def _unit(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))], np.float32)


def _chain(f: int, extended: bool) -> np.ndarray:
    """Landmarks 1..4 of finger ``f`` (for the thumb: CMC, MCP, IP, TIP; else MCP..TIP)."""
    u, n = _unit(_DIR[f]), _LEN[f]
    if f == 0:
        mcp = _MCP[0]
        if extended:
            return np.stack([_THUMB_CMC, mcp, mcp + 0.5 * n * u, mcp + n * u])
        inward = _unit(-30.0)  # thumb folded across the palm
        return np.stack([_THUMB_CMC, mcp, mcp + 14 * inward, mcp + 26 * inward])
    base = _MCP[f]
    if extended:
        return np.stack([base, base + 0.45 * n * u, base + 0.75 * n * u, base + n * u])
    # Curled: PIP just past the knuckle line, DIP and TIP folded back over the palm.
    return np.stack([base, base + 8 * u, base + 20 * u * -0.1 + np.array((0, 14)),
                     base + np.array((0, 30))])


def _landmarks(extended: tuple[bool, ...]) -> np.ndarray:
    lm = np.zeros((21, 2), np.float32)
    lm[0] = _WRIST
    for f in range(5):
        lm[1 + 4 * f:5 + 4 * f] = _chain(f, extended[f])
    return lm


def _background(kind: int, size: int = 320) -> np.ndarray:
    """Textured backgrounds of different colours (noise plus stripes)."""
    rng = np.random.default_rng(kind)
    base = [(40, 70, 160), (60, 140, 70), (50, 50, 55), (170, 180, 200)][kind]
    img = np.empty((size, size, 3), np.float32)
    img[:] = base
    img += rng.normal(0, 8, img.shape)
    yy = np.arange(size)[:, None, None]
    img += 18 * np.sin(yy / 9.0 + kind)
    return np.clip(img, 0, 255).astype(np.uint8)


def _capsule(img: np.ndarray, a: np.ndarray, b: np.ndarray, w: int, colour) -> None:
    cv2.line(img, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)),
             colour, w, cv2.LINE_AA)


def render_hand(
    extended: tuple[bool, ...] = (True,) * 5,
    bg: int = 0,
    extra_finger: bool = False,
    missing: int | None = None,
    fused: tuple[int, int] | None = None,
    stretched: int | None = None,
    behind_tip: int | None = None,
) -> tuple[np.ndarray, Hand]:
    """A palm ellipse and finger capsules on a textured background, plus its 21 landmarks.

    ``missing``: a finger the landmarks place extended but that is not drawn.
    ``fused``: two adjacent fingers drawn as one blob (their landmarks stay separate).
    ``extra_finger``: a sixth digit beside the pinky that no landmark describes.
    ``stretched``: a finger drawn half its length longer than its landmarks place it.
    ``behind_tip``: a finger whose tip lies in front of a large patch of other skin (a
    face), drawn first.
    """
    img = _background(bg)
    lm = _landmarks(extended)
    rng = np.random.default_rng(7)
    hand_layer = np.zeros_like(img)
    if behind_tip is not None:
        centre = lm[4 + 4 * behind_tip] + 40 * _unit(_DIR[behind_tip])
        cv2.circle(img, tuple(int(v) for v in np.round(centre)), 52, (200, 150, 128), -1,
                   cv2.LINE_AA)
    cv2.ellipse(hand_layer, (162, 205), (46, 56), 0, 0, 360, SKIN, -1, cv2.LINE_AA)
    _capsule(hand_layer, _THUMB_CMC, _MCP[0], FINGER_W + 4, SKIN)
    for f in range(5):
        if f == missing or (fused and f in fused) or not extended[f]:
            continue
        chain = lm[1 + 4 * f:5 + 4 * f]
        start = chain[1] if f == 0 else chain[0]
        end = chain[3] + (0.5 * _LEN[f] * _unit(_DIR[f]) if f == stretched else 0.0)
        _capsule(hand_layer, start, end, FINGER_W, SKIN)
    if fused:
        a, b = (lm[1 + 4 * f:5 + 4 * f] for f in fused)
        poly = np.round(np.stack([a[0], a[3], b[3], b[0]])).astype(np.int32)
        cv2.fillConvexPoly(hand_layer, poly, SKIN, cv2.LINE_AA)
        _capsule(hand_layer, a[0], a[3], FINGER_W, SKIN)
        _capsule(hand_layer, b[0], b[3], FINGER_W, SKIN)
    if extra_finger:
        base = np.array((212, 176), np.float32)
        _capsule(hand_layer, base, base + 50 * _unit(-42.0), FINGER_W, SKIN)
    on = hand_layer.any(axis=2)
    shade = rng.normal(0, 4, img.shape)
    img = np.where(on[..., None], np.clip(hand_layer + shade, 0, 255), img).astype(np.uint8)
    return img, _hand(lm)


def _hand(lm_px: np.ndarray, frame_wh: tuple[int, int] = (320, 320)) -> Hand:
    norm = np.zeros((21, 3), np.float32)
    norm[:, :2] = lm_px / np.array(frame_wh, np.float32)
    return Hand(landmarks_px=lm_px.astype(np.float32), landmarks_norm=norm,
                world=np.zeros((21, 3), np.float32), handedness="right", handedness_score=1.0)


_EXT = {
    0: (False, False, False, False, False),
    1: (False, True, False, False, False),
    2: (False, True, True, False, False),
    3: (False, True, True, True, False),
    4: (False, True, True, True, True),
    5: (True, True, True, True, True),
}


@pytest.mark.parametrize("bg", [0, 1, 2, 3])
@pytest.mark.parametrize("n_digits", [0, 1, 2, 3, 4, 5, 6])
def test_digit_count_synthetic(n_digits: int, bg: int) -> None:
    img, hand = render_hand(_EXT[min(n_digits, 5)], bg=bg, extra_finger=n_digits == 6)
    f = measure_hand(img, hand)
    assert f["px_judgeable"], f
    assert f["px_digits"] == n_digits, f
    assert f["px_unmatched_digits"] == (1 if n_digits == 6 else 0), f
    assert f["px_lm_digits"] == min(n_digits, 5), f


def test_returns_compact_jsonable_keys() -> None:
    import json

    img, hand = render_hand()
    f = measure_hand(img, hand)
    assert tuple(f) == FEATURE_KEYS
    assert len(json.dumps(f)) < 900
    assert len(f["px_finger_support"]) == 5 and len(f["px_gaps"]) == 4


@pytest.mark.parametrize("missing", [1, 2, 3, 4])
def test_missing_finger_has_low_support(missing: int) -> None:
    img, hand = render_hand(missing=missing)
    support = measure_hand(img, hand)["px_finger_support"]
    assert support[missing] <= 0.3, support
    assert all(s >= 0.9 for i, s in enumerate(support) if i != missing), support


@pytest.mark.parametrize("bg", [0, 2, 3])
@pytest.mark.parametrize("pair", [(1, 2), (2, 3), (3, 4)])
def test_fused_pair_has_no_gap(pair: tuple[int, int], bg: int) -> None:
    spread = measure_hand(*render_hand(bg=bg))
    fused = measure_hand(*render_hand(bg=bg, fused=pair))
    k = pair[0]  # gap index of (f, f+1) is f for fingers index..pinky
    assert all(g >= 0.5 for g in spread["px_gaps"]), spread["px_gaps"]
    assert fused["px_gaps"][k] <= 0.1, fused["px_gaps"]
    assert fused["px_valleys"][k] < 0.05, fused["px_valleys"]
    assert fused["px_digits"] == spread["px_digits"] - 1, (spread, fused)


@pytest.mark.parametrize("bg", [0, 2, 3])
@pytest.mark.parametrize("finger", [0, 1, 2, 3, 4])
def test_a_finger_drawn_longer_reaches_on_past_its_tip(finger: int, bg: int) -> None:
    usual = measure_hand(*render_hand(bg=bg))
    longer = measure_hand(*render_hand(bg=bg, stretched=finger))
    assert all(r is not None and r <= 1.0 for r in usual["px_reach"]), usual["px_reach"]
    assert longer["px_reach"][finger] >= 1.5, longer["px_reach"]
    assert all(r == u for k, (r, u) in enumerate(zip(longer["px_reach"], usual["px_reach"],
                                                     strict=True)) if k != finger)
    # the finger ends at its tip landmark; drawn on, its skin goes on past it
    assert longer["px_tip_step"][finger] < 0.5 * usual["px_tip_step"][finger], (
        usual["px_tip_step"], longer["px_tip_step"])


@pytest.mark.parametrize("finger", [1, 2, 4])
def test_a_fingertip_in_front_of_other_skin_is_no_reach(finger: int) -> None:
    """Skin behind a fingertip (a face) joins the mask on both sides of the finger's
    axis: no finger-wide strip, so no reach (its colour step at the tip may drop: a face
    of the finger's own tone is no end for the colour to show)."""
    f = measure_hand(*render_hand(bg=2, behind_tip=finger))
    assert f["px_reach"][finger] is None, f["px_reach"]


def test_blur_measure_increases_with_gaussian_blur() -> None:
    img, hand = render_hand()
    blurs = [measure_hand(img if s == 0 else cv2.GaussianBlur(img, (0, 0), s), hand)["px_blur"]
             for s in (0, 1.5, 3.0, 6.0)]
    assert blurs == sorted(blurs) and blurs[-1] - blurs[0] > 0.3, blurs


@pytest.mark.parametrize(("shrink", "shift", "judgeable", "at_edge"), [
    (1.0, (0, 0), True, False),
    (0.15, (0, 0), False, False),   # hand ~30 px: too small
    (1.0, (-150, 0), False, True),  # cut by the left edge
    (1.0, (0, 120), False, True),   # cut by the bottom edge
])
def test_size_and_edge_flags(shrink: float, shift: tuple[int, int], judgeable: bool,
                             at_edge: bool) -> None:
    img, hand = render_hand()
    m = np.float32([[shrink, 0, 160 * (1 - shrink) + shift[0]],
                    [0, shrink, 160 * (1 - shrink) + shift[1]]])
    warped = cv2.warpAffine(img, m, (320, 320), borderMode=cv2.BORDER_REFLECT)
    lm = hand.landmarks_px @ m[:, :2].T + m[:, 2]
    f = measure_hand(warped, _hand(lm))
    assert f["px_judgeable"] is judgeable, f
    assert f["px_at_edge"] is at_edge, f
    assert (f["px_hand_size"] < 40) == (shrink < 0.5), f


def test_scale_maps_source_landmarks_to_analysed_image() -> None:
    img, hand = render_hand(_EXT[3])
    big = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    src_hand = _hand(hand.landmarks_px * 2, (640, 640))
    f = measure_hand(img, src_hand, scale=2.0)  # landmarks at 2x source, image analysed at 1x
    assert f["px_digits"] == 3 and f["px_hand_size"] == pytest.approx(hand.size_px, abs=0.2)
    assert measure_hand(big, src_hand)["px_digits"] == 3


def test_overlap_with_other_hand_is_flagged() -> None:
    img, hand = render_hand()
    other = _hand(hand.landmarks_px + np.float32([30, 10]))
    far = _hand(hand.landmarks_px + np.float32([400, 0]))
    f = measure_hand(img, hand, other_hands=[far])
    assert f["px_overlap"] == 0.0 and f["px_tangle"] == 0.0 and f["px_judgeable"]
    f = measure_hand(img, hand, other_hands=[other])
    assert f["px_overlap"] > 0.5 and f["px_tangle"] > MAX_TANGLE and not f["px_judgeable"]


def test_a_digit_ending_beside_another_hand_is_not_counted() -> None:
    # Where two hands touch, the other's fingertip shows through this hand's mask as a
    # digit no landmark of this hand explains: not a sixth finger. The same digit away
    # from the other hand still counts, and so do this hand's own fingers beside it.
    img, hand = render_hand(extra_finger=True)
    touching = _hand(hand.landmarks_px + np.float32([148, 44]))  # index tip past the sixth
    away = _hand(hand.landmarks_px + np.float32([210, 0]))
    f = measure_hand(img, hand, other_hands=[touching])
    assert f["px_judgeable"] and f["px_tangle"] == 0.0, f
    assert f["px_digits"] == 5 and f["px_unmatched_digits"] == 0, f
    f = measure_hand(img, hand, other_hands=[away])
    assert f["px_digits"] == 6 and f["px_unmatched_digits"] == 1, f
    img5, hand5 = render_hand()
    assert measure_hand(img5, hand5, other_hands=[touching])["px_digits"] == 5


def test_bad_arguments_raise() -> None:
    img, hand = render_hand()
    with pytest.raises(ValueError, match="RGB uint8"):
        measure_hand(img[:, :, 0], hand)
    with pytest.raises(ValueError, match="scale"):
        measure_hand(img, hand, scale=0)


# --- real frames whose digit count was checked by eye (crops viewed at 2x) ------------------
# (clip, frame index, hands that must be found, digits per hand ordered left to right in x)
REAL_FRAMES = [
    # Two "L" hands: thumb + index extended, the other fingers curled into the palm.
    ("natural/dyngest_zoom_two_hands_bbox.gif", 10, [2, 2]),
    ("natural/dyngest_zoom_two_hands_bbox.gif", 30, [2, 2]),
    # Generated: both hands point up with the index, thumb and others folded.
    ("generated/mimicmotion_halfbody_gestures_hb0.mp4", 40, [1, 1]),
]


def _track_until(path, index: int) -> tuple[np.ndarray, tuple[Hand, ...]]:
    """Run the MediaPipe tracker (VIDEO mode) over frames 0..index; return the last one."""
    av = pytest.importorskip("av")
    mp_tracking = pytest.importorskip("vidhand.tracking.mediapipe")
    from vidhand.types import Frame

    tracker = mp_tracking.MediaPipeTracker(max_hands=2)
    try:
        with av.open(str(path)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                image = frame.to_ndarray(format="rgb24")
                pts = float(frame.time) if frame.time is not None else i / 15.0
                hands = tracker.process(Frame(index=i, pts_s=pts, image=image)).hands
                if i == index:
                    return image, hands
    finally:
        tracker.close()
    raise AssertionError(f"{path} has no frame {index}")


@pytest.mark.shared
@pytest.mark.parametrize(("clip", "index", "digits"), REAL_FRAMES)
def test_digit_count_on_real_frames(clip: str, index: int, digits: list[int]) -> None:
    image, hands = _track_until(shared_clip(clip), index)
    assert len(hands) == len(digits)
    hands = sorted(hands, key=lambda h: float(h.palm_center_px[0]))
    got = [measure_hand(image, h, other_hands=hands) for h in hands]
    assert [f["px_digits"] for f in got] == digits, got
    assert all(f["px_unmatched_digits"] == 0 for f in got), got
