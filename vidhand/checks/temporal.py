"""The temporal model: typed hand-defect events from per-frame evidence over time.

Every detector follows the same recipe, so users see few, well-placed events:

1. a per-frame indicator computed against the same hand's *own* robust baseline
   (rolling median/MAD over ``baseline_s``), never a fixed constant alone, so a
   child's hand and an adult's, a close-up and a full-body shot all work;
2. the noise model masks frames that cannot be judged: hands smaller than
   ``min_hand_px``, at the frame edge, covered by or covering another hand (more than
   ``max_tangle`` of its skeleton within a finger width or so of the other's bones:
   hands side by side or framing a face overlap in their boxes and are still judged),
   in fast motion, or next to a scene cut (baselines restart at cuts);
3. one shared debounce (:func:`vidhand.checks.base.find_runs`): runs shorter than
   ``min_event_s`` are dropped, runs closer than ``merge_gap_s`` merge;
4. severity from the strength and duration of the evidence.

Event types: see :data:`vidhand.types.EVENT_TYPES`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vidhand.checks.base import Check, find_runs, severity_of
from vidhand.checks.track_data import (
    NDF,
    NDI,
    ClipContext,
    TrackBuffer,
    TrackData,
    buffer_hands,
    record_frame,
)
from vidhand.evidence.landmarks import MASK_GATE_FW, MAX_TANGLE
from vidhand.hand_model import FINGER_NAMES
from vidhand.types import Finding, HandFrame, VideoInfo

_PAIR_NAMES = ("thumb-index", "index-middle", "middle-ring", "ring-pinky")
#: The pairs of fingers proper (index-middle, middle-ring, ring-pinky).
_FINGER_PAIRS = [1, 2, 3]


@dataclass(frozen=True)
class TemporalConfig:
    """Thresholds of the temporal model (all recorded in the report's settings)."""

    min_hand_px: float = 60.0  # smaller hands are "too small to judge"
    edge_margin: float = 0.02  # fraction of the frame size
    max_tangle: float = MAX_TANGLE  # share of the skeleton touching another hand's: not judged
    min_event_s: float = 0.2  # shortest event
    min_event_frames: int = 3
    merge_gap_s: float = 0.25
    baseline_s: float = 3.0  # rolling baseline window
    baseline_min_s: float = 0.5  # a baseline needs at least this much of the hand
    fast_motion: float = 0.25  # palm speed in hand sizes per frame
    # hand_vanish
    vanish_min_gap_s: float = 0.2
    vanish_min_history_s: float = 0.4
    vanish_min_score: float = 0.8
    vanish_skin_drop: float = 0.5  # skin_now / skin_then below this: the hand is gone
    # or its last picture no longer matches its place. 0.75 (was 0.65): halfway to 0.85,
    # the loosest value tried at which neither the accuracy benchmark's three sets nor the
    # transformed footage of benchmarks/robustness.py raise a false alarm more (README,
    # "Thresholds")
    vanish_ncc: float = 0.75
    vanish_calm: float = 0.04  # palm speed (hand sizes/frame) under which a fade is judged
    vanish_moved_on: float = 0.5  # share of the lost skin found around the box: moved on
    # low_confidence
    lowconf_score: float = 0.6
    lowconf_drop: float = 0.3
    lowconf_still: float = 0.08
    melt_blur_rise: float = 0.2  # px_blur above the hand's own baseline
    # a run longer than half its baseline window (held against the rest of the window)
    # must be off in at least this share of its judged frames, not scattered frames
    # joined across merge gaps (0 turns this off)
    long_run_share: float = 0.7
    # any melt or collapse: flagged in at least this share of the judged frames it spans
    # (a blur hovering at the threshold flags a frame here and there; 0 turns this off)
    melt_run_share: float = 0.5
    # handedness_flip / topology_change
    flip_min_score: float = 0.8
    chirality_min: float = 0.15
    topology_min_score: float = 0.9
    flip_continuity: float = 0.55  # the hand's pixels must jump (match below this) at a flip
    mirror_min_s: float = 0.2  # a mirrored hand holds at least this long
    mirror_label_score: float = 0.9
    # the label a mirror is judged against must be the hand's label in more than this
    # share of its confident frames outside the flipped stretch (0 turns this off): a
    # hand the detector calls left and right in turn has no side to be mirrored from
    mirror_ref_share: float = 0.5
    # ...and the hand showed that label confidently for mirror_min_s before it turned, as
    # long as a mirror must hold: a hand that has just entered, called left and right in
    # turn, has no side yet to turn from; a palm swapping (topology_change) held its side
    # that long just before (False turns both off)
    side_held: bool = True
    # ...and a flip judged from the pixels alone (no thumb side to read) must be seen where
    # it turns: the hand observed at most this many frames before (as where it turns back);
    # a hand found again after a longer detector gap was not seen turning (it may be another)
    mirror_seen_gap: int = 2
    # proportion_drift
    drift_rel: float = 0.2
    drift_mad_k: float = 4.0
    drift_others: float = 0.1  # the other fingers' own deviation must stay under this
    # ...and no other finger (the thumb aside) deviates by this much: a stretched finger
    # moves alone (drift_rel; a large value turns this off)
    drift_others_max: float = 0.2
    # ...or in the pixels: a finger's mask reaching on past its tip landmark (px_reach,
    # finger widths) by this much more than usual, while the skeleton keeps its length
    # (the landmark model fits its usual proportions to a stretched finger); 0 turns off
    reach_jump: float = 0.8
    # ...where the finger's colour step at its tip landmark (px_tip_step) falls under this
    # share of its usual: a real finger ends at its tip landmark, a stretched one goes on
    reach_tip_step: float = 0.5
    # ...and the strip is this finger's own: the hand mask keeps only pixels within
    # MASK_GATE_FW (1.8) finger widths of the skeleton (evidence/pixels.py), so a strip
    # reaching further past this tip lies along another finger's bones (plus 0.2: the
    # strip's sampling rounds)
    reach_own_max: float = MASK_GATE_FW + 0.2
    # pixel finger evidence
    stable_s: float = 0.3  # window in which a digit count must hold to count
    stable_frac: float = 0.7
    # a digit count off the skeleton's is a lag when the skeleton moves its way this soon
    # after (a hand closing shows it in the pixels first); 0 turns this off
    skeleton_follow_s: float = 0.3
    extra_min_digits: int = 6
    # a fist's outline shows knuckles, a held object or skin behind it, not digits
    digits_min_extended: int = 2
    support_drop: float = 0.35  # finger coverage lost against its usual
    support_others: float = 0.2  # ...while no other finger loses more than this
    support_usual_q: float = 0.75  # a finger's usual coverage: this quantile over baseline_s
    # a lost finger the skeleton folds was extended up to the run: in most of the last
    # baseline_s / 4 before it and in most of this much (detect_lost_finger)
    lost_extended_s: float = 0.3
    # ...and the pixels count at most this many digits fewer than the skeleton there: one
    # finger gone takes one digit off; more is a hand partly hidden (behind a held cup)
    lost_max_deficit: float = 1.0
    # ...read off a skeleton the detector is sure of: no flagged frame confidently names
    # the other side (False turns this off); a detector in doubt between a left and a
    # right hand places the fingers differently from frame to frame
    lost_steady_label: bool = True
    gap_drop: float = 0.3  # background between two fingers lost against its usual
    # fused_fingers from the web between two fingers the skeleton holds apart
    web_spread: float = 1.6  # adjacent fingers' distance apart (finger widths) to judge
    web_open_gap: float = 0.2  # background share between them that shows them apart
    web_valley: float = 0.2  # a crease shallower than this is no crease
    web_overlap: float = 0.5  # extended fingers closer than this (finger widths): misfit
    # ...and seen in the skeleton's usual pose: where another finger (index to pinky) is
    # extended in a share of the webbed frames that differs by this much or more from
    # its share in the open ones, the web must also show in a frame with the open
    # frames' pose, or it is the detector's other fit of the hand (over 1: off)
    web_pose_change: float = 0.5

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> TemporalConfig:
        """Build from a dict, rejecting unknown names with the list of valid ones."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ValueError(f"unknown check option(s) {', '.join(unknown)}; valid options: "
                             f"{', '.join(sorted(valid))}")
        return cls(**options)


def _nanmedian(a: Any, axis: int | None = None) -> Any:
    """``np.nanmedian`` without the warning for all-NaN slices (they give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


#: Observations whose windows are gathered at once (bounds the memory of one gather).
_WINDOW_CHUNK = 2048


def _windows(x: NDF, frames: np.ndarray, half_window: int) -> Iterator[tuple[NDI, NDF]]:
    """Yield ``(rows, w)``: ``w[j]`` holds ``x`` at every frame within ``half_window``
    frames of observation ``rows[j]`` (NaN where there is no observation or no value).

    ``x`` is laid on the track's frame grid once; windows are views of it, gathered for
    ``_WINDOW_CHUNK`` observations at a time.
    """
    n = len(x)
    if n == 0:
        return
    f0 = int(frames[0])
    grid = np.full(int(frames[-1]) - f0 + 1 + 2 * half_window, np.nan)
    grid[frames - f0 + half_window] = x
    view = sliding_window_view(grid, 2 * half_window + 1)
    for start in range(0, n, _WINDOW_CHUNK):
        rows = np.arange(start, min(n, start + _WINDOW_CHUNK))
        yield rows, view[frames[rows] - f0]


def rolling_median_mad(x: NDF, frames: np.ndarray, half_window: int) -> tuple[NDF, NDF]:
    """Median and MAD of ``x`` over observations within ``half_window`` frames of each one
    (NaN = missing; NaN where the window holds no value)."""
    med = np.full(len(x), np.nan)
    mad = np.full(len(x), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        for rows, w in _windows(np.asarray(x, dtype=np.float64), frames, half_window):
            m = np.nanmedian(w, axis=1)
            med[rows] = m
            mad[rows] = np.nanmedian(np.abs(w - m[:, None]), axis=1)
    return med, mad


def rolling_quantile(x: NDF, frames: np.ndarray, half_window: int, q: float) -> NDF:
    """Quantile ``q`` (0-1) of ``x`` over observations within ``half_window`` frames of each
    one (NaN = missing; NaN where the window holds no value)."""
    out = np.full(len(x), np.nan)
    for rows, w in _windows(np.asarray(x, dtype=np.float64), frames, half_window):
        w = np.sort(w, axis=1)  # NaN sorts last
        k = np.count_nonzero(~np.isnan(w), axis=1)
        ok = k > 0
        # numpy's "linear" quantile, step by step as np.quantile computes it, per row.
        virtual = (k[ok] - 1) * q
        below = np.floor(virtual)
        gamma = virtual - below
        lo_i = np.clip(below.astype(np.int64), 0, k[ok] - 1)
        hi_i = np.clip(below.astype(np.int64) + 1, 0, k[ok] - 1)
        r = np.flatnonzero(ok)
        a, b = w[r, lo_i], w[r, hi_i]
        diff = b - a
        value = a + diff * gamma
        np.subtract(b, diff * (1 - gamma), out=value, where=gamma >= 0.5)
        out[rows[ok]] = value
    return out


class TemporalModel(Check):
    """All event detectors over tracked hands (one check, one buffer per track)."""

    CHECK_NAME = "temporal"

    def __init__(self, **options: Any) -> None:
        self.config = TemporalConfig.from_options(options)
        self._ctx: ClipContext | None = None
        self._buffers: dict[int, TrackBuffer] = {}
        self.notes: list[str] = []

    @property
    def settings(self) -> dict[str, Any]:
        """The thresholds in force."""
        return asdict(self.config)

    def begin(self, info: VideoInfo) -> None:
        """Reset for a new video."""
        self._ctx = ClipContext(frame_rate=info.frame_rate, frame_size_wh=(info.width, info.height))
        self._buffers = {}
        self.notes = []

    def process(self, hand_frame: HandFrame) -> list[Finding]:
        """Buffer this frame's evidence; detectors run when the video ends."""
        assert self._ctx is not None, "begin() must be called first"
        record_frame(self._ctx, hand_frame)
        buffer_hands(self._buffers, hand_frame)
        return []

    def remap_tracks(self, id_map: dict[int, int]) -> None:
        """Adopt the report's track ids; drop tracks that are detector noise.

        Several tracks mapped to one id (a hand found again after a detector gap) become
        one track: their observations never share a frame.
        """
        merged: dict[int, TrackBuffer] = {}
        for k, buf in sorted(self._buffers.items(), key=lambda kv: kv[1].rows[0][0]):
            if k not in id_map:
                continue
            if id_map[k] in merged:
                merged[id_map[k]].rows.extend(buf.rows)
            else:
                merged[id_map[k]] = buf
                buf.track_id = id_map[k]
        self._buffers = merged
        if self._ctx is not None:
            # Noise tracks keep a negative id: their boxes still count as other hands.
            self._ctx.boxes = {f: [(id_map.get(tid, -1 - tid), b) for tid, b in boxes]
                               for f, boxes in self._ctx.boxes.items()}

    def finalize(self) -> list[Finding]:
        """Run every detector on every track."""
        ctx = self._ctx
        if ctx is None:
            return []
        tracks = [b.to_data() for b in self._buffers.values()]
        for t in tracks:
            resumed = np.flatnonzero(np.diff(t.frames) > 1) + 1
            ctx.track_starts[t.track_id] = [int(t.frames[i]) for i in (0, *resumed)]
        findings: list[Finding] = []
        for t in tracks:
            small = float(np.mean(t.size < self.config.min_hand_px)) if t.n else 0.0
            if small >= 0.5:
                self.notes.append(
                    f"track {t.track_id}: too small to judge in {small:.0%} of its frames "
                    f"(hand under {self.config.min_hand_px:.0f} px); its fingers were not checked")
            for detector in DETECTORS:
                findings.extend(detector(t, ctx, self.config))
        return merge_same_events(findings)


# --------------------------------------------------------------------------- helpers


def _px(t: TrackData, key: str, fill: float | list[float]) -> NDF:
    """Pixel evidence ``key`` of every observation of ``t`` as floats, ``fill`` where it
    was not measured: shape (n,) for a number, (n, len(fill)) for a list."""
    a = np.array([p.get(key, fill) for p in t.px], dtype=np.float64)
    return a.reshape(-1, len(fill)) if isinstance(fill, list) else a


def _px_measured(t: TrackData) -> np.ndarray:
    """Observations of ``t`` whose pixels could be judged (``px_judgeable``)."""
    return np.array([bool(p.get("px_judgeable", False)) for p in t.px], dtype=bool)


def _judgeable(t: TrackData, ctx: ClipContext, cfg: TemporalConfig) -> np.ndarray:
    """Frames of ``t`` whose geometry can be judged (noise model, landmark side)."""
    ok = t.size >= cfg.min_hand_px
    ok &= np.array([not ctx.at_edge(b, cfg.edge_margin) for b in t.boxes], dtype=bool)
    ok &= t.tangle <= cfg.max_tangle
    ok &= t.speed() < cfg.fast_motion
    cut_near = np.array([ctx.near_cut(int(f), int(f), pad=1) for f in t.frames], dtype=bool)
    return ok & ~cut_near


def _segments(t: TrackData, ctx: ClipContext) -> list[np.ndarray]:
    """Index arrays of ``t`` split at scene cuts (baselines restart at every cut)."""
    if not ctx.cuts or t.n == 0:
        return [np.arange(t.n)]
    seg_id = np.searchsorted(np.asarray(sorted(ctx.cuts)), t.frames, side="right")
    return [np.flatnonzero(seg_id == s) for s in np.unique(seg_id)]


def _runs_to_findings(
    t: TrackData, ctx: ClipContext, cfg: TemporalConfig, active: np.ndarray,
    kind: str, strength: np.ndarray, message: Callable[[int, int, dict[str, Any]], str],
    evidence: Callable[[np.ndarray], dict[str, Any]],
    accept: Callable[[np.ndarray], bool] | None = None,
) -> list[Finding]:
    """Debounce an indicator over a track's observations and emit findings.

    ``accept(idx)`` may veto a debounced run (observation indices) that lacks evidence.
    """
    min_len = max(cfg.min_event_frames, ctx.frames(cfg.min_event_s))
    gap = ctx.frames(cfg.merge_gap_s, minimum=0)
    out = []
    # Runs are over observation indices; a missed frame inside a run is not a break.
    for a, b in find_runs(list(active), min_len=1, merge_gap=gap):
        span = t.frames[b] - t.frames[a] + 1
        if span < min_len or int(active[a:b + 1].sum()) < min_len:
            continue
        idx = np.arange(a, b + 1)[active[a:b + 1]]
        if accept is not None and not accept(idx):
            continue
        s = float(np.clip(np.median(strength[idx]), 0.0, 1.0))
        ev = evidence(idx)
        ev["frames_flagged"] = len(idx)
        sev = severity_of(s, span / ctx.fps)
        out.append(Finding(type=kind, track_id=t.track_id, start_frame=int(t.frames[a]),
                           end_frame=int(t.frames[b]), severity=sev,
                           message=message(int(t.frames[a]), int(t.frames[b]), ev),
                           evidence=ev))
    return out


# --------------------------------------------------------------------------- detectors


def detect_vanish(t: TrackData, ctx: ClipContext, cfg: TemporalConfig) -> list[Finding]:
    """A confident, established hand stops being detected mid-shot and its pixels go too."""
    out = []
    min_gap = ctx.frames(cfg.vanish_min_gap_s, minimum=3)
    history = ctx.frames(cfg.vanish_min_history_s, minimum=5)
    speed = t.speed()
    ends = [(i, int(t.frames[i + 1])) for i in range(t.n - 1)
            if t.frames[i + 1] - t.frames[i] - 1 >= min_gap]
    if ctx.last_frame - t.frames[-1] >= min_gap:
        ends.append((t.n - 1, -1))
    for i, back in ends:
        if i + 1 < history:
            continue
        last = int(t.frames[i])
        box = t.boxes[i]
        recent = slice(max(0, i - 4), i + 1)
        if float(np.median(t.score[recent])) < cfg.vanish_min_score:
            continue
        if t.size[i] < cfg.min_hand_px or ctx.at_edge(box, cfg.edge_margin):
            continue
        j = max(0, i - 2)
        step = (t.center[i] - t.center[j]) / max(1, int(t.frames[i] - t.frames[j]))
        pred = box + np.tile(step * min_gap, 2)
        if ctx.at_edge(pred, cfg.edge_margin):
            continue  # on its way out of the frame
        if float(np.max(speed[recent])) >= cfg.fast_motion:
            continue  # motion blur: the detector loses fast hands
        end = (back - 1) if back >= 0 else ctx.last_frame
        if ctx.near_cut(last, min(end, last + min_gap)):
            continue
        if any(ctx.overlaps_other(f, t.track_id, box, iou=0.02) for f in range(last - 2, last + 1)):
            continue  # occluded by / merged with the other hand
        # Judge the first two frames after the loss: a hand moving at under `fast_motion`
        # hand sizes per frame cannot empty its own box that fast, a vanishing one does.
        # Compare with the picture from before a fade only if the hand was nearly still
        # then; a moving hand's old picture is elsewhere.
        calm = float(np.max(speed[max(0, i - 5):i + 1])) < cfg.vanish_calm
        gone = _ghost_gone(ctx, last, box, min(end, last + 3), use_before=calm)
        if gone is None:
            continue  # no pixel proof: a gap alone is a detector miss
        if gone.ncc is None:
            # The hand's skin left its box, but nothing went still there to compare with
            # its last picture: it may have moved on behind something (a cup it carries),
            # or, calm until then, out of its box between two frames of a low-rate clip
            # (an arm swinging out at 12 fps), which its skin not turning up around the
            # box does not rule out.
            continue
        ratio, ncc = gone.ratio, gone.ncc
        if ratio > cfg.vanish_skin_drop and ncc > cfg.vanish_ncc:
            continue  # the hand's colour and picture are still there: a detector miss
        if gone.moved is not None and gone.moved >= cfg.vanish_moved_on:
            continue  # its skin went next door: it moved on faster than the detector
        returns = back if back >= 0 else _returns_as(ctx, t, last)
        gap_s = ((returns if returns >= 0 else ctx.last_frame + 1) - last - 1) / ctx.fps
        strength = min(1.0, max(1.0 - ratio, 1.0 - max(ncc, 0.0)) * 1.2)
        ev = {"last_seen_frame": last, "returned_frame": returns if returns >= 0 else None,
              "gap_s": round(gap_s, 3), "skin_then": gone.skin_then,
              "skin_now": gone.skin_now,
              "picture_match": round(ncc, 3),
              "skin_moved_near": gone.moved,
              "score_before": round(float(np.median(t.score[recent])), 3),
              "hand_px": round(float(t.size[i]), 1)}
        where = (f"returns at frame {returns} after {gap_s:.2f}s" if returns >= 0
                 else "never returns")
        out.append(Finding(
            type="hand_vanish", track_id=t.track_id, start_frame=last + 1,
            end_frame=max(last + 1, (returns - 1) if returns >= 0 else ctx.last_frame),
            severity=severity_of(strength, max(gap_s, 0.0)),
            message=(f"hand {t.track_id} vanishes mid-shot after frame {last} (its place "
                     f"keeps {min(ratio, 1.0):.0%} of its skin and matches its last picture "
                     f"at {max(ncc, 0.0):.2f}) and {where}"),
            evidence=ev))
    return out


@dataclass(frozen=True)
class _Gone:
    """What the pixels say about a lost hand's place (see :func:`_ghost_gone`)."""

    ratio: float  # largest skin_now / skin_then in its box
    skin_then: float
    skin_now: float
    ncc: float | None  # best match with its last picture (None: the place kept moving)
    moved: float | None  # largest share of the lost skin found around the box


def _ghost_gone(ctx: ClipContext, last: int, box: NDF, until: int, use_before: bool,
                ) -> _Gone | None:
    """How much of the hand is still at ``box`` in frames last+1..until.

    The largest skin ratio (now/then), the median skin fractions then and now, the
    largest match of the box with its last picture (NCC; with ``use_before``, also with
    its picture five frames before the loss, for hands that fade out), and the largest
    share of the skin the box lost that is found in its neighbourhood (a hand that moved
    on faster than the detector followed); ``None`` without ghost measurements (no pixel
    evidence recorded).
    """
    from vidhand.tracking.identity import box_iou

    ratios, then, now, ncc, still, moved = [], [], [], [], [], []
    for f in range(last + 1, until + 1):
        # This hand's ghost is its own (grown) box: another hand lost in the same frame
        # leaves a ghost with the same last frame elsewhere.
        overlap = [(box_iou(np.asarray(g["box"]), box), g) for g in ctx.ghosts.get(f, ())]
        mine = [(iou, g) for iou, g in overlap
                if iou > 0.5 or (g["last_frame"] == last and iou > 0.3)]
        if not mine:
            continue
        g = max(mine, key=lambda m: m[0])[1]
        if g["skin_then"] > 0.15:
            ratios.append(g["skin_now"] / g["skin_then"])
            then.append(g["skin_then"])
            now.append(g["skin_now"])
            lost = (g["skin_then"] - g["skin_now"]) * g.get("box_share", np.nan)
            if lost > 0.01:  # of the neighbourhood's area
                gain = g["around_now"] - g["around_then"] + lost  # around the box
                moved.append(gain / lost)
        before = g.get("ncc_before") if use_before else None
        ncc.append(min(float(g.get("ncc", 1.0)),
                       float(before) if before is not None else 1.0))
        if g.get("still") is not None and f > last + 1:
            still.append(float(g["still"]))
    if not ncc:
        return None
    # The picture test only counts where the place has gone still: a hand that was
    # replaced by background, not one that is moving on undetected.
    match = float(np.max(ncc)) if still and min(still) >= 0.9 else None
    return _Gone(float(np.max(ratios)) if ratios else 1.0,
                 round(float(np.median(then)), 3) if then else 0.0,
                 round(float(np.median(now)), 3) if now else 0.0, match,
                 round(float(np.max(moved)), 3) if moved else None)


def _returns_as(ctx: ClipContext, t: TrackData, last: int) -> int:
    """First frame after ``last`` where another track starts, or resumes after a gap,
    near where ``t`` was last seen (or -1)."""
    size = float(np.median(t.size))
    best = -1
    for tid, starts in ctx.track_starts.items():
        if tid == t.track_id:
            continue
        for first in starts:
            if first <= last or (best >= 0 and first >= best):
                continue
            for other_id, b in ctx.boxes.get(first, []):
                c = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
                if other_id == tid and np.linalg.norm(c - t.center[-1]) <= 1.5 * size:
                    best = first
    return best


def detect_low_confidence(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                          ) -> list[Finding]:
    """The model stops recognising a hand, or its pixels smear: it is melting.

    Two signs, each against the hand's own baseline: the detector's confidence collapses
    while the hand stays in place (so a turning hand does not count), or the hand's
    pixels lose their edges (``px_blur`` rises well above the hand's usual) — a smear,
    as generators melt hands, that the detector still follows. A moving hand's blur is
    held against its own blur when it moved about as fast, so motion blur does not
    count; past ``fast_motion`` nothing is judged.
    """
    out = []
    judge = _judgeable(t, ctx, cfg)
    speed = t.speed()
    half = ctx.frames(cfg.baseline_s / 2)
    blur = np.array([p.get("px_blur", np.nan) if p.get("px_hand_size", 0) >= 40 else np.nan
                     for p in t.px], dtype=np.float64) if t.px else np.full(t.n, np.nan)
    history = ctx.frames(cfg.vanish_min_history_s, minimum=5)
    min_rest = ctx.frames(cfg.baseline_min_s)
    merge_gap = ctx.frames(cfg.merge_gap_s, minimum=0)
    for seg in _segments(t, ctx):
        if len(seg) < 2 * cfg.min_event_frames:
            continue
        score = t.score[seg]
        med, _ = rolling_median_mad(score, t.frames[seg], half)
        drop = med - score
        still = speed[seg] < cfg.lowconf_still
        collapse = (score < cfg.lowconf_score) & (drop > cfg.lowconf_drop)
        b = blur[seg]
        # The hand's usual blur: over baseline_s while it stays in place; a moving hand
        # blurs with its speed, so its own blur when it moved about as fast (half to
        # twice the speed). NaN (no smear) where there is no such reference.
        usual_blur = np.full(t.n, np.nan)
        usual_blur[seg] = np.where(still, rolling_median_mad(b, t.frames[seg], half)[0],
                                   blur_at_like_speed(b, speed[seg], t.frames[seg], half))
        rise = np.nan_to_num(b - usual_blur[seg])
        smear = rise > cfg.melt_blur_rise
        ok = still & judge[seg]
        # A melt or a collapse filling most of its baseline window is that window's
        # median: held against the rest of the window instead, on a still hand (a moving
        # one's blur has no rest at its own speed to be held against).
        long_args = (t.frames[seg], half, min_rest, merge_gap, cfg.long_run_share)
        long_smear, rest_blur = _long_runs_against_rest(
            np.where(ok, b, np.nan), *long_args, +1, cfg.melt_blur_rise)
        smear |= long_smear
        usual_blur[seg] = np.where(long_smear, rest_blur, usual_blur[seg])
        rise = np.where(long_smear, b - rest_blur, rise)
        long_collapse, rest_score = _long_runs_against_rest(
            np.where(ok, score, np.nan), *long_args, -1, cfg.lowconf_drop)
        long_collapse &= score < cfg.lowconf_score
        drop = np.where(long_collapse, rest_score - score, drop)
        collapse |= long_collapse
        usual_score = np.full(t.n, np.nan)
        usual_score[seg] = np.where(long_collapse, rest_score, med)
        # A collapse needs a confident hand before it: not the first frames of a track.
        confident_before = np.zeros(len(seg), dtype=bool)
        run = 0
        for j in range(len(seg)):
            confident_before[j] = run >= history
            run = run + 1 if score[j] >= cfg.vanish_min_score else (
                run if collapse[j] and ok[j] else 0)
        collapse &= _extend_true(confident_before, collapse & ok)
        active = np.zeros(t.n, dtype=bool)
        active[seg] = (collapse & ok) | (smear & judge[seg])
        strength = np.zeros(t.n)
        strength[seg] = np.clip(np.maximum(drop / 0.6, rise / 0.5), 0, 1)
        out.extend(_runs_to_findings(
            t, ctx, cfg, active, "low_confidence", strength,
            lambda a, b, ev: (f"hand {t.track_id} stops looking like a hand in frames {a}-{b}: "
                              f"detector confidence "
                              f"{ev['score_min']:.2f} (usually {ev['score_baseline']:.2f}), "
                              f"edge blur {ev['blur_max']:.2f} "
                              f"(usually {ev['blur_baseline']:.2f})"),
            lambda idx, usual_blur=usual_blur, usual_score=usual_score: {
                "score_min": round(float(t.score[idx].min()), 3),
                "score_baseline": round(float(_nanmedian(usual_score[idx])), 3),
                "blur_max": round(float(np.nan_to_num(np.nanmax(blur[idx]) if np.isfinite(
                    blur[idx]).any() else 0.0)), 3),
                "blur_baseline": round(float(np.nan_to_num(_nanmedian(usual_blur[idx]))), 3)},
            accept=lambda idx: _run_share(idx, judge) >= cfg.melt_run_share,
        ))
    return out


def _run_share(idx: np.ndarray, judged: np.ndarray) -> float:
    """Share of the judged observations from ``idx[0]`` to ``idx[-1]`` that are in ``idx``
    (the run's flagged observations, joined across merge gaps)."""
    n = int(np.count_nonzero(judged[idx[0]:idx[-1] + 1]))
    return len(idx) / n if n else 1.0


def _rest_of_window(frames: np.ndarray, a: int, b: int, half: int, valid: np.ndarray,
                    ) -> np.ndarray:
    """The ``valid`` observations within ``half`` frames of the run ``a``..``b``
    (observation indices), outside it: what a run is held against when it fills most
    of its own baseline window."""
    rest = valid & (frames >= frames[a] - half) & (frames <= frames[b] + half)
    rest[a:b + 1] = False
    return rest


def _long_runs_against_rest(x: NDF, frames: np.ndarray, half: int, min_rest: int,
                            merge_gap: int, min_share: float, sign: int, rise: float,
                            ) -> tuple[np.ndarray, NDF]:
    """Runs of ``x`` (NaN = not judged) off the rest of their baseline window by more
    than ``rise`` (``sign`` +1: above it, -1: below), for runs a rolling median misses.

    A run spanning more than ``half`` frames is the median of every window around its
    frames. Candidates are found against a rolling quantile toward the hand's usual side
    (0.1 above, 0.9 below) over twice the window, which such a run reaches only when it
    fills nine tenths of that (then too little of the hand is left to hold it against). A
    candidate run longer than ``half`` (runs ``merge_gap`` apart joined) counts when its
    candidates are at least ``min_share`` of its judged observations (a run, not scattered
    frames joined across gaps) and its median is off by more than ``rise`` from the
    median of the rest of its window: the judged frames within ``half`` of it, outside
    it, at least ``min_rest`` of them.
    Returns the flagged observations and, on them, that rest median.
    """
    flagged = np.zeros(len(x), dtype=bool)
    rest_median = np.full(len(x), np.nan)
    if len(x) == 0 or not np.isfinite(x).any():
        return flagged, rest_median
    usual = rolling_quantile(x, frames, 2 * half, 0.1 if sign > 0 else 0.9)
    cand = np.nan_to_num((x - usual) * sign, nan=0.0) > rise
    for a, b in find_runs(list(cand), merge_gap=merge_gap):
        if frames[b] - frames[a] + 1 <= half:
            continue  # short enough for the rolling median
        rest = _rest_of_window(frames, a, b, half, np.isfinite(x))
        if np.count_nonzero(rest) < min_rest:
            continue
        base = float(np.median(x[rest]))
        run = np.arange(a, b + 1)[cand[a:b + 1]]
        if _run_share(run, np.isfinite(x)) < min_share:
            continue
        if (float(np.median(x[run])) - base) * sign > rise:
            flagged[run] = True
            rest_median[run] = base
    return flagged, rest_median


def blur_at_like_speed(blur: NDF, speed: NDF, frames: np.ndarray, half_window: int,
                       min_frames: int = 5) -> NDF:
    """Median blur of the observations within ``half_window`` frames that moved at half
    to twice each one's speed (NaN where fewer than ``min_frames`` did)."""
    out = np.full(len(blur), np.nan)
    windows = zip(_windows(np.asarray(blur, dtype=np.float64), frames, half_window),
                  _windows(np.asarray(speed, dtype=np.float64), frames, half_window),
                  strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for (rows, wb), (_, ws) in windows:
            s = speed[rows][:, None]
            like = (ws >= 0.5 * s) & (ws <= 2.0 * s) & np.isfinite(wb)
            med = np.nanmedian(np.where(like, wb, np.nan), axis=1)
            out[rows] = np.where(np.count_nonzero(like, axis=1) >= min_frames, med, np.nan)
    return out


def _extend_true(start_ok: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Keep runs of ``active`` only if ``start_ok`` holds at the run's first sample."""
    keep = np.zeros(len(active), dtype=bool)
    on = False
    for j, a in enumerate(active):
        if not a:
            on = False
            continue
        if j == 0 or not active[j - 1]:
            on = bool(start_ok[j])
        keep[j] = on
    return keep


def _stable_sign(values: NDF, strong: float) -> NDF:
    """Sign of ``values`` where |value| >= strong, else 0."""
    return np.where(np.abs(values) >= strong, np.sign(values), 0.0)


def detect_flips(t: TrackData, ctx: ClipContext, cfg: TemporalConfig) -> list[Finding]:
    """Mirror flips (``handedness_flip``) and palm/back or order breaks (``topology_change``).

    A real hand turning over changes its chirality gradually, through an edge-on pose.
    A label flicker changes the label only. A mirrored hand changes label *and*
    chirality at once; a palm flipped without rotation changes chirality at once.
    """
    out = []
    judge = _judgeable(t, ctx, cfg)
    ch = _stable_sign(t.chirality, cfg.chirality_min)
    half = ctx.frames(cfg.baseline_s / 2)
    for seg in _segments(t, ctx):
        if len(seg) < 3 * cfg.min_event_frames:
            continue
        lab_med, _ = rolling_median_mad(t.label[seg], t.frames[seg], half)
        ch_med, _ = rolling_median_mad(ch[seg], t.frames[seg], half)
        base_lab = np.sign(lab_med)
        base_ch = np.sign(ch_med)
        lab = t.label[seg]
        c = ch[seg]
        confident = t.score[seg] >= cfg.flip_min_score
        label_off = (lab != 0) & (base_lab != 0) & (lab != base_lab) & confident
        ch_off = (c != 0) & (base_ch != 0) & (c != base_ch)
        # Abrupt: no edge-on frame between the last baseline-like frame and this one.
        abrupt = _abrupt(t.chirality[seg], t.frames[seg], cfg.chirality_min)
        # Mirror flips are judged against the hand as it entered the shot (its first
        # confidently labelled frames), not a rolling window: a mirrored stretch can
        # outlast half of any window. Only what follows that reference can have turned:
        # a label before it (a hand that enters edge-on, say) has nothing to turn from.
        ref, since = _reference_label(lab, confident, cfg.min_event_frames)
        mirror = np.zeros(t.n, dtype=bool)
        after = np.arange(len(seg)) > since
        mirror[seg] = (lab == -ref) & confident & judge[seg] & after if ref else False
        topo = np.zeros(t.n, dtype=bool)
        sure = t.score[seg] >= cfg.topology_min_score
        strong = np.abs(t.chirality[seg]) >= 2 * cfg.chirality_min
        topo[seg] = ((~label_off) & ch_off & abrupt & sure & strong & judge[seg]) | (
            ~t.knuckles_ok[seg] & (np.abs(t.chirality[seg]) >= 2 * cfg.chirality_min)
            & judge[seg])
        strength = np.clip(np.abs(t.chirality) / 0.4, 0.0, 1.0)
        out.extend(_runs_to_findings(
            t, ctx, cfg, mirror, "handedness_flip", strength,
            lambda a, b, ev: (f"hand {t.track_id} turns into a mirrored "
                              f"{ev['label_during']} hand in frames {a}-{b} "
                              f"(was {ev['label_before']}; {ev['evidence']})"),
            lambda idx, ref=ref: {
                "label_before": _label_name(ref),
                "label_during": _label_name(-ref),
                "score": round(float(np.median(t.score[idx])), 3),
                "chirality_before": _round_or_none(_side_before(
                    t, ctx, cfg, _flip_onset(t, int(idx[0])))),
                "chirality_during": round(float(np.median(t.chirality[idx])), 3),
                "evidence": _mirror_evidence(t, ctx, cfg, idx) or ""},
            accept=lambda idx, seg=seg: (
                _side_shown(t, ctx, cfg, seg, _flip_onset(t, int(idx[0])))
                and _mirror_evidence(t, ctx, cfg, idx) is not None),
        ))
        out.extend(_runs_to_findings(
            t, ctx, cfg, topo, "topology_change", strength,
            lambda a, b, ev: (f"hand {t.track_id}: finger order/palm side breaks in frames "
                              f"{a}-{b} ({ev['reason']})"),
            lambda idx: {
                "reason": ("knuckle order permuted" if (~t.knuckles_ok[idx]).mean() > 0.5
                           else "palm and back swap without the hand rotating"),
                "chirality_during": round(float(np.median(t.chirality[idx])), 3),
                "knuckle_order_broken_frames": int((~t.knuckles_ok[idx]).sum())},
            accept=lambda idx, seg=seg: _pixels_jump(t, int(idx[0]), cfg) and (
                (~t.knuckles_ok[idx]).mean() > 0.5
                or _palm_side_held(t, ctx, cfg, seg, int(idx[0]), ch)),
        ))
    return out


def _reference_label(lab: NDF, confident: np.ndarray, n: int) -> tuple[float, int]:
    """The first label held confidently for ``n`` observations in a row, and the index
    of that run's first observation (``(0.0, len(lab))`` if none)."""
    run, prev = 0, 0.0
    for i, (v, ok) in enumerate(zip(lab, confident, strict=True)):
        if not ok or v == 0:
            run = 0
            continue
        run = run + 1 if v == prev else 1
        prev = v
        if run >= n:
            return float(v), i - n + 1
    return 0.0, len(lab)


def _side_shown(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, seg: np.ndarray,
                onset: int) -> bool:
    """Whether the hand showed the side its label flipped from at ``onset`` confidently
    for ``mirror_min_s`` (in all) in its segment ``seg`` before: a hand seen for a few
    frames, called one side for three of them, has not shown a side yet to turn from."""
    if not cfg.side_held:
        return True
    before = seg[seg < onset]
    shown = (t.label[before] == -t.label[onset]) & (t.score[before] >= cfg.flip_min_score)
    return int(np.count_nonzero(shown)) >= ctx.frames(cfg.mirror_min_s)


def _palm_side_held(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, seg: np.ndarray,
                    i: int, ch: NDF) -> bool:
    """Whether the palm held the side it swaps from for ``mirror_min_s`` before
    observation ``i``: none of the last observations over that time shows the side it
    swaps to, and most show the other. A hand whose thumb side the detector answers one
    way and the other every few frames (a hand gripping a cup, seen end-on) has no side
    to swap from."""
    if not cfg.side_held:
        return True
    k = ctx.frames(cfg.mirror_min_s)
    prior = seg[seg < i][-k:]
    if len(prior) < k or t.frames[i] - t.frames[prior[0]] > k + 2:
        return False  # not seen long enough before, or across a gap
    to = np.sign(t.chirality[i])
    return bool(not np.any(ch[prior] == to) and np.mean(ch[prior] == -to) >= 0.5)


def _flip_onset(t: TrackData, i: int) -> int:
    """Where the label of observation ``i`` first flipped, confident or not (the detector
    may need a frame or two to be sure of a new label; gaps of at most two frames)."""
    onset = i
    while (onset > 0 and t.label[onset - 1] == t.label[i]
           and t.frames[onset] - t.frames[onset - 1] <= 2):
        onset -= 1
    return onset


def _side_before(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, onset: int,
                 ) -> float | None:
    """Median chirality (thumb side) of the last five observations before ``onset``
    within ``mirror_min_s`` of it (``None`` if none: across a longer detection gap the
    hand may have turned unseen)."""
    look = ctx.frames(cfg.mirror_min_s, minimum=2)
    prior = [k for k in range(max(0, onset - 5), onset)
             if t.frames[onset] - t.frames[k] <= look]
    return float(np.median(t.chirality[prior])) if prior else None


def _mirror_evidence(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, idx: np.ndarray,
                     ) -> str | None:
    """Why a run of flipped labels is a mirror and not a label flicker (or ``None``).

    The hand's pixels jump where the label first flips (confident or not) while the hand
    moves slower than ``fast_motion``, the new label holds ``mirror_min_s`` without the
    old one confidently back, and its thumb side flips with the label at once (the palm
    triangle's winding changes sign between two nearby frames without an edge-on pose
    between), or, edge-on, the pixels jump again where the label flips back and the
    hand was seen where it flipped (``mirror_seen_gap``); a thumb side that clearly
    holds rules a mirror out. Outside the flipped stretch the hand carries the old label
    in most of its confident frames (``mirror_ref_share``).
    """
    i = int(idx[0])
    onset = _flip_onset(t, i)  # the picture changes where the label first flipped
    if cfg.mirror_ref_share and (_reference_share(t, cfg, onset, _flipped_until(t, i))
                                 <= cfg.mirror_ref_share):
        return None  # outside this stretch the hand is as often called the other side
    if not _pixels_jump(t, onset, cfg, last=i):
        return None  # the pixels change smoothly: the detector flipped, not the hand
    # How fast the hand moved into its last two frames before the flip (not into the
    # flipped frame: a mirror can move the palm centre by itself).
    if onset and float(np.max(t.speed()[max(1, onset - 2):onset])) >= cfg.fast_motion:
        return None  # a fast hand's box changes anyway, and the detector's answer with it
    held = t.frames[_held_until(t, onset, cfg)] - t.frames[onset] + 1
    if held / ctx.fps < cfg.mirror_min_s:
        return None  # the detector's own mirror answers flicker back; a mirrored hand stays
    # The thumb side the hand showed just before its label flipped, and during the flip.
    side = _side_before(t, ctx, cfg, onset)
    before = 0.0 if side is None else side
    during = float(np.median(t.chirality[idx]))
    # The thumb side is clear just before the flip and during it.
    clear = side is not None and abs(before) >= cfg.chirality_min and (
        abs(during) >= cfg.chirality_min)
    if clear and np.sign(before) == np.sign(during):
        # A mirrored picture mirrors the skeleton too. Here the palm keeps the side it
        # clearly showed: the detector renamed the same hand (a left palm it now calls
        # the back of a right hand), however much the pixels move.
        return None
    if clear and abs(float(t.chirality[i - 1])) >= cfg.chirality_min:
        return "thumb side flips with it, with no turn between"
    # Seen edge-on, the thumb side says little; then the flip must be bracketed: the
    # pixels jump where the label flips *and* again where it flips back. (Where it flips
    # back may lie past the judged run: follow the flipped label, gaps of <= 2 frames.)
    j = _flipped_until(t, int(idx[-1]))
    if onset and t.frames[onset] - t.frames[onset - 1] > cfg.mirror_seen_gap:
        return None  # found again already turned: the turn itself was not seen
    if (j < t.n and t.frames[j] - t.frames[j - 1] <= 2 and t.label[j] == -t.label[i]
            and t.score[j] >= cfg.flip_min_score
            and _pixels_jump(t, onset, cfg, measured=True, last=i)
            and _pixels_jump(t, j, cfg, measured=True)):
        return "its pixels jump where it turns and again where it turns back"
    return None


def _flipped_until(t: TrackData, k: int) -> int:
    """Index just past the run of observation ``k``'s label that contains ``k`` (the
    label followed across detection gaps of at most two frames)."""
    j = k + 1
    while (j < t.n and t.label[j] == t.label[k] and t.frames[j] - t.frames[j - 1] <= 2):
        j += 1
    return j


def _reference_share(t: TrackData, cfg: TemporalConfig, a: int, b: int) -> float:
    """Share of the hand's confidently labelled observations outside ``a``..``b - 1``
    (a flipped stretch) that carry the label the stretch flipped from (1.0 if none)."""
    outside = np.ones(t.n, dtype=bool)
    outside[a:b] = False
    lab = t.label[outside & (t.score >= cfg.flip_min_score) & (t.label != 0)]
    return float(np.mean(lab == -t.label[a])) if len(lab) else 1.0


def _held_until(t: TrackData, onset: int, cfg: TemporalConfig) -> int:
    """Last observation of the label that ``onset`` flipped to, held without a confident
    answer of the other label in between (gaps of at most two frames)."""
    k = onset
    while (k + 1 < t.n and t.frames[k + 1] - t.frames[k] <= 2
           and (t.label[k + 1] == t.label[onset] or t.score[k + 1] < cfg.flip_min_score)):
        k += 1
    return k


def _pixels_jump(t: TrackData, i: int, cfg: TemporalConfig, measured: bool = False,
                 last: int | None = None) -> bool:
    """Whether the hand's pixels change abruptly around observation ``i`` (around any of
    ``i``..``last``, when given).

    ``px_continuity`` (the hand's box against the same place one frame earlier) stays
    high when a real hand moves or the detector alone flips its answer; a generator that
    mirrors or rebuilds the hand breaks it. Without that measurement (no pixel
    evidence recorded) the landmarks' evidence stands alone, unless ``measured`` asks
    for the measurement.
    """
    end = i if last is None else last
    vals = [t.px[j].get("px_continuity") for j in range(max(0, i - 1), min(t.n, end + 2))]
    vals = [v for v in vals if v is not None]
    if not vals:
        return not measured
    return min(vals) < cfg.flip_continuity


def _label_name(v: float) -> str:
    return "right" if v > 0 else "left" if v < 0 else "unknown"


def _abrupt(chirality: NDF, frames: np.ndarray, strong: float, max_step: int = 2) -> np.ndarray:
    """True from a frame whose chirality sign differs from the previous strong sign with
    no weak (edge-on) frame and no detection gap of more than ``max_step`` frames in
    between, for as long as the new sign holds."""
    out = np.zeros(len(chirality), dtype=bool)
    prev_sign = 0.0
    unseen = False  # an edge-on frame or a detection gap since the last strong frame
    state = False
    for i, v in enumerate(chirality):
        if i and frames[i] - frames[i - 1] > max_step:
            unseen = True
        if abs(v) < strong:
            unseen = True
            state = False
            continue
        s = np.sign(v)
        if prev_sign != 0 and s != prev_sign:
            state = not unseen
        out[i] = state
        prev_sign = s
        unseen = False
    return out


_FINGER_BONES: dict[str, list[int]] = {"thumb": [0, 1], "index": [2, 3, 4],
                                        "middle": [5, 6, 7], "ring": [8, 9, 10],
                                        "pinky": [11, 12, 13]}


def finger_lengths(t: TrackData) -> NDF:
    """(n, 5) whole-finger lengths (sum of the finger's bones) relative to the palm."""
    return np.stack([t.bones[:, g].sum(axis=1) for g in _FINGER_BONES.values()], axis=1)


def finger_drift(t: TrackData, ctx: ClipContext, cfg: TemporalConfig) -> tuple[NDF, NDF]:
    """Each finger's relative deviation from its own rolling baseline, per observation.

    Only frames where the landmarks see the finger extended count, for the sample and its
    baseline: a curled finger's 3D length is the model's guess. Baselines restart at cuts.

    Returns:
        ``raw`` (n, 5): ``|length - baseline| / baseline`` (NaN where not extended);
        ``flagged`` (n, 5): ``raw`` where it also passes ``drift_rel`` and ``drift_mad_k``
        MADs, else 0.
    """
    lengths = finger_lengths(t)
    half = ctx.frames(cfg.baseline_s / 2)
    raw = np.full((t.n, 5), np.nan)
    flagged = np.zeros((t.n, 5))
    for seg in _segments(t, ctx):
        for k in range(5):
            x = np.where(t.extended[seg, k] == 1, lengths[seg, k], np.nan)
            med, mad = rolling_median_mad(x, t.frames[seg], half)
            dev = np.abs(x - med)
            rel = dev / np.maximum(med, 1e-6)
            raw[seg, k] = rel
            ok = np.nan_to_num(dev) > np.nan_to_num(
                np.maximum(cfg.drift_mad_k * 1.4826 * mad, cfg.drift_rel * med), nan=np.inf)
            flagged[seg, k] = np.where(ok, rel, 0.0)
    return raw, flagged


def detect_proportion_drift(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                            ) -> list[Finding]:
    """A finger's length relative to the palm jumps away from the hand's own baseline.

    One finger out of line while the others keep their usual length: a model or
    perspective hiccup moves them all; a stretched finger moves alone (the others'
    median deviation under ``drift_others``, and none of them, the thumb aside, off by
    ``drift_others_max``). The thumb's 3D length is the least reliable, so it only
    counts as one of "the others".
    """
    if t.n < 3 * cfg.min_event_frames:
        return []
    judge = _judgeable(t, ctx, cfg)
    raw, rel = finger_drift(t, ctx, cfg)
    rel[:, 0] = 0.0
    worst = rel.max(axis=1)
    k_worst = rel.argmax(axis=1)
    rest = raw.copy()  # the other fingers' deviations (NaN: not extended)
    rest[np.arange(t.n), k_worst] = np.nan
    others = np.nan_to_num(_nanmedian(rest, axis=1), nan=np.inf)
    # ...and no other finger (the thumb aside) deviates by drift_others_max or more
    # (deviations are >= 0, so a finger not extended counts as 0)
    others_max = np.nan_to_num(rest[:, 1:], nan=0.0).max(axis=1)
    active = ((worst > 0) & judge & (others < cfg.drift_others)
              & (others_max < cfg.drift_others_max))
    strength = np.clip(worst / (2 * cfg.drift_rel), 0.0, 1.0)
    lengths = finger_lengths(t)
    return _runs_to_findings(
        t, ctx, cfg, active, "proportion_drift", strength,
        lambda a, b, ev: (f"hand {t.track_id}: {ev['finger']} finger length changes by "
                          f"{ev['change']:+.0%} against the palm in frames {a}-{b}"),
        lambda idx: _drift_evidence(idx, rel, lengths, t.extended),
    )


def detect_reaching_finger(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                           ) -> list[Finding]:
    """A finger the pixels show longer than the skeleton the landmark model fits to it.

    The landmark model keeps a hand's usual proportions, so on a stretched finger it
    puts the tip landmark where a finger of the usual length would end and the finger's
    pixels go on past it. ``px_reach`` measures how far, in finger widths, along the
    finger's last bone (``None`` where skin behind the finger makes it no strip). A
    finger the skeleton extends, reaching ``reach_jump`` or more past its own usual (the
    median over ``baseline_s``) in frames the noise model lets be judged, is a
    ``proportion_drift`` when also: its colour step at the tip (``px_tip_step``) falls
    under ``reach_tip_step`` of its usual (no end there: a real fingertip in front of a
    face still ends at its landmark); the skeleton keeps that finger's usual length
    (within half of ``drift_rel``: a model fitting a blurred hand badly shortens it, and
    the real finger goes on past the tip); the strip stays within ``reach_own_max`` (past
    that it lies along another finger's bones); and every other finger measured keeps its
    usual reach, one at least measured (a mask leaking into the background lifts them all).
    """
    if cfg.reach_jump <= 0 or t.n < 3 * cfg.min_event_frames or not any(p for p in t.px):
        return []
    judge = _judgeable(t, ctx, cfg) & _px_measured(t)
    extended = judge[:, None] & (t.extended == 1)
    reach = _px(t, "px_reach", [np.nan] * 5)
    usual = _usual_per_finger(t, ctx, cfg, np.where(judge[:, None], reach, np.nan),
                              min_count=ctx.frames(cfg.baseline_min_s))
    over = reach - usual  # NaN where either is missing
    lengths = finger_lengths(t)
    usual_len = _usual_per_finger(t, ctx, cfg, np.where(extended, lengths, np.nan))
    # The skeleton keeps the finger's usual length: a landmark model that shortened it (a
    # blurred or foreshortened hand it fits badly) leaves real finger past the tip too.
    same_len = np.abs(lengths / usual_len - 1.0) < cfg.drift_rel / 2
    # No end where the tip landmark is: the finger's colour goes on past it. A real
    # fingertip in front of skin (a face) still ends there: outline, nail, shading.
    step = _px(t, "px_tip_step", [np.nan] * 5)
    usual_step = _usual_per_finger(t, ctx, cfg, np.where(extended, step, np.nan))
    no_end = np.nan_to_num(step, nan=np.inf) < cfg.reach_tip_step * usual_step
    own = np.nan_to_num(reach, nan=np.inf) <= cfg.reach_own_max
    jumped = ((np.nan_to_num(over, nan=-np.inf) >= cfg.reach_jump) & extended
              & same_len & no_end & own)
    measured = ~np.isnan(over)
    kept = np.abs(np.nan_to_num(over, nan=0.0)) < cfg.reach_jump / 2
    out: list[Finding] = []
    for k, name in enumerate(_FINGER_BONES):
        # every other finger measured keeps its usual reach, and one at least is measured
        rest_kept = (np.delete(kept, k, axis=1).all(axis=1)
                     & np.delete(measured, k, axis=1).any(axis=1))
        active = jumped[:, k] & rest_kept
        strength = np.clip(np.nan_to_num(over[:, k], nan=0.0) / (2 * cfg.reach_jump), 0, 1)

        def evidence(idx: np.ndarray, k: int = k, name: str = name) -> dict[str, Any]:
            return {"finger": name,
                    "reach_usual_fw": round(float(np.nanmedian(usual[idx, k])), 2),
                    "reach_during_fw": round(float(np.nanmedian(reach[idx, k])), 2),
                    "tip_step_usual": round(float(np.nanmedian(usual_step[idx, k])), 1),
                    "tip_step_during": round(float(np.nanmedian(step[idx, k])), 1),
                    "length_vs_palm": round(float(np.median(lengths[idx, k])), 3)}

        out += _runs_to_findings(
            t, ctx, cfg, active, "proportion_drift", strength,
            lambda a, b, ev: (f"hand {t.track_id}: the {ev['finger']} finger's pixels reach "
                              f"{ev['reach_during_fw']:.1f} finger widths past its tip landmark "
                              f"in frames {a}-{b} (usually {ev['reach_usual_fw']:.1f}): drawn "
                              f"longer than the skeleton fits it"),
            evidence)
    return out


def _usual_per_finger(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, x: NDF,
                      min_count: int = 0) -> NDF:
    """(n, 5): each finger's median of ``x`` (NaN = not counted) over ``baseline_s``
    around each observation, restarted at cuts; NaN where the window counts fewer than
    ``min_count`` values."""
    half = ctx.frames(cfg.baseline_s / 2)
    out = np.full(x.shape, np.nan)
    for seg in _segments(t, ctx):
        for k in range(x.shape[1]):
            med, _ = rolling_median_mad(x[seg, k], t.frames[seg], half)
            if min_count:
                _, count = rolling_share(np.ones(len(seg), bool), ~np.isnan(x[seg, k]),
                                         t.frames[seg], half)
                med = np.where(count >= min_count, med, np.nan)
            out[seg, k] = med
    return out


def _drift_evidence(idx: np.ndarray, rel: NDF, lengths: NDF, extended: np.ndarray,
                    ) -> dict[str, Any]:
    k = int(np.argmax(rel[idx].max(axis=0)))
    usual = extended[:, k] == 1
    usual[idx] = False
    base = float(np.median(lengths[usual, k])) if usual.any() else float(
        np.median(lengths[:, k]))
    during = float(np.median(lengths[idx, k]))
    return {"finger": list(_FINGER_BONES)[k], "ratio_baseline": round(base, 4),
            "ratio_during": round(during, 4), "change": round(during / base - 1.0, 4)}


def rolling_mode(x: NDF, frames: np.ndarray, half_window: int,
                 exclude: np.ndarray | None = None) -> tuple[NDF, NDF]:
    """Most common value of ``x`` (NaN = missing) within ``half_window`` frames of each
    observation, and the fraction of valid observations that hold it.

    ``exclude`` (bool per observation) leaves those observations out of every window.
    Ties go to the smallest value. One pass per distinct value of ``x``: meant for
    series of few values, such as digit counts.
    """
    n = len(x)
    mode = np.full(n, np.nan)
    frac = np.zeros(n)
    x = np.asarray(x, dtype=np.float64)
    if exclude is not None:
        x = np.where(exclude, np.nan, x)
    vals = np.unique(x[~np.isnan(x)])  # sorted, so argmax picks the smallest of a tie
    if len(vals) == 0:
        return mode, frac
    for rows, w in _windows(x, frames, half_window):
        counts = np.stack([np.count_nonzero(w == v, axis=1) for v in vals], axis=1)
        total = counts.sum(axis=1)
        ok = total > 0
        k = counts.argmax(axis=1)[ok]
        mode[rows[ok]] = vals[k]
        frac[rows[ok]] = counts[ok, k] / total[ok]
    return mode, frac


def rolling_share(hit: np.ndarray, valid: np.ndarray, frames: np.ndarray, half_window: int,
                  ) -> tuple[NDF, NDI]:
    """Share of the ``valid`` observations within ``half_window`` frames of each one that
    are a ``hit``, and how many valid observations that window holds."""
    x = np.where(valid, hit.astype(np.float64), np.nan)
    share = np.zeros(len(x))
    count = np.zeros(len(x), dtype=np.int64)
    for rows, w in _windows(x, frames, half_window):
        k = np.count_nonzero(~np.isnan(w), axis=1)
        count[rows] = k
        share[rows] = np.nansum(w, axis=1) / np.maximum(k, 1)
    return share, count


def detect_finger_pixels(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                         ) -> list[Finding]:
    """Digits seen in the pixels against what the landmarks' articulation predicts.

    The comparison is like for like: ``px_digits`` (digits crossing a curve around the
    palm) minus ``px_lm_digits`` (landmark fingers reaching the same curve). A finger
    closing moves both, so it cancels. Single-frame counts are noisy on real footage, so
    a frame only counts when this residual is *stable* (the same value in at least
    ``stable_frac`` of the frames around it) and differs from the hand's own stable
    baseline over ``baseline_s``; the debounce then asks for ``min_event_s`` of it.
    One rule needs no baseline: a hand has five digits, so a stable count of
    ``extra_min_digits`` or more above the skeleton's is judged even on a hand where it
    never changes (a hand drawn with six fingers for the whole clip); so is such a count
    seen in most of the judged frames over ``baseline_s``, when it is not steady enough
    for the stable mode.
    """
    if not any(p for p in t.px):
        return []
    # Digits are counted on hands that show some: with fewer than two fingers extended
    # (a fist, a grip), the outline's bumps are knuckles, a held object or skin behind it.
    judge = _judgeable(t, ctx, cfg) & _px_measured(t) & (
        t.n_extended >= cfg.digits_min_extended)
    digits = _px(t, "px_digits", np.nan)
    lm_digits = _px(t, "px_lm_digits", np.nan)
    support = _px(t, "px_finger_support", [1.0] * 5)
    gaps = _px(t, "px_gaps", [np.nan] * 4)
    valleys = _px(t, "px_valleys", [np.nan] * 4)
    resid = np.where(judge, digits - lm_digits, np.nan)
    out: list[Finding] = []
    short = ctx.frames(cfg.stable_s / 2, minimum=2)
    half = ctx.frames(cfg.baseline_s / 2)
    merge_gap = ctx.frames(cfg.merge_gap_s, minimum=0)
    min_rest = ctx.frames(cfg.baseline_min_s)
    for seg in _segments(t, ctx):
        if len(seg) < 3 * cfg.min_event_frames:
            continue
        fr = t.frames[seg]
        r = resid[seg]
        now, now_frac = rolling_mode(r, fr, short)
        stable_now = now_frac >= cfg.stable_frac
        # The baseline leaves out the frames whose stable value is off the wider mode, so
        # a defect lasting up to half the window does not become its own baseline.
        wide, _ = rolling_mode(r, fr, half)
        off = stable_now & (now != wide)
        base, base_frac = rolling_mode(r, fr, half, exclude=off)
        # Only where this hand's pixels and skeleton usually agree (baseline residual 0)
        # and now stably disagree: a hand whose digits the pixels never count right
        # (cluttered, skin-coloured background) is not judged on digits.
        dev = np.where(stable_now & (base_frac >= cfg.stable_frac) & (base == 0), now, 0.0)
        # A hand has five digits: six or more, stably, are a defect whatever the hand's
        # baseline, so one that lasts the whole clip (and is therefore its own baseline)
        # is still found. The residual must still be off (the skeleton has fewer).
        seen, seen_frac = rolling_mode(np.where(judge[seg], digits[seg], np.nan), fr, short)
        extra = stable_now & (seen >= cfg.extra_min_digits) & (seen_frac >= cfg.stable_frac)
        # The same rule over baseline_s for a count too unsteady for the stable mode (a
        # small or moving hand flickers between five and six): six or more, above the
        # skeleton's count, in most of the judged frames around, on at least half of them.
        six = judge[seg] & (digits[seg] >= cfg.extra_min_digits) & (r > 0)
        share, n_judged = rolling_share(six, judge[seg], fr, half)
        most = six & (share > 0.5) & (n_judged >= half)
        dev = np.nan_to_num(np.where(extra, now, np.where(most, r, dev)))
        dev = _against_the_rest(dev, now, stable_now, r, fr, judge[seg], half, merge_gap,
                                min_rest, cfg)
        cand = np.zeros(t.n, dtype=bool)
        cand[seg] = (np.abs(dev) >= 1) & judge[seg]
        sign = np.zeros(t.n)
        sign[seg] = np.sign(dev)
        for a, b in find_runs(list(cand), merge_gap=merge_gap):
            idx = np.arange(a, b + 1)[cand[a:b + 1]]
            span = int(t.frames[b] - t.frames[a] + 1)
            if len(idx) < max(cfg.min_event_frames, ctx.frames(cfg.min_event_s)):
                continue
            run_sign = float(np.median(sign[idx]))
            if np.median(digits[idx]) < cfg.extra_min_digits:
                if not _skeleton_settled(t, judge, lm_digits, idx, ctx.frames(cfg.stable_s),
                                         cfg.stable_frac):
                    continue  # the pixels lag a hand that is opening or closing
                if cfg.skeleton_follow_s > 0 and _skeleton_follows(
                        t, lm_digits, idx, run_sign, ctx.frames(cfg.skeleton_follow_s)):
                    continue  # the skeleton lags a hand that is opening or closing
            out.append(_finger_finding(t, ctx, cfg, idx, span, run_sign, digits, lm_digits,
                                       support, gaps, valleys, seg))
    return out


def _against_the_rest(dev: NDF, now: NDF, stable_now: np.ndarray, r: NDF, fr: np.ndarray,
                      judge: np.ndarray, half: int, merge_gap: int, min_rest: int,
                      cfg: TemporalConfig) -> NDF:
    """``dev`` plus the stable deviations that cover most of their own baseline window.

    A deviation lasting more than half the ``baseline_s`` window around it is the mode
    of that window, so the rolling baseline takes it for the hand's usual (a long defect,
    or a short clip: generated clips often last a few seconds). Each stable run of one
    nonzero residual that no other rule flagged (runs ``merge_gap`` apart joined) is
    held against the rest of its window instead: the judged frames within ``half`` of
    it, outside it. When there are at least ``min_rest`` of them and the pixels agree
    with the skeleton (residual 0) in ``stable_frac`` of them, the run deviates.
    """
    out = dev.copy()
    cand = stable_now & (np.nan_to_num(now) != 0) & (dev == 0) & judge
    for a, b in find_runs(list(cand), merge_gap=merge_gap):
        vals = now[a:b + 1][cand[a:b + 1]]
        if np.any(vals != vals[0]):
            continue
        rr = r[_rest_of_window(fr, a, b, half, judge & ~np.isnan(r))]
        if len(rr) < min_rest:
            continue
        if np.mean(rr == 0) >= cfg.stable_frac:
            out[a:b + 1] = np.where(cand[a:b + 1], vals[0], out[a:b + 1])
    return out


def _just_before(t: TrackData, idx: np.ndarray, window: int) -> np.ndarray:
    """Observations of ``t`` in the ``window`` frames before the run ``idx`` starts."""
    a = int(t.frames[idx[0]])
    return (t.frames >= a - window) & (t.frames < a)


def _skeleton_settled(t: TrackData, judge: np.ndarray, lm_digits: NDF, idx: np.ndarray,
                      window: int, frac: float) -> bool:
    """Whether the skeleton's digit count held its value of the run ``idx`` in the judged
    frames of the ``window`` frames before it (in ``frac`` of them, and in at least one).

    A hand opening or closing changes its skeleton at once and its pixels a few frames
    later (fingers that touch part, a blurred finger sharpens): the two disagree right
    after the skeleton moved, which is not a change of the hand's digits.
    """
    before = judge & _just_before(t, idx, window)
    if not before.any():
        return False
    return bool(np.mean(lm_digits[before] == np.median(lm_digits[idx])) >= frac)


def _skeleton_follows(t: TrackData, lm_digits: NDF, idx: np.ndarray, sign: float,
                      window: int) -> bool:
    """Whether the skeleton's digit count moves the pixels' way within ``window`` frames
    after the run ``idx`` (fewer digits after a run of fewer, more after one of more).

    The mirror of :func:`_skeleton_settled`: a hand closing (or opening) can change its
    pixels first and its skeleton a few frames later, so the two disagree just before the
    skeleton follows, which is not a change of the hand's digits. A finger erased from
    the picture comes back at the end of its run; the skeleton does not fold it then.
    """
    b = int(t.frames[idx[-1]])
    after = np.isfinite(lm_digits) & (t.frames > b) & (t.frames <= b + window)
    if not after.any() or sign == 0:
        return False
    moved = float(np.median(lm_digits[after])) - float(np.median(lm_digits[idx]))
    return bool(moved * sign > 0)


def _finger_finding(t: TrackData, ctx: ClipContext, cfg: TemporalConfig, idx: np.ndarray,
                    span: int, sign: float, digits: NDF, lm_digits: NDF, support: NDF,
                    gaps: NDF, valleys: NDF, seg: np.ndarray) -> Finding:
    """Name a stable digit-count deviation: extra, missing, fused or a plain count change."""
    seen = int(np.median(digits[idx]))
    expected = int(np.median(lm_digits[idx]))
    before = np.setdiff1d(seg, idx)
    ev: dict[str, Any] = {"digits_seen": seen, "digits_expected": expected,
                          "frames_flagged": len(idx)}
    a, b = int(t.frames[idx[0]]), int(t.frames[idx[-1]])
    kind = "finger_count_change"
    strength = 0.5
    msg = (f"hand {t.track_id} shows {seen} digits in frames {a}-{b} where its skeleton has "
           f"{expected} (the pixels and the landmarks usually agree on this hand)")
    if sign > 0 and seen >= cfg.extra_min_digits:
        kind, strength = "extra_finger", 1.0
        msg = (f"hand {t.track_id} shows {seen} digits in frames {a}-{b}: one more than its "
               f"skeleton's {expected}")
    elif sign < 0:
        ext = t.extended[idx].astype(bool)
        sup_now = np.where(ext, support[idx], np.nan)
        sup_usual = _nanmedian(np.where(t.extended[before].astype(bool), support[before],
                                          np.nan), axis=0) if len(before) else np.full(5, np.nan)
        drop = np.nan_to_num(sup_usual - _nanmedian(sup_now, axis=0), nan=0.0)
        both = ext[:, :-1] & ext[:, 1:]
        gap_now = _nanmedian(np.where(both, gaps[idx], np.nan), axis=0)
        gap_usual = _nanmedian(gaps[before], axis=0) if len(before) else np.full(4, np.nan)
        val_now = _nanmedian(np.where(both, valleys[idx], np.nan), axis=0)
        gap_drop = np.nan_to_num(gap_usual - gap_now, nan=0.0)
        k = int(np.argmax(drop))
        j = int(np.argmax(gap_drop))
        if drop[k] >= cfg.support_drop:
            kind, strength = "missing_finger", float(min(1.0, drop[k] / 0.6))
            ev.update(finger=FINGER_NAMES[k], coverage=round(float(_nanmedian(
                sup_now[:, k])), 3), coverage_usual=round(float(sup_usual[k]), 3))
            msg = (f"hand {t.track_id}: the {FINGER_NAMES[k]} finger its skeleton shows "
                   f"extended has no pixels in frames {a}-{b} (coverage "
                   f"{ev['coverage']:.0%}, usually {ev['coverage_usual']:.0%})")
        elif gap_drop[j] >= cfg.gap_drop and np.nan_to_num(val_now[j], nan=1.0) < 0.2:
            kind, strength = "fused_fingers", float(min(1.0, gap_drop[j] / 0.5))
            ev.update(pair=_PAIR_NAMES[j], gap=round(float(gap_now[j]), 3),
                      gap_usual=round(float(gap_usual[j]), 3),
                      valley=round(float(val_now[j]), 3))
            msg = (f"hand {t.track_id}: {_PAIR_NAMES[j]} fingers merge into one in frames "
                   f"{a}-{b} (no gap or crease where the skeleton has two fingers)")
    sev = severity_of(strength, span / ctx.fps)
    return Finding(type=kind, track_id=t.track_id, start_frame=a, end_frame=b, severity=sev,
                   message=msg, evidence=ev)


def finger_coverage(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                    ) -> tuple[NDF, NDF, NDF]:
    """Each finger's pixel coverage, its usual coverage and the coverage it lost.

    Returns three (n, 5) arrays: ``px_finger_support`` (NaN where not measured); the
    finger's usual coverage, the ``support_usual_q`` quantile over ``baseline_s`` of the
    frames whose pixels could be measured (restarted at cuts); and ``usual - support`` on
    the frames the noise model lets be judged (NaN elsewhere).
    """
    measured = _px_measured(t)
    judge = _judgeable(t, ctx, cfg) & measured
    support = _px(t, "px_finger_support", [np.nan] * 5)
    half = ctx.frames(cfg.baseline_s / 2)
    usual = np.full((t.n, 5), np.nan)
    for seg in _segments(t, ctx):
        for k in range(5):
            usual[seg, k] = rolling_quantile(np.where(measured[seg], support[seg, k], np.nan),
                                             t.frames[seg], half, cfg.support_usual_q)
    return support, usual, np.where(judge[:, None], usual - support, np.nan)


def detect_lost_finger(t: TrackData, ctx: ClipContext, cfg: TemporalConfig) -> list[Finding]:
    """One finger the skeleton places loses the hand pixels under it; the others keep theirs.

    ``px_finger_support`` is the fraction of the finger's distal chain (as the landmarks
    place it) that lies on the hand's mask. Each finger is held against its *own* usual
    coverage: the ``support_usual_q`` quantile over ``baseline_s`` of every frame whose
    pixels could be measured (not the median, so a finger gone for more than half of a
    short track still has its coverage from before):
    a finger erased from the pixels drops by ``support_drop`` or more while no other
    finger drops by ``support_others``. A mask that fails (blur, lighting, a fist on a
    dark sleeve) loses several fingers at once and is not a missing finger; a finger
    curling keeps its chain over the hand, so its support holds.
    """
    if t.n < 3 * cfg.min_event_frames or not any(p for p in t.px):
        return []
    measured = _px_measured(t)
    support, usual, drop = finger_coverage(t, ctx, cfg)
    digits = _px(t, "px_digits", np.nan)
    lm_digits = _px(t, "px_lm_digits", np.nan)
    near = ctx.frames(cfg.baseline_s / 4)

    def fewer_digits(idx: np.ndarray) -> bool:
        # A finger gone from the pixels also takes a digit off the curve around the palm:
        # fewer than the skeleton puts there, or (when the landmarks fold the lost finger
        # away too) fewer than the hand showed just before.
        # A finger behind an object in the hand's grip, or a mask that lost it, mostly
        # leaves that count as it was; a hand half behind the cup it holds takes off
        # more than the one digit a lost finger does (`lost_max_deficit`).
        # (`seen_before` is asked first, so there are measured frames just before.)
        now = _nanmedian(digits[idx])
        was = _nanmedian(digits[measured & _just_before(t, idx, near)])
        expected = _nanmedian(lm_digits[idx])
        if expected - now > cfg.lost_max_deficit:
            return False
        return bool(now < expected or now < was)

    def steady_label(idx: np.ndarray) -> bool:
        # The finger's chain is where the skeleton places it. A detector that names the
        # hand left in one flagged frame and confidently right in another (a hand turning
        # edge-on round a cup, its mask taking in the cup) fits two different skeletons.
        if not cfg.lost_steady_label:
            return True
        lab = t.label[idx][(t.score[idx] >= cfg.flip_min_score) & (t.label[idx] != 0)]
        return bool(len(np.unique(lab)) <= 1)

    def seen_before(idx: np.ndarray, k: int) -> bool:
        # A finger goes missing from a hand it was seen on: at about the coverage it
        # lost (within `support_drop` of its usual) in at least `min_event_frames`
        # judged frames just before. One hidden since the hand came into view (behind
        # what it holds, or from a short clip's first frame) has shown nothing to lose.
        before = _just_before(t, idx, near) & np.isfinite(drop[:, k])
        was = float(np.median(usual[idx, k])) - cfg.support_drop
        return int(np.sum(support[before, k] > was)) >= cfg.min_event_frames

    def extended(idx: np.ndarray, k: int) -> bool:
        # Only a finger the skeleton shows extended can go missing: a curled finger's
        # chain lies over the fist, or, where a blurred or small hand makes the skeleton
        # wrong, anywhere. The landmarks may fold a finger erased from the picture, so
        # "extended" is in most frames of the run, or, up to the run, in most of the
        # measured frames of the `near` window before it and in most of the last
        # `lost_extended_s` of them: a finger the skeleton folded a moment before its
        # pixels went (behind the cup the hand takes hold of) was not erased.
        if np.mean(t.extended[idx, k]) >= 0.5:
            return True
        for window in (near, ctx.frames(cfg.lost_extended_s)):
            before = measured & _just_before(t, idx, window)
            if not before.any() or np.mean(t.extended[before, k]) < 0.5:
                return False
        return True

    out: list[Finding] = []
    for k in range(5):
        others = np.nan_to_num(np.delete(drop, k, axis=1), nan=0.0).max(axis=1)
        active = (np.nan_to_num(drop[:, k], nan=0.0) >= cfg.support_drop) & (
            others < cfg.support_others)
        strength = np.clip(np.nan_to_num(drop[:, k], nan=0.0) / 0.6, 0.0, 1.0)
        out.extend(_runs_to_findings(
            t, ctx, cfg, active, "missing_finger", strength,
            lambda a, b, ev: (f"hand {t.track_id}: the {_digit_name(ev['finger'])} its "
                              f"skeleton places has no pixels under it in frames {a}-{b} (coverage "
                              f"{ev['coverage']:.0%}, usually {ev['coverage_usual']:.0%}); "
                              f"the other fingers keep theirs"),
            lambda idx, k=k: {
                "finger": FINGER_NAMES[k],
                "coverage": round(float(np.median(support[idx, k])), 3),
                "coverage_usual": round(float(np.median(usual[idx, k])), 3),
                "others_max_drop": round(float(np.max(np.nan_to_num(
                    np.delete(drop[idx], k, axis=1), nan=0.0))), 3),
                "digits_seen": _int_or_none(_nanmedian(digits[idx])),
                "digits_expected": _int_or_none(_nanmedian(lm_digits[idx])),
            },
            accept=lambda idx, k=k: (seen_before(idx, k) and extended(idx, k)
                                     and fewer_digits(idx) and steady_label(idx)),
        ))
    return out


def detect_webbed_fingers(t: TrackData, ctx: ClipContext, cfg: TemporalConfig,
                          ) -> list[Finding]:
    """Two fingers the skeleton holds apart whose pixels have grown a web between them.

    The digit count needs a whole digit to merge before it changes, and on real
    footage it flickers; the background between two fingers is a direct look. For each
    pair of adjacent fingers (index to pinky: the thumb and the index finger are joined
    by a web of skin anyway, and the line between them crosses the palm whenever the
    thumb folds across it), in the judged frames where the skeleton has both extended
    and ``web_spread`` finger widths apart (:func:`pair_spread`), the line between them
    (``px_gaps``, ``px_valleys``) is *open* when at least ``web_open_gap`` of it is
    background, *webbed* when none of it is and no crease darker than ``web_valley``
    crosses it (two real fingers that touch leave a crease). A frame where two extended
    fingers' chains lie within ``web_overlap`` finger widths of each other (one finger
    on top of the other: the skeleton is fitted wrong) is not judged.

    A run of webbed frames is joined across ``merge_gap_s`` but never across an open
    frame (a pair that flickers between the two is the mask, not the hand). It must be
    webbed in ``stable_frac`` of its judged frames and in at least ``min_event_s``, and
    the skeleton must have both fingers extended in ``stable_frac`` of all its frames (a
    skeleton that keeps folding one of them is unsure of the pose). It is a defect when
    the same pair, held as far apart, was open in ``stable_frac`` of the judged frames
    within ``baseline_s / 2`` around it, at least ``baseline_min_s`` of them: the hand's
    own usual look, so fingers against a skin-coloured background all along (a face
    behind them) are not judged. A web seen only while the skeleton has opened or folded
    another finger is a refitted skeleton (``web_pose_change``,
    :func:`_web_only_refitted`).
    """
    if not any(p for p in t.px):
        return []
    judge = _judgeable(t, ctx, cfg) & _px_measured(t)
    gaps = _px(t, "px_gaps", [np.nan] * 4)
    valleys = _px(t, "px_valleys", [np.nan] * 4)
    ext = t.extended.astype(bool)
    both = ext[:, :-1] & ext[:, 1:]
    # Two extended fingers' chains lying on each other is a skeleton fitted wrong (it
    # happens where the detector hesitates between two fits of a hand): such a frame's
    # fingers are not where it says, so none of its pairs is judged.
    plausible = ~np.any((both & (t.spread < cfg.web_overlap))[:, _FINGER_PAIRS], axis=1)
    apart = (both & (t.spread >= cfg.web_spread) & (judge & plausible)[:, None]
             & np.isfinite(gaps) & np.isfinite(valleys))
    webbed = apart & (gaps == 0) & (valleys < cfg.web_valley)
    opened = apart & (gaps >= cfg.web_open_gap)
    half = ctx.frames(cfg.baseline_s / 2)
    min_rest = ctx.frames(cfg.baseline_min_s)
    min_len = max(cfg.min_event_frames, ctx.frames(cfg.min_event_s))
    merge_gap = ctx.frames(cfg.merge_gap_s, minimum=0)
    out: list[Finding] = []
    for seg in _segments(t, ctx):
        in_seg = np.zeros(t.n, dtype=bool)
        in_seg[seg] = True
        for k in _FINGER_PAIRS:
            for a, b in _runs_between(webbed[:, k] & in_seg, opened[:, k], merge_gap):
                run = np.arange(a, b + 1)
                judged = run[apart[run, k]]
                idx = run[webbed[run, k]]
                if len(idx) < min_len or len(idx) < cfg.stable_frac * len(judged):
                    continue
                if np.mean(ext[run, k] & ext[run, k + 1]) < cfg.stable_frac:
                    continue  # the skeleton keeps folding one of them: unsure of the pose
                rest = _rest_of_window(t.frames, a, b, half, apart[:, k] & in_seg)
                if np.count_nonzero(rest) < min_rest:
                    continue
                open_share = float(np.mean(opened[rest, k]))
                if open_share < cfg.stable_frac:
                    continue
                if _web_only_refitted(ext, idx, np.flatnonzero(rest & opened[:, k]), k,
                                      cfg.web_pose_change):
                    continue  # seen only with another finger folded or opened: refitted
                out.append(_web_finding(t, ctx, idx, k, rest, open_share, gaps, valleys))
    return out


def _web_only_refitted(ext: np.ndarray, idx: np.ndarray, usual: np.ndarray, k: int,
                       change: float) -> bool:
    """Whether pair ``k``'s web, seen in the frames ``idx``, is seen only where the
    skeleton holds the hand in another pose than in the open frames ``usual``.

    The detector can fit one hand in two ways, say with the fingers shifted one place
    over and a folded finger opened: the line it then draws between two of them lies on
    a finger, with no background, while the picture has not changed. So where another
    finger (index to pinky; the thumb's extension flickers with its fold across the
    palm) is extended in a share of the webbed frames that differs by ``change`` or more
    from its share in the open ones, the web must also show in a frame with every other
    finger as in most open frames. A fused pair is fused in whichever pose it is seen.
    """
    if not len(idx) or not len(usual):
        return False
    others = [j for j in range(1, 5) if j not in (k, k + 1)]
    held = np.mean(ext[np.ix_(usual, others)], axis=0)  # share extended when open
    during = ext[np.ix_(idx, others)]
    if np.all(np.abs(np.mean(during, axis=0) - held) < change):
        return False  # the pose the pair was open in
    return not bool(np.any(np.all(during == (held >= 0.5), axis=1)))


def _runs_between(active: np.ndarray, breaks: np.ndarray, merge_gap: int,
                  ) -> list[tuple[int, int]]:
    """Runs of ``active`` (``merge_gap`` apart joined) split wherever ``breaks`` holds
    in between, each trimmed to its first and last active observation."""
    out = []
    for a, b in find_runs(list(active), merge_gap=merge_gap):
        start = a
        for i in [*np.flatnonzero(breaks[a:b + 1]) + a, b + 1]:
            on = np.flatnonzero(active[start:i]) + start
            if len(on):
                out.append((int(on[0]), int(on[-1])))
            start = i + 1
    return out


def _web_finding(t: TrackData, ctx: ClipContext, idx: np.ndarray, k: int, rest: np.ndarray,
                 open_share: float, gaps: NDF, valleys: NDF) -> Finding:
    """A ``fused_fingers`` finding for pair ``k`` webbed over observations ``idx``."""
    a, b = int(t.frames[idx[0]]), int(t.frames[idx[-1]])
    gap_usual = float(np.median(gaps[rest, k]))
    ev = {"pair": _PAIR_NAMES[k], "gap": round(float(np.median(gaps[idx, k])), 3),
          "gap_usual": round(gap_usual, 3),
          "valley": round(float(np.median(valleys[idx, k])), 3),
          "spread": round(float(np.median(t.spread[idx, k])), 2),
          "spread_usual": round(float(np.median(t.spread[rest, k])), 2),
          "open_share_usual": round(open_share, 3), "frames_flagged": len(idx)}
    first, second = _PAIR_NAMES[k].split("-")
    msg = (f"hand {t.track_id}: a web of skin joins the {_digit_name(first)} and the "
           f"{_digit_name(second)} in frames {a}-{b}, held {ev['spread']:.1f} finger widths "
           f"apart by the skeleton (no background or crease between them; usually "
           f"{gap_usual:.0%} background)")
    strength = min(1.0, gap_usual / 0.5)
    span = int(t.frames[idx[-1]] - t.frames[idx[0]] + 1)
    return Finding(type="fused_fingers", track_id=t.track_id, start_frame=a, end_frame=b,
                   severity=severity_of(strength, span / ctx.fps), message=msg, evidence=ev)


def _round_or_none(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def _int_or_none(v: float) -> int | None:
    return None if np.isnan(v) else int(v)


def _digit_name(finger: str) -> str:
    return finger if finger == "thumb" else f"{finger} finger"


#: Finger events that name what a plain ``finger_count_change`` only counts.
_SPECIFIC_FINGER_EVENTS = frozenset({"extra_finger", "missing_finger", "fused_fingers"})


def merge_same_events(findings: list[Finding]) -> list[Finding]:
    """One finding per hand and overlapping frame range where two detectors agree.

    Of findings of one type on one hand that overlap, the most severe is kept as it is
    (range, message, evidence). A ``finger_count_change`` that overlaps an extra, missing
    or fused finger on the same hand is dropped: the specific event explains it.
    """
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.track_id or 0, f.type, f.start_frame)):
        prev = out[-1] if out else None
        if (prev is not None and prev.track_id == f.track_id and prev.type == f.type
                and f.start_frame <= prev.end_frame):
            if f.severity > prev.severity:
                out[-1] = f
        else:
            out.append(f)
    specific = [f for f in out if f.type in _SPECIFIC_FINGER_EVENTS]
    return [f for f in out if f.type != "finger_count_change" or not any(
        g.track_id == f.track_id and g.start_frame <= f.end_frame and f.start_frame <= g.end_frame
        for g in specific)]


DETECTORS: tuple[Callable[[TrackData, ClipContext, TemporalConfig], list[Finding]], ...] = (
    detect_vanish,
    detect_low_confidence,
    detect_flips,
    detect_proportion_drift,
    detect_reaching_finger,
    detect_finger_pixels,
    detect_lost_finger,
    detect_webbed_fingers,
)

__all__ = ["DETECTORS", "TemporalConfig", "TemporalModel"]
