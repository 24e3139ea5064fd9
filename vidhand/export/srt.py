"""SubRip (SRT) cues, one per event, for players and tools that take no WebVTT.

Cue times count from the video's first frame (the start timecode is ignored); a cue
covers the event's frames. Cues are numbered from 1 in time order.

Example:
    >>> from vidhand.export.srt import write_srt
    >>> write_srt(report, "clip.srt")
"""

from __future__ import annotations

import os
from pathlib import Path

from vidhand.report import Report

from ._common import write_text
from ._cues import clock, cue_text, cues


def write_srt(report: Report, path: str | os.PathLike[str], *,
              start_tc: str | None = None) -> Path:
    """Write the events of ``report`` as SubRip cues to ``path``.

    ``start_tc`` is accepted for a uniform signature and ignored.

    Raises:
        ExportError: if the report has no usable rate or the file cannot be written.
    """
    blocks = []
    for n, (mark, start_ms, end_ms, title) in enumerate(cues(report), start=1):
        blocks.append("\n".join([
            str(n),
            f"{clock(start_ms, ',')} --> {clock(end_ms, ',')}",
            cue_text(title),
            cue_text(mark.event.message),
        ]))
    return write_text(path, "".join(b + "\n\n" for b in blocks))
