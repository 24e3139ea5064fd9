"""Render a synthetic hand defect into a clean clip and write its ground truth.

:func:`synthesize` tracks the hands of a clean video with vidhand's own pipeline,
picks one hand, draws one defect on it in frames ``start_frame..end_frame`` and
re-encodes the whole clip (same size, rate and frame count), then writes
``<out stem>.truth.json`` (schema ``vidhand.truth/1``) saying what was drawn where.

Example:
    >>> from vidhand.synth import synthesize
    >>> truth = synthesize("clean.mp4", "extra_finger", 30, 54, "bad.mp4", seed=1)
    >>> truth.track_id, truth.frames_rendered[:3]
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vidhand.errors import VidhandError
from vidhand.report import Report, _jsonable, write_text_atomic
from vidhand.synth.defects import (
    DEFECTS,
    EXPECTED_TYPES,
    RENDERERS,
    _roi,
    choose_params,
    defect_visible,
    finger_width_px,
    hand_mask,
)
from vidhand.synth.encode import H264Writer
from vidhand.types import Hand, HandFrame

logger = logging.getLogger(__name__)

TRUTH_SCHEMA = "vidhand.truth/1"
#: Defects that uncover what is behind the hand and so use a background plate.
_NEEDS_BACKGROUND = ("missing_finger", "mirror_flip", "vanish")
#: Longest run of frames without a detection that is bridged by interpolation.
MAX_GAP_FRAMES = 3
#: Frames sampled across the clip to build the background plate.
PLATE_SAMPLES = 24
#: A pixel counts as visibly changed by the drawing past this many levels (of 255).
VISIBLE_LEVELS = 40


@dataclass(frozen=True)
class Truth:
    """Ground truth of one synthesized defect (schema ``vidhand.truth/1``).

    Frames are 0-based in decode order; ``end_frame`` is inclusive. ``frames_rendered``
    lists the frames where the defect was actually drawn (the hand was tracked there);
    ``frames_visible`` those of them where the drawing shows: at least a quarter of a
    finger width squared of pixels changed by more than :data:`VISIBLE_LEVELS` (a digit
    cloned onto skin of the same tone, or two fingers fused that already touched, can
    change almost nothing).
    """

    source: str
    source_sha256: str
    defect: str
    track_id: int
    start_frame: int
    end_frame: int
    expected_types: tuple[str, ...]
    frames_rendered: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    schema: str = TRUTH_SCHEMA
    frames_visible: tuple[int, ...] | None = None  # None: written before it was measured

    @property
    def hardly_shows(self) -> bool:
        """The drawing shows in under half of the frames it was drawn in (False when
        that was not measured)."""
        return (self.frames_visible is not None
                and len(self.frames_visible) < len(self.frames_rendered) / 2)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        d = dataclasses.asdict(self)
        d["expected_types"] = list(self.expected_types)
        d["frames_rendered"] = list(self.frames_rendered)
        if self.frames_visible is not None:
            d["frames_visible"] = list(self.frames_visible)
        return _jsonable(d)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """Build from the JSON form; raise ``ValueError`` if it is not a truth file."""
        if not isinstance(data, dict) or data.get("schema") != TRUTH_SCHEMA:
            got = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"expected a {TRUTH_SCHEMA} file, got schema {got!r}")
        visible = data.get("frames_visible")
        return cls(**{**data, "expected_types": tuple(data["expected_types"]),
                      "frames_rendered": tuple(data["frames_rendered"]),
                      "frames_visible": None if visible is None else tuple(visible)})


def truth_path(out_path: str | os.PathLike[str]) -> Path:
    """Where the truth of ``OUT.mp4`` goes: ``OUT.truth.json`` beside it."""
    p = Path(out_path)
    return p.with_name(p.stem + ".truth.json")


def read_truth(path: str | os.PathLike[str]) -> Truth:
    """Read a ``vidhand.truth/1`` JSON file."""
    return Truth.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def synthesize(
    clean_video: str | os.PathLike[str],
    defect: str,
    start_frame: int,
    end_frame: int,
    out_path: str | os.PathLike[str],
    track_id: int | None = None,
    seed: int = 0,
    report: Report | None = None,
    *,
    max_side: int | None = None,
    params: dict[str, Any] | None = None,
) -> Truth:
    """Draw ``defect`` on one tracked hand in frames ``start_frame..end_frame`` (inclusive).

    Args:
        clean_video: the source clip.
        defect: one of :data:`vidhand.synth.DEFECTS`.
        start_frame: first frame of the defect (0-based, decode order).
        end_frame: last frame of the defect (inclusive).
        out_path: the output video (H.264 in the container its suffix names, e.g. .mp4).
        track_id: the report's track id of the hand; default: the hand visible, large and
            away from the frame edge in most frames of the range.
        seed: makes every random choice repeatable.
        report: a report of ``clean_video`` with a landmark file (default: run
            :func:`vidhand.analyze` now, which runs MediaPipe over the whole clip).
        max_side: analysis size when ``report`` is ``None`` (faster, coarser landmarks).
        params: override defect parameters (e.g. ``{"finger": "ring"}``).

    Returns:
        The :class:`Truth`, also written to ``<out stem>.truth.json``.

    Raises:
        ValueError: unknown defect, bad frame range or unknown ``track_id``.
        VidhandError: the video cannot be read or no hand is tracked in the range.
    """
    if defect not in RENDERERS:
        raise ValueError(f"unknown defect {defect!r}; valid defects: {', '.join(DEFECTS)}")
    if start_frame < 0 or end_frame < start_frame:
        raise ValueError(f"frames must satisfy 0 <= start <= end, got {start_frame}:{end_frame}")
    src = Path(clean_video)
    out = Path(out_path)
    if out.resolve() == src.resolve():
        raise ValueError(f"{out}: the output would overwrite the clean video; choose another path")

    with tempfile.TemporaryDirectory(prefix="vidhand-synth-") as tmp:
        if report is None:
            from vidhand.pipeline import analyze

            report = analyze(src, landmarks_out=Path(tmp) / "clean.landmarks.npz",
                             max_side=max_side)
        from vidhand.pipeline import tracked_hand_frames

        hand_frames = tracked_hand_frames(report)
    n_frames = report.video.frame_count
    if end_frame >= n_frames:
        raise ValueError(f"{src}: end frame {end_frame} is past the last frame "
                         f"({n_frames - 1}); the clip has {n_frames} frames")
    tid = _choose_track(hand_frames, start_frame, end_frame, track_id, src, defect)
    hands = _track_hands(hand_frames, tid, start_frame, end_frame)
    if not hands:
        raise VidhandError(f"{src}: track {tid} is not seen in frames {start_frame}..{end_frame}; "
                           f"choose frames where the hand is visible")
    rng = np.random.default_rng(seed)
    chosen = choose_params(defect, [hands[i] for i in sorted(hands)], rng)
    chosen.update(params or {})
    plate: tuple[Any, Any] | None = None
    if defect in _NEEDS_BACKGROUND:
        plate = _background_plate(src, hand_frames, hands, report, tid)

    others = {hf.frame_index: [h for h in hf.hands if h.track_id != tid] for hf in hand_frames}
    rendered: list[int] = []
    visible: list[int] = []
    rate = report.frame_rate
    with H264Writer(out, rate, report.video.width, report.video.height) as enc:
        for frame_index, image in _decode(src, report):
            hand = hands.get(frame_index)
            if hand is not None:
                k = frame_index - start_frame
                fp = dict(chosen)
                fp.update(_schedule(defect, chosen, k))
                if plate is not None:
                    fp["background"], fp["background_valid"] = plate
                excl = _others_mask(image.shape[:2], others.get(frame_index, []))
                if excl is not None:
                    fp["exclude"] = excl
                frame_rng = np.random.default_rng([seed, frame_index])
                drawn = RENDERERS[defect](image, hand, frame_rng, fp)
                rendered.append(frame_index)
                if _shows(image, drawn, hand):
                    visible.append(frame_index)
                image = drawn
            enc.write(image)
        written = enc.count
    if written != n_frames:
        logger.warning("%s: decoded %d frames but the report counted %d", src, written,
                       n_frames)
    from vidhand.pipeline import file_sha256

    record = {k: v for k, v in chosen.items() if k != "noise"}
    record.update(seed=seed, rate=f"{rate.numerator}/{rate.denominator}",
                  background_plate=plate is not None and bool(plate[1].any()),
                  interpolated_frames=sorted(i for i, h in hands.items()
                                             if h.features.get("synth_interpolated")))
    truth = Truth(source=str(src), source_sha256=report.video.sha256 or file_sha256(src),
                  defect=defect, track_id=tid, start_frame=start_frame, end_frame=end_frame,
                  expected_types=EXPECTED_TYPES[defect], frames_rendered=tuple(rendered),
                  params=record, output=str(out), frames_visible=tuple(visible))
    write_text_atomic(truth_path(out), json.dumps(truth.to_dict(), indent=2) + "\n")
    return truth


# --------------------------------------------------------------------------- tracking


def _hand_ok(hand: Hand, wh: tuple[int, int]) -> bool:
    """Large enough to draw on and not cut by the frame edge."""
    w, h = wh
    x0, y0, x1, y1 = hand.bbox_xyxy
    margin = 0.02 * min(w, h)
    inside = x0 > margin and y0 > margin and x1 < w - margin and y1 < h - margin
    return inside and hand.size_px >= max(40.0, 0.08 * min(w, h))


def _choose_track(hand_frames: Sequence[HandFrame], start: int, end: int,
                  track_id: int | None, src: Path, defect: str = "") -> int:
    """``track_id``, or the hand to break: one the defect would show on (its fingers
    extended), then the one seen large and inside the frame in most frames of the range."""
    seen: dict[int, list[Hand]] = {}
    good: dict[int, int] = {}
    for hf in hand_frames:
        if not start <= hf.frame_index <= end:
            continue
        for h in hf.hands:
            if h.track_id is None:
                continue
            seen.setdefault(h.track_id, []).append(h)
            good[h.track_id] = good.get(h.track_id, 0) + _hand_ok(h, hf.frame_size_wh)
    if track_id is not None:
        if track_id not in seen:
            listed = ", ".join(map(str, sorted(seen))) or "none"
            raise ValueError(f"{src}: track {track_id} is not seen in frames {start}..{end}; "
                             f"tracks there: {listed}")
        return track_id
    if not seen:
        raise VidhandError(f"{src}: no hand is tracked in frames {start}..{end}; choose a "
                           f"range where `vidhand check` finds a hand")
    # A hand fit to draw on in at least half as many frames as the fittest one.
    fit = max(good.values())
    return max(seen, key=lambda t: (fit > 0 and 2 * good[t] >= fit
                                    and defect_visible(defect, seen[t]),
                                    good[t], len(seen[t]),
                                    float(np.mean([h.size_px for h in seen[t]]))))


def _track_hands(hand_frames: Sequence[HandFrame], tid: int, start: int, end: int
                 ) -> dict[int, Hand]:
    """The track's hand in each frame of the range: short gaps interpolated, jitter smoothed."""
    all_hands = {hf.frame_index: h for hf in hand_frames for h in hf.hands if h.track_id == tid}
    idx = sorted(all_hands)
    out: dict[int, Hand] = {}
    for f in range(start, end + 1):
        if f in all_hands:
            out[f] = all_hands[f]
            continue
        before = [i for i in idx if i < f and f - i <= MAX_GAP_FRAMES]
        after = [i for i in idx if i > f and i - f <= MAX_GAP_FRAMES]
        if before and after and after[0] - before[-1] <= MAX_GAP_FRAMES + 1:
            a, b = all_hands[before[-1]], all_hands[after[0]]
            t = (f - before[-1]) / (after[0] - before[-1])
            out[f] = dataclasses.replace(
                a, landmarks_px=(a.landmarks_px * (1 - t) + b.landmarks_px * t).astype(np.float32),
                features={"synth_interpolated": True})
    # [1, 2, 1] smoothing over consecutive frames: MediaPipe jitters by a few pixels,
    # which would make the drawn defect shimmer (an obvious coding artefact).
    smoothed: dict[int, Hand] = {}
    for f, h in out.items():
        nb = [all_hands.get(f - 1, out.get(f - 1)), h, all_hands.get(f + 1, out.get(f + 1))]
        wts = [1.0 if nb[0] is not None else 0.0, 2.0, 1.0 if nb[2] is not None else 0.0]
        pairs = [(w, n) for w, n in zip(wts, nb, strict=True) if n is not None]
        lm = sum(w * n.landmarks_px for w, n in pairs) / sum(wts)
        smoothed[f] = dataclasses.replace(h, landmarks_px=np.asarray(lm, np.float32))
    return smoothed


