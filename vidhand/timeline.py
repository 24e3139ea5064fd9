"""Per-hand time series for plots: what the dashboard's drift timeline draws.

The series are the numbers the temporal checks compare, computed by the same code
(:mod:`vidhand.checks.temporal`), so a band on the timeline sits where the curves say.

Example:
    >>> from vidhand.timeline import hand_series
    >>> series = hand_series(report)          # {track_id: HandSeries}
    >>> series[1].digits_px[:5], series[1].digits_lm[:5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidhand.checks.temporal import TemporalConfig, finger_coverage, finger_drift
from vidhand.checks.track_data import ClipContext, TrackBuffer, buffer_hands, record_frame
from vidhand.pipeline import tracked_hand_frames
from vidhand.report import Report
from vidhand.types import HandFrame


@dataclass(frozen=True)
class HandSeries:
    """One tracked hand over the frames where it was detected.

    Attributes:
        frames: frame indices (0-based).
        times_s: presentation times of those frames.
        digits_px: digits seen in the hand's pixels (-1 where not judgeable / not measured).
        digits_lm: digits the landmarks predict on the same curve around the palm
            (``px_lm_digits``, what the finger checks compare with; -1 where not judged).
        proportion_drift: largest relative deviation of an extended finger's length from
            its own rolling baseline (0 = as usual), as ``proportion_drift`` measures it.
        coverage_lost: largest drop of a finger's pixel coverage (the share of its chain on
            the hand mask) below its usual coverage (0 = every finger as usual, and where
            not judged), as ``missing_finger`` measures it.
        confidence: the detector's handedness score.
        handedness: the per-frame label.
    """

    track_id: int
    frames: list[int]
    times_s: list[float]
    digits_px: list[int]
    digits_lm: list[int]
    proportion_drift: list[float]
    coverage_lost: list[float]
    confidence: list[float]
    handedness: list[str]


def hand_series(report: Report, hand_frames: list[HandFrame] | None = None,
                ) -> dict[int, HandSeries]:
    """Build every track's series from the report's landmark file (or given frames)."""
    frames = tracked_hand_frames(report) if hand_frames is None else hand_frames
    checks = report.settings.get("checks", {}).get("temporal", {})
    cfg = TemporalConfig.from_options(checks) if checks else TemporalConfig()
    w, h = report.video.width, report.video.height
    ctx = ClipContext(frame_rate=report.frame_rate, frame_size_wh=(w, h))
    buffers: dict[int, TrackBuffer] = {}
    meta: dict[int, list[tuple[float, int, int, str]]] = {}
    for hf in frames:
        record_frame(ctx, hf)
        buffer_hands(buffers, hf)
        for hand in hf.hands:
            if hand.track_id is None:
                continue
            f = hand.features
            judge = bool(f.get("px_judgeable", False))
            meta.setdefault(hand.track_id, []).append((
                hf.pts_s,
                int(f.get("px_digits", -1)) if judge else -1,
                int(f.get("px_lm_digits", -1)) if judge else -1,
                hand.handedness))
    out = {}
    for tid, buf in sorted(buffers.items()):
        t = buf.to_data()
        raw, _ = finger_drift(t, ctx, cfg)
        drift = np.nan_to_num(np.nanmax(np.where(np.isnan(raw), -1.0, raw), axis=1)
                              .clip(min=0.0))
        lost = np.nan_to_num(finger_coverage(t, ctx, cfg)[2], nan=0.0).max(axis=1).clip(min=0.0)
        rows = meta[tid]
        out[tid] = HandSeries(
            track_id=tid, frames=t.frames.tolist(), times_s=[r[0] for r in rows],
            digits_px=[r[1] for r in rows], digits_lm=[r[2] for r in rows],
            proportion_drift=[round(float(d), 4) for d in drift],
            coverage_lost=[round(float(v), 4) for v in lost],
            confidence=[round(float(s), 4) for s in t.score], handedness=[r[3] for r in rows])
    return out
