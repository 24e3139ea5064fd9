"""CMX 3600 EDL: the whole source as one event, each finding a ``* LOC:`` locator.

Locators are point markers (Avid Media Composer, and most tools that read CMX 3600):
the event's length survives only in the comment text. The header says ``FCM: DROP FRAME``
at 29.97/59.94 fps, where every timecode uses the ``;`` separator, else ``NON-DROP FRAME``.
Source and record timecode are equal, starting at the start timecode, so a locator's
timecode is both its source and its record time.

Example:
    >>> from vidhand.export.cmx3600 import write_cmx3600
    >>> write_cmx3600(report, "clip.cmx3600.edl")
"""

from __future__ import annotations

import os
from pathlib import Path

from vidhand.report import Report

from ._common import build_timeline, one_line, write_text

#: Locator colours Avid knows (and OTIO's cmx_3600 adapter maps to MarkerColor).
COLORS = {"low": "GREEN", "medium": "YELLOW", "high": "RED"}


def write_cmx3600(report: Report, path: str | os.PathLike[str], *,
                  start_tc: str | None = None) -> Path:
    """Write ``report`` as a CMX 3600 EDL with one ``* LOC:`` line per event to ``path``.

    Raises:
        ExportError: if the rate has no SMPTE timecode or the file cannot be written.
    """
    tl = build_timeline(report, start_tc, need_frames=True)
    tc_in, tc_out = tl.tc(0), tl.tc(tl.frames)
    clip_name = one_line(Path(report.video.path).name)
    lines = [
        f"TITLE: {one_line(tl.name)[:70] or 'vidhand'}",
        f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}",
        "",
        f"001  AX       V     C        {tc_in} {tc_out} {tc_in} {tc_out}",
        f"* FROM CLIP NAME: {clip_name}",
    ]
    for mark in tl.marks:
        ev = mark.event
        text = one_line(f"{ev.type}, {mark.duration} fr, {mark.track_label}: {ev.message}")
        lines.append(f"* LOC: {tl.tc(mark.start)} {COLORS[mark.band]:<7} {text}")
    return write_text(path, "\n".join(lines) + "\n")
