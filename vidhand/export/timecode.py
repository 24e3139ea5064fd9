"""SMPTE timecode for the exporters, computed only through OpenTimelineIO's ``opentime``.

Drop-frame (``;``) is used at 29.97 and 59.94 fps, non-drop everywhere else. OTIO knows
only the SMPTE rates (23.976, 24, 25, 29.97, 30, 47.952, 48, 50, 59.94, 60); at any other
rate (16 fps AI video, 120 fps) there is no timecode and :func:`has_timecode` is False.

Example:
    >>> from fractions import Fraction
    >>> from vidhand.export.timecode import frame_to_timecode
    >>> frame_to_timecode(1800, Fraction(30000, 1001))
    '00:01:00;02'
"""

from __future__ import annotations

import re
from fractions import Fraction

from opentimelineio import opentime

from vidhand.errors import ExportError

_DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
_TC_RE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2}$")


def otio_rate(rate: Fraction) -> float:
    """Return ``rate`` as the float OTIO's ``RationalTime`` uses (29.97002997..., not 29.97)."""
    return float(rate)


def is_drop_frame(rate: Fraction) -> bool:
    """Return True at the two drop-frame rates, 30000/1001 and 60000/1001."""
    return Fraction(rate) in _DROP_FRAME_RATES


def has_timecode(rate: Fraction) -> bool:
    """Return True if ``rate`` is a SMPTE timecode rate OTIO can count in."""
    return bool(opentime.RationalTime.is_smpte_timecode_rate(otio_rate(rate)))


def frame_to_timecode(frame: int, rate: Fraction, start_frame: int = 0) -> str:
    """Return the timecode of 0-based ``frame`` of a source whose first frame is ``start_frame``.

    Raises:
        ExportError: if ``rate`` has no SMPTE timecode or the timecode passes 24 hours.
    """
    r = otio_rate(rate)
    _require_timecode_rate(rate)
    total = start_frame + frame
    tc = opentime.to_timecode(opentime.RationalTime(total, r), r, is_drop_frame(rate))
    # opentime wraps silently at 24:00:00:00; a wrapped label would point at the wrong frame.
    if round(opentime.from_timecode(tc, r).value) != total:
        raise ExportError(
            f"timecode of frame {frame} passes 24:00:00:00 (start {start_frame} frames at "
            f"{_fmt_rate(rate)} fps); use an earlier start timecode")
    return tc


def parse_timecode(tc: str, rate: Fraction) -> int:
    """Return the frame count since 00:00:00:00 that timecode ``tc`` labels at ``rate``.

    The separator is ignored: at 29.97/59.94 the label is read as drop-frame, elsewhere as
    non-drop, so ``01:00:00:00`` is the first label the exports show at any rate.

    Raises:
        ExportError: if ``tc`` is not ``HH:MM:SS:FF`` or does not fit ``rate``.
    """
    text = tc.strip()
    if not _TC_RE.match(text):
        raise ExportError(f"start timecode must look like HH:MM:SS:FF, got {tc!r}")
    _require_timecode_rate(rate)
    text = text[:8] + (";" if is_drop_frame(rate) else ":") + text[9:]
    try:
        return round(opentime.from_timecode(text, otio_rate(rate)).value)
    except ValueError as exc:
        raise ExportError(
            f"start timecode {tc!r} does not fit {_fmt_rate(rate)} fps: {exc}") from None


def frame_to_seconds(frame: int, rate: Fraction) -> float:
    """Return the presentation time in seconds of 0-based ``frame`` at ``rate``."""
    r = otio_rate(rate)
    return opentime.to_seconds(opentime.RationalTime(frame, r))


def _require_timecode_rate(rate: Fraction) -> None:
    if not has_timecode(rate):
        raise ExportError(
            f"{_fmt_rate(rate)} fps has no SMPTE timecode; export otio, fcpxml, fcp7xml, csv, "
            "vtt or srt instead, or conform the clip to a standard rate (24, 25, 30 ...)")


def _fmt_rate(rate: Fraction) -> str:
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")
