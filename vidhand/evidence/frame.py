"""The evidence stage: measurements that need the frame's pixels, made once per frame.

It runs between the landmarker and the landmark cache, so everything it measures is
saved with the landmarks and the temporal checks replay without video or MediaPipe.

Per hand (``Hand.features``): pixel evidence (:mod:`vidhand.evidence.pixels`) and
``px_continuity``, how well the hand's box matches the same place one frame earlier.
Landmark geometry (:mod:`vidhand.evidence.landmarks`) needs no pixels, so the checks
compute it from the landmarks themselves and it is never stale in a cache.

Per frame (``HandFrame.features``):

- ``scene_diff``: mean absolute difference of a 32x18 Lab thumbnail against the
  previous frame's, in [0, 1]; scene cuts are spikes of it.
- ``ghosts``: for each hand seen within the last ``ghost_window`` frames and not
  detected now, two looks at its last box: ``skin_now``/``skin_then``, the fraction of
  it in the hand's own skin chroma now and when it was seen; and ``ncc``, how well the
  box now matches its last picture (normalised cross-correlation of 32x32 grey
  thumbnails, best over small shifts), ``ncc_before``, the same against the hand as
  it looked five frames before it was lost (a hand that fades out over a few frames
  is already half gone at its last sighting); and ``still``, how well the box now matches
  the same box one frame earlier; ``around_then``/``around_now``, the fraction of the
  hand's skin chroma in its neighbourhood (the box grown by its own size on every side,
  box included) when it was seen and now, and ``box_share``, the box's share of that
  neighbourhood's area (inside the frame). A hand the detector merely missed is still
  there in the pixels (skin and picture match); one that moved on faster than the
  detector followed took its skin into the neighbourhood; a hand that vanished leaves a
  still background that no longer looks like it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vidhand.hand_model import EDGES
from vidhand.tracking.identity import box_iou
from vidhand.types import Frame, Hand, HandFrame

_THUMB_WH = (32, 18)


@dataclass
class _Seen:
    frame_index: int
    box: npt.NDArray[np.float64]  # analysed pixels
    mean: npt.NDArray[np.float64]  # (a, b) chroma model of the hand
    icov: npt.NDArray[np.float64]
    skin_then: float
    thumb: npt.NDArray[np.float32]  # zero-mean unit-norm grey thumbnail of the box
    # Skin fraction of the box's neighbourhood (:func:`_around`) when it was seen; taken
    # only once the hand is lost (from the frame before, where it was last seen).
    around_then: float | None = None
    last_look: npt.NDArray[np.float32] | None = None  # the box's thumbnail one frame ago
    # Earlier sightings of the same hand, oldest first: (frame, box, thumbnail). A hand
    # that fades out over a few frames is compared with how it looked before the fade.
    history: tuple[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float32]], ...] = ()


_EDGE_A = np.array([a for a, _ in EDGES])
_EDGE_B = np.array([b for _, b in EDGES])
_T = np.array([0.25, 0.5, 0.75])[:, None, None]
_1_T = 1 - _T
_PRIOR_COV = np.eye(2) * 4.0


def _bone_samples(image: npt.NDArray[np.uint8], pts: npt.NDArray[np.float64]) -> npt.NDArray:
    """RGB pixels at 1/4, 1/2 and 3/4 along every bone (those inside the image)."""
    h, w = image.shape[:2]
    xy = np.rint(pts[_EDGE_A] * _1_T + pts[_EDGE_B] * _T).reshape(-1, 2).astype(np.int64)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    xy = xy[inside]
    return image[xy[:, 1], xy[:, 0]].reshape(-1, 3)


def _lab(pixels_rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    return cv2.cvtColor(pixels_rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(
        np.float64)


def _box_chroma(image: npt.NDArray[np.uint8], box: npt.NDArray[np.float64],
                ) -> npt.NDArray[np.float64] | None:
    """Lab (a, b) of about 32x32 pixels sampled over ``box`` (None: box under 2 px)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(np.ceil(x1)), w), min(int(np.ceil(y1)), h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = image[y0:y1, x0:x1]
    step = max(1, int(max(crop.shape[:2]) // 32))  # ~32x32 samples are plenty
    return _lab(np.ascontiguousarray(crop[::step, ::step]))[:, 1:]


def _skin_fraction(image: npt.NDArray[np.uint8], box: npt.NDArray[np.float64],
                   mean: npt.NDArray[np.float64], icov: npt.NDArray[np.float64]) -> float:
    """Share of ``box`` within the 99 % ellipse of the hand's skin chroma model."""
    ab = _box_chroma(image, box)
    if ab is None:
        return 0.0
    m2 = _mahalanobis2(ab - mean, icov)
    return np.count_nonzero(m2 < 9.2) / len(m2)  # 99% of a 2-D Gaussian


def _mahalanobis2(d: npt.NDArray[np.float64], icov: npt.NDArray[np.float64],
                  ) -> npt.NDArray[np.float64]:
    """Squared Mahalanobis distance ``d^T icov d`` per row of ``d`` (n, 2), summed in the
    order (and with the rounding) of ``np.einsum("ij,jk,ik->i", d, icov, d)``, at a third
    of its cost."""
    x, y = d[:, 0], d[:, 1]
    (a, b), (c, e) = icov
    return (((x * a) * x + (x * b) * y) + (y * c) * x) + (y * e) * y


_THUMB = 32
#: Frames during which an undetected hand's last box is still looked at.
GHOST_WINDOW = 45
_ANCHOR_FRAMES = 5  # how far back a ghost's "before" picture is taken


class _Grey:
    """Grey pixels of regions of one RGB frame, each converted once.

    A region inside one already converted is sliced from it: the conversion is per pixel,
    so the values are the same. A hand's grown box is converted first (see
    :meth:`EvidenceExtractor.process`), and its own box, the box padded for the next
    frame's continuity look and a lost hand's boxes mostly fall inside such a region.
    """

    def __init__(self, image: npt.NDArray[np.uint8]) -> None:
        self.image = image
        self._regions: list[tuple[int, int, int, int, npt.NDArray[np.uint8]]] = []

    def region(self, x0: int, y0: int, x1: int, y1: int) -> npt.NDArray[np.uint8]:
        for a0, b0, a1, b1, grey in self._regions:
            if a0 <= x0 and b0 <= y0 and x1 <= a1 and y1 <= b1:
                return grey[y0 - b0:y1 - b0, x0 - a0:x1 - a0]
        grey = cv2.cvtColor(self.image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
        self._regions.append((x0, y0, x1, y1, grey))
        return grey


def _thumb_region(shape: tuple[int, ...], box: npt.NDArray[np.float64], pad: int = 0,
                  ) -> tuple[int, int, int, int]:
    """Pixels (x0, y0, x1, y1) that :func:`_thumb` reads for ``box`` and ``pad``."""
    h, w = shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    ex, ey = bw * pad / _THUMB, bh * pad / _THUMB
    x0, y0 = int(max(box[0] - ex, 0)), int(max(box[1] - ey, 0))
    x1, y1 = int(min(box[2] + ex, w)), int(min(box[3] + ey, h))
    return x0, y0, x1, y1


def _grown(box: npt.NDArray[np.float64], by: float = 0.15) -> npt.NDArray[np.float64]:
    """``box`` grown by ``by`` x its size on every side: 15 %, what a lost hand is looked
    for in; its own size (:func:`_around`), where a hand that moved on goes."""
    pad = by * (box[2:] - box[:2])
    return np.concatenate([box[:2] - pad, box[2:] + pad])


def _around(box: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return _grown(box, 1.0)


def _area(shape: tuple[int, ...], box: npt.NDArray[np.float64]) -> float:
    """Area of ``box`` inside an image of ``shape``."""
    h, w = shape[:2]
    return (max(0.0, min(box[2], w) - max(box[0], 0.0))
            * max(0.0, min(box[3], h) - max(box[1], 0.0)))


def _thumb(grey: _Grey, box: npt.NDArray[np.float64], pad: int = 0,
           ) -> npt.NDArray[np.float32] | None:
    """Grey thumbnail of ``box`` (``_THUMB`` + 2*pad pixels a side), zero mean, unit norm."""
    size = _THUMB + 2 * pad
    x0, y0, x1, y1 = _thumb_region(grey.image.shape, box, pad)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    t = cv2.resize(grey.region(x0, y0, x1, y1), (size, size),
                   interpolation=cv2.INTER_AREA).astype(np.float32)
    t -= t.mean()
    n = float(np.linalg.norm(t))
    return t / n if n > 1e-6 else None


def _best_ncc(then: npt.NDArray[np.float32], now: npt.NDArray[np.float32] | None) -> float:
    """Best normalised correlation of ``then`` inside ``now`` (a slightly larger patch)."""
    if now is None:
        return 0.0
    res = cv2.matchTemplate(now, then, cv2.TM_CCOEFF_NORMED)
    return float(res.max())


class EvidenceExtractor:
    """Adds landmark, pixel and frame-level evidence to each :class:`HandFrame`.

    Args:
        pixels: measure pixel evidence of each hand (digits, gaps, mask quality).
        ghost_window: frames during which an undetected hand's last box is still looked at.
    """

    def __init__(self, pixels: bool = True, ghost_window: int = GHOST_WINDOW) -> None:
        self.pixels = pixels
        self.ghost_window = ghost_window
        self._prev_thumb: npt.NDArray[np.float32] | None = None
        self._prev_grey: _Grey | None = None
        self._seen: list[_Seen] = []
        self._measure: Any = None
        if pixels:
            from vidhand.evidence.pixels import measure_hand

            self._measure = measure_hand

    @property
    def settings(self) -> dict[str, Any]:
        """Parameters that change the evidence (recorded in the report)."""
        return {"pixels": self.pixels, "ghost_window": self.ghost_window}

    def process(self, frame: Frame, hand_frame: HandFrame) -> HandFrame:
        """Return ``hand_frame`` with per-hand and per-frame features filled in."""
        image = frame.image
        grey = _Grey(image)
        for hand in hand_frame.hands:
            # Convert each hand's grown box first: its other looks mostly fall inside it.
            box = _grown(hand.bbox_xyxy.astype(np.float64) / frame.scale)
            x0, y0, x1, y1 = _thumb_region(image.shape, box)
            if x1 - x0 >= 4 and y1 - y0 >= 4:
                grey.region(x0, y0, x1, y1)
        hands = []
        for hand in hand_frame.hands:
            feats = dict(hand.features)
            if self._measure is not None:
                others = [h for h in hand_frame.hands if h is not hand]
                feats.update(self._measure(image, hand, frame.scale, others))
            feats["px_continuity"] = self._continuity(grey, hand, frame.scale)
            hands.append(dataclasses.replace(hand, features=feats))
        features = dict(hand_frame.features)
        features["scene_diff"] = self._scene_diff(image)
        features["ghosts"] = self._ghosts(frame, grey, hands)
        self._prev_grey = grey
        return dataclasses.replace(hand_frame, hands=tuple(hands), features=features)

    def _continuity(self, grey: _Grey, hand: Hand, scale: float) -> float | None:
        """How well the hand's box now matches the same place one frame earlier (best NCC
        over small shifts). A real hand changes smoothly; a generator that mirrors or
        swaps it changes its pixels at once, even when the detector's landmarks follow."""
        prev = self._prev_grey
        if prev is None or prev.image.shape != grey.image.shape:
            return None
        box = hand.bbox_xyxy.astype(np.float64) / scale
        now = _thumb(grey, box)
        before = _thumb(prev, box, pad=3)
        if now is None or before is None:
            return None
        return round(_best_ncc(now, before), 3)

    def _scene_diff(self, image: npt.NDArray[np.uint8]) -> float:
        # Subsample by striding first: INTER_AREA over a whole HD frame costs ~4 ms.
        step = max(1, min(image.shape[:2]) // (4 * _THUMB_WH[1]))
        thumb = cv2.resize(image[::step, ::step], _THUMB_WH, interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(thumb, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
        prev, self._prev_thumb = self._prev_thumb, lab
        if prev is None:
            return 0.0
        return round(float(np.mean(np.abs(lab - prev))), 4)

    def _ghosts(self, frame: Frame, grey: _Grey, hands: list[Hand]) -> list[dict[str, Any]]:
        image = frame.image
        f = frame.index
        boxes = [h.bbox_xyxy.astype(np.float64) / frame.scale for h in hands]
        ghosts = []
        still: list[_Seen] = []
        for seen in self._seen:
            if f - seen.frame_index > self.ghost_window:
                continue
            if any(box_iou(seen.box, b) > 0.1 for b in boxes):
                continue  # re-detected (or another hand is there): refreshed below
            now = _skin_fraction(image, seen.box, seen.mean, seen.icov)
            near = _around(seen.box)
            if seen.around_then is None:  # lost now: seen in the previous frame
                prev = self._prev_grey
                seen.around_then = (_skin_fraction(prev.image, near, seen.mean, seen.icov)
                                    if prev is not None else 0.0)
            around = _skin_fraction(image, near, seen.mean, seen.icov)
            share = _area(image.shape, seen.box) / max(_area(image.shape, near), 1.0)
            ncc = _best_ncc(seen.thumb, _thumb(grey, seen.box, pad=3))
            look = _thumb(grey, seen.box)
            still_ncc = (float(np.sum(look * seen.last_look))
                         if look is not None and seen.last_look is not None else None)
            seen.last_look = look
            anchor_ncc = None
            if seen.history and seen.history[0][0] <= seen.frame_index - _ANCHOR_FRAMES:
                _, a_box, a_thumb = seen.history[0]
                anchor_ncc = round(_best_ncc(a_thumb, _thumb(grey, a_box, pad=3)), 3)
            ghosts.append({"box": [round(float(v) * frame.scale, 1) for v in seen.box],
                           "last_frame": seen.frame_index,
                           "skin_then": round(seen.skin_then, 3), "skin_now": round(now, 3),
                           "around_then": round(seen.around_then, 3),
                           "around_now": round(around, 3), "box_share": round(share, 3),
                           "ncc": round(ncc, 3), "ncc_before": anchor_ncc,
                           "still": None if still_ncc is None else round(still_ncc, 3)})
            still.append(seen)
        # Remember every hand seen now (replacing older sightings of the same place).
        previous = self._seen
        for hand, box in zip(hands, boxes, strict=True):
            pts = hand.landmarks_px.astype(np.float64) / frame.scale
            samples = _bone_samples(image, pts)
            if len(samples) < 12:
                continue
            ab = _lab(samples)[:, 1:]
            mean = ab.mean(axis=0)
            cov = np.cov(ab, rowvar=False) + _PRIOR_COV
            (a, b), (c, d) = cov  # closed-form 2x2 inverse: np.linalg.inv costs ~0.5 ms here
            icov = np.array([[d, -b], [-c, a]]) / (a * d - b * c)
            grown = _grown(box)
            thumb = _thumb(grey, grown)
            if thumb is None:
                continue
            before = max(previous, key=lambda p: box_iou(p.box, grown), default=None)
            history = (before.history if before is not None
                       and box_iou(before.box, grown) >= 0.3 else ())
            history = (*history, (f, grown, thumb))[-(_ANCHOR_FRAMES + 1):]
            seen = _Seen(f, grown, mean, icov, _skin_fraction(image, grown, mean, icov), thumb,
                         last_look=thumb, history=history)
            still = [s for s in still if box_iou(s.box, grown) < 0.3]
            still.append(seen)
        self._seen = still
        return ghosts
