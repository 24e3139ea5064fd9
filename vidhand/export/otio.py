"""OpenTimelineIO export: one clip of the source video, one marker per event.

Markers live on the clip, in its source time (the start timecode included), as OTIO
expects; their colour follows the severity band (green, yellow, red).

Example:
    >>> from vidhand.export.otio import write_otio
    >>> write_otio(report, "clip.otio")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio import opentime

from vidhand.report import Report

from ._common import Mark, build_timeline, write_text
from .timecode import otio_rate

COLORS = {
    "low": otio.schema.MarkerColor.GREEN,
    "medium": otio.schema.MarkerColor.YELLOW,
    "high": otio.schema.MarkerColor.RED,
}


def write_otio(report: Report, path: str | os.PathLike[str], *,
               start_tc: str | None = None) -> Path:
    """Write ``report`` as an OTIO timeline (``otio_json``) to ``path``.

    Raises:
        ExportError: if the report cannot be placed on a timeline or the file not written.
    """
    timeline = to_timeline(report, start_tc=start_tc)
    return write_text(path, otio.adapters.write_to_string(timeline, "otio_json") + "\n")


def to_timeline(report: Report, *, start_tc: str | None = None) -> otio.schema.Timeline:
    """Return ``report`` as an in-memory ``otio.schema.Timeline``."""
    tl = build_timeline(report, start_tc, need_frames=True)
    r = otio_rate(tl.rate)

    def rt(frames: int) -> opentime.RationalTime:
        return opentime.RationalTime(frames, r)

    available = opentime.TimeRange(rt(tl.start_frame), rt(tl.frames))
    media = otio.schema.ExternalReference(target_url=tl.media_url, available_range=available)
    clip = otio.schema.Clip(name=Path(report.video.path).name, media_reference=media,
                            source_range=available)
    evidence = {id(ev): d["evidence"]  # JSON-safe copies
                for ev, d in zip(report.events, report.to_dict()["events"], strict=True)}
    for mark in tl.marks:
        clip.markers.append(_marker(mark, rt(tl.start_frame + mark.start), rt(mark.duration),
                                    evidence[id(mark.event)]))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(name=f"{tl.name} (vidhand)",
                                    global_start_time=rt(tl.start_frame))
    timeline.tracks.append(track)
    timeline.metadata["vidhand"] = {
        "schema": report.schema,
        "verdict": report.summary.verdict,
        "score": report.summary.score,
        "vidhand_version": report.vidhand_version,
    }
    return timeline


def _marker(mark: Mark, start: opentime.RationalTime, duration: opentime.RationalTime,
            evidence: dict[str, Any]) -> otio.schema.Marker:
    ev = mark.event
    return otio.schema.Marker(
        name=ev.type,
        marked_range=opentime.TimeRange(start, duration),
        color=COLORS[mark.band],
        comment=ev.message,
        metadata={"vidhand": {
            "event_id": ev.event_id,
            "track_id": ev.track_id,
            "handedness": mark.handedness,
            "severity": ev.severity,
            "start_frame": ev.start_frame,
            "end_frame": ev.end_frame,
            "evidence": evidence,
        }},
    )
