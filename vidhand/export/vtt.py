"""WebVTT cues for web players (``<track kind="metadata">`` or captions), one per event.

Cue times count from the video's first frame (web players ignore the start timecode); a cue
covers the event's frames. The cue id is ``event-<event_id>``.

Example:
    >>> from vidhand.export.vtt import write_vtt
    >>> write_vtt(report, "clip.vtt")
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from vidhand.report import Report

from ._common import write_text
from ._cues import clock, cue_text, cues


def write_vtt(report: Report, path: str | os.PathLike[str], *,
              start_tc: str | None = None) -> Path:
    """Write the events of ``report`` as WebVTT cues to ``path``.

    ``start_tc`` is accepted for a uniform signature and ignored.

    Raises:
        ExportError: if the report has no usable rate or the file cannot be written.
    """
    blocks = ["WEBVTT"]
    for mark, start_ms, end_ms, title in cues(report):
        blocks.append("\n".join([
            f"event-{mark.event.event_id}",
            f"{clock(start_ms, '.')} --> {clock(end_ms, '.')}",
            escape(cue_text(title), quote=False),
            escape(cue_text(mark.event.message), quote=False),
        ]))
    return write_text(path, "\n\n".join(blocks) + "\n")
