"""What every exporter derives from a report: rate, start, length, and one marker per event.

Frames here are 0-based positions at the video's nominal rate. For a constant-frame-rate
source they are the report's frame indices. For a VFR source (``video.is_vfr``) an event's
``start_s``/``end_s`` are snapped to the nearest frame of the nominal rate instead, because an
editor's timeline runs at that rate and frame *n* of a VFR file is not at ``n / rate``.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from vidhand.errors import ExportError
from vidhand.report import PROFILES, Report, write_text_atomic
from vidhand.types import Event

from . import timecode

logger = logging.getLogger(__name__)

Band = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Mark:
    """One event placed on the nominal-rate timeline.

    Attributes:
        event: the report's event.
        start: 0-based first frame.
        duration: length in frames (at least 1; the event's range is inclusive).
        band: ``low`` below the profile's warn threshold, ``high`` at or above its fail
            threshold, else ``medium``.
        handedness: ``left``/``right``/``unknown`` from the event's track, ``""`` without one.
    """

    event: Event
    start: int
    duration: int
    band: Band
    handedness: str

    @property
    def end(self) -> int:
        """Last frame, inclusive."""
        return self.start + self.duration - 1

    @property
    def track_label(self) -> str:
        """``track 3 (left)`` or ``no track``, for notes and cues."""
        if self.event.track_id is None:
            return "no track"
        return f"track {self.event.track_id} ({self.handedness or 'unknown'})"


@dataclass(frozen=True)
class Timeline:
    """The report seen as an editor's timeline: one clip, its rate, start and markers.

    Attributes:
        name: the video's file stem, used as clip, sequence and EDL title.
        rate: nominal frame rate.
        frames: length of the clip in nominal frames.
        start_frame: frames since 00:00:00:00 of the clip's first frame (its start timecode).
        media_path: absolute path of the source video.
        marks: one per event, ordered by start frame then event id.
    """

    name: str
    rate: Fraction
    frames: int
    start_frame: int
    media_path: Path
    marks: tuple[Mark, ...]

    @property
    def drop_frame(self) -> bool:
        """True at 29.97 and 59.94 fps."""
        return timecode.is_drop_frame(self.rate)

    def tc(self, frame: int) -> str:
        """Timecode of 0-based ``frame`` (``frame == frames`` gives the exclusive out point)."""
        return timecode.frame_to_timecode(frame, self.rate, self.start_frame)

    @property
    def media_url(self) -> str:
        """``file:///...`` URL of the source video."""
        return self.media_path.as_uri()


def build_timeline(report: Report, start_tc: str | None = None, *,
                   need_frames: bool = False) -> Timeline:
    """Derive the :class:`Timeline` of ``report``.

    Args:
        report: the report to export.
        start_tc: timecode of the first frame; default ``report.video.start_timecode``,
            else 00:00:00:00.
        need_frames: raise if the video has no frames (editing formats need a clip).

    Raises:
        ExportError: if the frame rate is unusable, the start timecode does not parse, or
            ``need_frames`` and the video is empty.
    """
    video = report.video
    try:
        rate = Fraction(video.fps_rational)
    except (ValueError, ZeroDivisionError):
        raise ExportError(
            f"report has no usable frame rate (fps_rational={video.fps_rational!r})") from None
    if rate <= 0:
        raise ExportError(f"report frame rate must be positive, got {video.fps_rational!r}")
    frames = _timeline_frames(report, rate)
    if need_frames and frames < 1:
        raise ExportError(f"{video.path}: video has no decoded frames; nothing to place markers on")
    marks = tuple(sorted((_mark(report, ev, rate, frames) for ev in report.events),
                         key=lambda m: (m.start, m.event.event_id)))
    return Timeline(
        name=Path(video.path).stem or "video",
        rate=rate,
        frames=frames,
        start_frame=_start_frame(report, rate, start_tc),
        media_path=Path(os.path.abspath(video.path)),
        marks=marks,
    )


def severity_band(report: Report, severity: float) -> Band:
    """Band a severity by the report's profile (``settings['profile']``, default balanced)."""
    name = report.settings.get("profile") if isinstance(report.settings, dict) else None
    profile = PROFILES.get(name if isinstance(name, str) else "", PROFILES["balanced"])
    if severity >= profile.fail_at:
        return "high"
    if severity >= profile.warn_at:
        return "medium"
    return "low"


def one_line(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(str(text).split())


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` atomically; turn OS errors into :class:`ExportError`."""
    try:
        return write_text_atomic(path, text)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write export ({exc.strerror or exc})") from None


def _timeline_frames(report: Report, rate: Fraction) -> int:
    video = report.video
    if video.is_vfr and video.duration_s > 0:
        return max(1, _nearest(video.duration_s * rate))
    return max(0, int(video.frame_count))


def _mark(report: Report, ev: Event, rate: Fraction, frames: int) -> Mark:
    if report.video.is_vfr:
        # NOTE(#4): VFR markers snap to the nearest frame of the nominal rate.
        start, end = _nearest(ev.start_s * rate), _nearest(ev.end_s * rate)
    else:
        start, end = ev.start_frame, ev.end_frame
    if frames > 0:
        start = min(max(start, 0), frames - 1)
        end = min(max(end, start), frames - 1)
    else:
        start, end = max(start, 0), max(end, start, 0)
    handedness = ""
    if ev.track_id is not None:
        handedness = next((t.handedness for t in report.tracks if t.track_id == ev.track_id),
                          "unknown")
    return Mark(event=ev, start=start, duration=end - start + 1,
                band=severity_band(report, ev.severity), handedness=handedness)


def _start_frame(report: Report, rate: Fraction, start_tc: str | None) -> int:
    if start_tc is None:
        start_tc = report.video.start_timecode
        if start_tc and not timecode.has_timecode(rate):
            logger.warning("ignoring start timecode %s: %s fps has no SMPTE timecode",
                           start_tc, float(rate))
            return 0
    if not start_tc:
        return 0
    return timecode.parse_timecode(start_tc, rate)


def _nearest(x: float | Fraction) -> int:
    return math.floor(x + Fraction(1, 2)) if isinstance(x, Fraction) else math.floor(x + 0.5)
