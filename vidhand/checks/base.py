"""The :class:`Check` interface: stateful, fed one tracked frame at a time.

A check sees only :class:`~vidhand.types.HandFrame` objects whose hands carry a
``track_id`` (and pixel ``features`` measured upstream), never a frame image or a
path, so it runs identically on a live analysis and on a replayed landmark file.
"""

from __future__ import annotations

import abc
from typing import Any

from vidhand.types import Finding, HandFrame, VideoInfo


class Check(abc.ABC):
    """One kind of evidence over time.

    ``begin`` is called once with the video's facts, ``process`` once per decoded frame
    in order (frames without hands included), ``finalize`` once at the end.
    """

    CHECK_NAME: str = ""

    #: Human-readable notes for the report summary (e.g. "too small to judge").
    notes: list[str]

    def begin(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Prepare for a video (frame rate, size)."""

    @abc.abstractmethod
    def process(self, hand_frame: HandFrame) -> list[Finding]:
        """Consume one frame; return findings that are complete now."""

    def remap_tracks(self, id_map: dict[int, int]) -> None:  # noqa: B027 - optional hook
        """Called once before :meth:`finalize` with raw id -> report id.

        Raw ids missing from ``id_map`` belong to detector noise (tracks too short to be
        hands). Findings returned by :meth:`finalize` must use the report ids; findings
        returned by :meth:`process` carry raw ids and are mapped by the pipeline.
        """

    def finalize(self) -> list[Finding]:
        """Return the findings still open at the end of the video."""
        return []

    @property
    def settings(self) -> dict[str, Any]:
        """Parameters that change this check's findings (recorded in the report)."""
        return {}


def find_runs(
    active: list[bool] | Any,
    *,
    min_len: int = 1,
    merge_gap: int = 0,
) -> list[tuple[int, int]]:
    """Inclusive (start, end) index runs where ``active`` is true.

    Runs separated by at most ``merge_gap`` inactive samples are merged first, then runs
    shorter than ``min_len`` are dropped: one shared debounce for every check (a single
    detector glitch never becomes an event; a defect that flickers stays one event).
    """
    runs: list[list[int]] = []
    for i, on in enumerate(active):
        if not on:
            continue
        if runs and i - runs[-1][1] - 1 <= merge_gap:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return [(a, b) for a, b in runs if b - a + 1 >= min_len]


def severity_of(strength: float, duration_s: float, full_duration_s: float = 0.5) -> float:
    """Severity in [0, 1] from evidence strength in [0, 1] and how long it lasted.

    A defect barely over threshold for a few frames is ~0.35 (a warning under the
    balanced profile); strong evidence held for ``full_duration_s`` or more reaches 1.
    """
    s = min(max(strength, 0.0), 1.0)
    d = min(max(duration_s / full_duration_s, 0.0), 1.0)
    return round(min(1.0, 0.3 + 0.4 * s + 0.3 * d), 4)
