"""FCPXML 1.9 for Final Cut Pro (10.4.7 and later; DaVinci Resolve imports it too).

A library > event > project holding one ``asset-clip`` of the source, with one
``<marker start duration value note>`` per event on the clip, in the clip's own time (its
start timecode included). Events at or above the profile's fail threshold become to-do
markers (``completed="0"``), so they appear in Final Cut's to-do list. Times are rational
seconds, whole multiples of the frame duration. Import with File > Import > XML.

Example:
    >>> from vidhand.export.fcpxml import write_fcpxml
    >>> write_fcpxml(report, "clip.fcpxml")
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from vidhand.report import Report

from ._common import build_timeline, one_line, write_text
from ._xml import sub, to_string

VERSION = "1.9"


def write_fcpxml(report: Report, path: str | os.PathLike[str], *,
                 start_tc: str | None = None) -> Path:
    """Write ``report`` as FCPXML with one marker per event on the clip to ``path``.

    Raises:
        ExportError: if the report cannot be placed on a timeline or the file not written.
    """
    tl = build_timeline(report, start_tc, need_frames=True)
    video = report.video
    frame_s = 1 / tl.rate

    def t(frames: int) -> str:
        return rational_seconds(frames, frame_s)

    tc_format = "DF" if tl.drop_frame else "NDF"
    start, duration = t(tl.start_frame), t(tl.frames)
    root = ET.Element("fcpxml", version=VERSION)
    res = sub(root, "resources")
    sub(res, "format", id="r1", frameDuration=rational_seconds(1, frame_s),
        width=str(video.width), height=str(video.height))
    asset = sub(res, "asset", id="r2", name=tl.name, start=start, duration=duration,
                hasVideo="1", format="r1", videoSources="1")
    sub(asset, "media-rep", kind="original-media", src=tl.media_url)
    project = sub(sub(sub(root, "library"), "event", name="vidhand"), "project",
                  name=f"{tl.name} (vidhand)")
    seq = sub(project, "sequence", format="r1", duration=duration, tcStart=start,
              tcFormat=tc_format)
    clip = sub(sub(seq, "spine"), "asset-clip", ref="r2", offset=start, name=tl.name,
               start=start, duration=duration, format="r1", tcFormat=tc_format)
    for mark in tl.marks:
        ev = mark.event
        attrs = {"start": t(tl.start_frame + mark.start), "duration": t(mark.duration),
                 "value": ev.type, "note": one_line(f"{ev.message} [{mark.track_label}]")}
        if mark.band == "high":
            attrs["completed"] = "0"  # a to-do marker
        sub(clip, "marker", **attrs)
    return write_text(path, to_string(root, "fcpxml"))


def rational_seconds(frames: int, frame_s: Fraction) -> str:
    """Return ``frames`` frames as FCPXML time: ``0s``, ``5s`` or ``1001/30000s``-style."""
    value = frames * frame_s
    if value == 0:
        return "0s"
    if value.denominator == 1:
        return f"{value.numerator}s"
    # Keep the frame duration's denominator, as Final Cut writes it: 2002/30000s, not 1001/15000s.
    den = frame_s.denominator
    num = value * den
    if num.denominator == 1:
        return f"{num.numerator}/{den}s"
    return f"{value.numerator}/{value.denominator}s"