def _shows(before: npt.NDArray[np.uint8], after: npt.NDArray[np.uint8], hand: Hand) -> bool:
    """Whether drawing on ``hand`` changed enough pixels to be seen (see :class:`Truth`)."""
    x0, y0, x1, y1 = _roi(hand, before.shape, pad=1.0)
    a = before[y0:y1, x0:x1].astype(np.int16)
    b = after[y0:y1, x0:x1].astype(np.int16)
    changed = int(np.count_nonzero(np.abs(a - b).max(axis=2) > VISIBLE_LEVELS))
    return changed >= 0.25 * finger_width_px(hand.landmarks_px) ** 2


def _schedule(defect: str, params: dict[str, Any], k: int) -> dict[str, Any]:
    """Per-frame parameters: fades and slow drift, ``k`` frames into the defect."""
    if defect == "vanish":
        n = int(params.get("fade_frames", 2))
        return {"strength": min(1.0, (k + 1) / (n + 1))}
    if defect == "melt":
        n = int(params.get("ramp_frames", 3))
        return {"strength": min(1.0, (k + 1) / (n + 1)), "phase": 0.12 * k}
    return {}


def _others_mask(shape: tuple[int, int], hands: Sequence[Hand]) -> npt.NDArray[np.float32] | None:
    if not hands:
        return None
    m = np.zeros(shape, np.float32)
    for h in hands:
        m = np.maximum(m, hand_mask(shape, h.landmarks_px, grow=0.2))
    return m


