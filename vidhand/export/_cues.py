"""Shared cue building for the WebVTT and SubRip writers."""

from __future__ import annotations

from collections.abc import Iterator

from vidhand.report import Report

from . import timecode
from ._common import Mark, build_timeline, one_line


def cues(report: Report) -> Iterator[tuple[Mark, int, int, str]]:
    """Yield ``(mark, start_ms, end_ms, title)`` per event, times from the first frame.

    A cue runs from the start of the event's first frame to the end of its last, so a
    one-frame event still shows for one frame.
    """
    tl = build_timeline(report)
    for mark in tl.marks:
        start = timecode.frame_to_seconds(mark.start, tl.rate)
        end = timecode.frame_to_seconds(mark.start + mark.duration, tl.rate)
        sev = mark.event.severity
        title = one_line(f"{mark.event.type} - {mark.track_label} - severity {sev:.2f}")
        yield mark, round(start * 1000), round(end * 1000), title


def clock(ms: int, sep: str) -> str:
    """Return ``HH:MM:SS<sep>mmm`` for ``ms`` milliseconds."""
    s, ms = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cue_text(text: str) -> str:
    """One line of cue text that cannot end a cue early (no blank line, no ``-->``)."""
    return one_line(text).replace("-->", "->")
