"""CSV: one row per event, for spreadsheets and scripts.

Columns: ``event_id, type, track_id, handedness, start_frame, end_frame, duration_frames,
start_tc, end_tc, start_s, end_s, severity, message``. Frames are 0-based and ``end_*`` is
the last frame of the event (inclusive), as in the report. Timecodes include the start
timecode and are empty at rates without SMPTE timecode; seconds count from the first frame.

Example:
    >>> from vidhand.export.csv import write_csv
    >>> write_csv(report, "clip.csv")
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from vidhand.report import Report

from . import timecode
from ._common import build_timeline, write_text

COLUMNS = ("event_id", "type", "track_id", "handedness", "start_frame", "end_frame",
           "duration_frames", "start_tc", "end_tc", "start_s", "end_s", "severity", "message")


def write_csv(report: Report, path: str | os.PathLike[str], *,
              start_tc: str | None = None) -> Path:
    """Write the events of ``report`` as CSV (header row, then one row per event) to ``path``.

    Raises:
        ExportError: if the start timecode does not parse or the file cannot be written.
    """
    tl = build_timeline(report, start_tc)
    with_tc = timecode.has_timecode(tl.rate)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(COLUMNS)
    for mark in tl.marks:
        ev = mark.event
        out.writerow([
            ev.event_id, ev.type, "" if ev.track_id is None else ev.track_id, mark.handedness,
            mark.start, mark.end, mark.duration,
            tl.tc(mark.start) if with_tc else "", tl.tc(mark.end) if with_tc else "",
            f"{timecode.frame_to_seconds(mark.start, tl.rate):.3f}",
            f"{timecode.frame_to_seconds(mark.end, tl.rate):.3f}",
            f"{ev.severity:.3f}", ev.message,
        ])
    return write_text(path, buf.getvalue())