# --------------------------------------------------------------------------- video I/O


def _decode(src: Path, report: Report) -> Iterator[tuple[int, npt.NDArray[np.uint8]]]:
    from vidhand.video import open_video

    backend = str(report.settings.get("backend") or "pyav")
    with open_video(src, backend=backend) as source:
        for frame in source:
            yield frame.index, frame.image


def _background_plate(src: Path, hand_frames: Sequence[HandFrame], hands: dict[int, Hand],
                      report: Report, tid: int
                      ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """What is behind the hand, from frames where it was elsewhere.

    Samples up to :data:`PLATE_SAMPLES` frames across the clip, masks every tracked hand
    in them, and takes the per-pixel median of the unmasked samples inside the area the
    hand covers during the defect. A pixel is valid when at least three samples saw it
    and they agree (a static background); elsewhere the renderers fall back to a
    spatial fill.
    """
    w, h = report.video.width, report.video.height
    n = report.video.frame_count
    by_index = {hf.frame_index: hf for hf in hand_frames}
    boxes = np.array([hd.bbox_xyxy for hd in hands.values()])
    pad = 0.8 * max(hd.size_px for hd in hands.values())
    x0 = int(max(0, boxes[:, 0].min() - pad))
    y0 = int(max(0, boxes[:, 1].min() - pad))
    x1 = int(min(w, boxes[:, 2].max() + pad))
    y1 = int(min(h, boxes[:, 3].max() + pad))
    wanted = set(np.linspace(0, n - 1, min(PLATE_SAMPLES, n)).round().astype(int).tolist())
    stack: list[npt.NDArray[np.float32]] = []
    for frame_index, image in _decode(src, report):
        if frame_index not in wanted:
            continue
        crop = image[y0:y1, x0:x1].astype(np.float32)
        hf = by_index.get(frame_index)
        cover = np.zeros(crop.shape[:2], np.float32)
        present = set()
        for hd in hf.hands if hf is not None else ():
            present.add(hd.track_id)
            lm = hd.landmarks_px - np.array([x0, y0], np.float32)
            cover = np.maximum(cover, hand_mask(crop.shape[:2], lm, grow=0.6))
        if tid not in present and frame_index in range(min(hands), max(hands) + 1):
            continue  # the hand may be there undetected
        crop[cover > 0.01] = np.nan
        stack.append(crop)
    plate = np.zeros((h, w, 3), np.uint8)
    valid = np.zeros((h, w), bool)
    if len(stack) >= 3:
        arr = np.stack(stack)
        count = np.isfinite(arr[..., 0]).sum(axis=0)
        with np.errstate(all="ignore"), _quiet_nan_warnings():
            med = np.nanmedian(arr, axis=0)
            spread = np.nanmedian(np.abs(arr - med[None]), axis=0).max(axis=-1)
        ok = (count >= 3) & (spread < 10.0)
        plate[y0:y1, x0:x1] = np.nan_to_num(med).clip(0, 255).astype(np.uint8)
        valid[y0:y1, x0:x1] = ok
    return plate, valid


class _quiet_nan_warnings:
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)
