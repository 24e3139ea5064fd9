"""Final Cut Pro 7 XML (``xmeml`` version 5): Premiere Pro's import path.

One sequence holding the source clip, and one sequence marker per event with ``in`` and
``out`` (out is exclusive, so a marker spans the event's frames). Premiere shows them on
the timeline ruler and in its Markers panel; ``pproColor`` sets Premiere's marker colour
(green is its default and is left out). Import with File > Import.

Example:
    >>> from vidhand.export.fcp7xml import write_fcp7xml
    >>> write_fcp7xml(report, "clip.fcp7.xml")
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from vidhand.errors import ExportError
from vidhand.report import Report

from . import timecode
from ._common import Timeline, build_timeline, one_line, write_text
from ._xml import sub, to_string

#: Premiere's own marker colour numbers (as in its XML exports); ``None``: its default green.
PPRO_COLORS = {"low": None, "medium": "4281049552", "high": "4281740498"}


def write_fcp7xml(report: Report, path: str | os.PathLike[str], *,
                  start_tc: str | None = None) -> Path:
    """Write ``report`` as an FCP7 XML sequence with one marker per event to ``path``.

    Raises:
        ExportError: if the report cannot be placed on a timeline or the file not written.
    """
    tl = build_timeline(report, start_tc, need_frames=True)
    r = tl.rate
    if not (r.denominator == 1 or (r.denominator == 1001 and r.numerator % 1000 == 0)):
        raise ExportError(f"FCP7 XML needs a whole or NTSC (x1000/1001) frame rate, got {r}; "
                          "export fcpxml or otio instead")
    video = report.video
    clip_name = Path(video.path).name

    root = ET.Element("xmeml", version="5")
    seq = sub(root, "sequence", id="sequence-1")
    sub(seq, "name", f"{tl.name} (vidhand)")
    sub(seq, "duration", tl.frames)
    _rate(seq, tl)
    _timecode(seq, tl)
    v = sub(sub(seq, "media"), "video")
    _format(v, tl, video.width, video.height)
    item = sub(sub(v, "track"), "clipitem", id="clipitem-1")
    sub(item, "name", clip_name)
    sub(item, "enabled", "TRUE")
    sub(item, "duration", tl.frames)
    _rate(item, tl)
    for tag, value in (("start", 0), ("end", tl.frames), ("in", 0), ("out", tl.frames)):
        sub(item, tag, value)
    f = sub(item, "file", id="file-1")
    sub(f, "name", clip_name)
    sub(f, "pathurl", "file://localhost" + tl.media_url[len("file://"):])
    _rate(f, tl)
    sub(f, "duration", tl.frames)
    _timecode(f, tl)
    _format(sub(sub(f, "media"), "video"), tl, video.width, video.height, tag=None)

    for mark in tl.marks:
        m = sub(seq, "marker")
        ev = mark.event
        sub(m, "comment", one_line(f"{ev.message} [{mark.track_label}]"))
        sub(m, "name", ev.type)
        sub(m, "in", mark.start)
        sub(m, "out", mark.start + mark.duration)
        color = PPRO_COLORS[mark.band]
        if color:
            sub(m, "pproColor", color)
    return write_text(path, to_string(root, "xmeml"))


def _rate(parent: ET.Element, tl: Timeline) -> None:
    # xmeml rates are an integer timebase plus an NTSC flag meaning "times 1000/1001".
    ntsc = tl.rate.denominator == 1001
    timebase = tl.rate.numerator // 1000 if ntsc else tl.rate.numerator
    r = sub(parent, "rate")
    sub(r, "timebase", timebase)
    sub(r, "ntsc", "TRUE" if ntsc else "FALSE")


def _timecode(parent: ET.Element, tl: Timeline) -> None:
    if not timecode.has_timecode(tl.rate):
        return  # no SMPTE label at this rate; the item starts at frame 0
    t = sub(parent, "timecode")
    _rate(t, tl)
    sub(t, "string", tl.tc(0))
    sub(t, "frame", tl.start_frame)
    sub(t, "displayformat", "DF" if tl.drop_frame else "NDF")


def _format(parent: ET.Element, tl: Timeline, width: int, height: int,
            tag: str | None = "format") -> None:
    holder = sub(parent, tag) if tag else parent
    sc = sub(holder, "samplecharacteristics")
    _rate(sc, tl)
    sub(sc, "width", width)
    sub(sc, "height", height)
    sub(sc, "pixelaspectratio", "square")
