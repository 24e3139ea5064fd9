"""DaVinci Resolve marker EDL: the file Resolve writes for "Timeline Markers to EDL".

Each marker is a one-frame cut event at the marker's record timecode, followed by a line
``<note> |C:ResolveColor<colour> |M:<name> |D:<frames>``. Resolve reads the text before
the first ``|`` as the marker's notes and ``D`` as its duration, so markers keep their length.
Import it in Resolve with Timelines > Import > Timeline Markers from EDL.

Example:
    >>> from vidhand.export.resolve_edl import write_resolve_edl
    >>> write_resolve_edl(report, "clip.resolve.edl", start_tc="01:00:00:00")
"""

from __future__ import annotations

import os
from pathlib import Path

from vidhand.report import Report

from ._common import build_timeline, one_line, write_text

COLORS = {"low": "ResolveColorGreen", "medium": "ResolveColorYellow", "high": "ResolveColorRed"}


def write_resolve_edl(report: Report, path: str | os.PathLike[str], *,
                      start_tc: str | None = None) -> Path:
    """Write the events of ``report`` as a Resolve timeline-marker EDL to ``path``.

    Raises:
        ExportError: if the rate has no SMPTE timecode or the file cannot be written.
    """
    tl = build_timeline(report, start_tc, need_frames=True)
    lines = [f"TITLE: {_title(tl.name)}",
             f"FCM: {'DROP FRAME' if tl.drop_frame else 'NON-DROP FRAME'}", ""]
    tl.tc(tl.frames)  # fail early if the clip's end passes 24 hours
    for n, mark in enumerate(tl.marks, start=1):
        tc_in, tc_out = tl.tc(mark.start), tl.tc(mark.start + 1)
        lines.append(f"{n:03d}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}")
        lines.append(f"{_note(mark.event.message, mark.track_label)} |C:{COLORS[mark.band]} "
                     f"|M:{_field(mark.event.type)} |D:{mark.duration}")
        lines.append("")
    return write_text(path, "\n".join(lines) + "\n")


def _title(name: str) -> str:
    return one_line(name)[:70] or "vidhand"


def _field(text: str) -> str:
    # A "|" would start a new field; Resolve has no escape for it.
    return one_line(text).replace("|", "/")


def _note(message: str, track: str) -> str:
    note = _field(f"{message} [{track}]").lstrip("* ")
    # A note opening with a digit reads like an event line to Resolve's parser.
    return f"- {note}" if note[:1].isdigit() else note
