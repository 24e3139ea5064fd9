"""Per-hand time series for plots: what the dashboard's drift timeline draws.

Example:
    >>> from vidhand.timeline import hand_series
    >>> series = hand_series(report)          # {track_id: HandSeries}
    >>> series[1].digits_px[:5], series[1].digits_lm[:5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
        digits_lm: fingers the landmarks say are extended.
        proportion_drift: largest relative deviation of a bone/palm ratio from the
            hand's own median over the clip (0 = as usual).
        confidence: the detector's handedness score.
        handedness: the per-frame label.
    """

    track_id: int
    frames: list[int]
    times_s: list[float]
    digits_px: list[int]
    digits_lm: list[int]
    proportion_drift: list[float]
    confidence: list[float]
    handedness: list[str]


def hand_series(report: Report, hand_frames: list[HandFrame] | None = None,
                ) -> dict[int, HandSeries]:
    """Build every track's series from the report's landmark file (or given frames)."""
    frames = tracked_hand_frames(report) if hand_frames is None else hand_frames
    rows: dict[int, list[tuple]] = {}
    for hf in frames:
        for hand in hf.hands:
            if hand.track_id is None:
                continue
            f = hand.features
            judge = bool(f.get("px_judgeable", False))
            rows.setdefault(hand.track_id, []).append((
                hf.frame_index, hf.pts_s,
                int(f.get("px_digits", -1)) if judge else -1,
                int(f.get("lm_n_extended", -1)),
                f.get("lm_bones"), float(hand.handedness_score), hand.handedness))
    out = {}
    for tid, r in sorted(rows.items()):
        bones = [x[4] for x in r]
        drift = [0.0] * len(r)
        valid = [i for i, b in enumerate(bones) if b]
        if valid:
            arr = np.array([bones[i] for i in valid], dtype=np.float64)
            med = np.median(arr, axis=0)
            rel = np.abs(arr - med) / np.maximum(med, 1e-6)
            for k, i in enumerate(valid):
                drift[i] = round(float(rel[k].max()), 4)
        out[tid] = HandSeries(
            track_id=tid, frames=[x[0] for x in r], times_s=[x[1] for x in r],
            digits_px=[x[2] for x in r], digits_lm=[x[3] for x in r], proportion_drift=drift,
            confidence=[round(x[5], 4) for x in r], handedness=[x[6] for x in r])
    return out
