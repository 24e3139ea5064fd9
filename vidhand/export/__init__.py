"""Exports of a report for editors and players: OTIO, EDLs, Final Cut XML, CSV, WebVTT, SRT.

Every writer is ``write_<fmt>(report, path, *, start_tc=None) -> Path`` and writes
atomically. Timecodes start at ``start_tc``, else the report's ``video.start_timecode``,
else 00:00:00:00; they are drop-frame at 29.97 and 59.94 fps. Markers of a VFR source
snap to the nearest frame of the nominal rate.

Example:
    >>> from vidhand.export import export_report
    >>> export_report("out/clip.json", "resolve-edl")
    PosixPath('out/clip.resolve.edl')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from vidhand.report import Report, read_report

from .cmx3600 import write_cmx3600
from .csv import write_csv
from .fcp7xml import write_fcp7xml
from .fcpxml import write_fcpxml
from .otio import write_otio
from .resolve_edl import write_resolve_edl
from .srt import write_srt
from .vtt import write_vtt

Writer = Callable[..., Path]

#: Format name -> writer.
EXPORTERS: dict[str, Writer] = {
    "otio": write_otio,
    "resolve-edl": write_resolve_edl,
    "cmx3600": write_cmx3600,
    "fcp7xml": write_fcp7xml,
    "fcpxml": write_fcpxml,
    "csv": write_csv,
    "vtt": write_vtt,
    "srt": write_srt,
}

#: Format name -> file suffix of its default output path (distinct for every format).
SUFFIXES: dict[str, str] = {
    "otio": ".otio",
    "resolve-edl": ".resolve.edl",
    "cmx3600": ".cmx3600.edl",
    "fcp7xml": ".fcp7.xml",
    "fcpxml": ".fcpxml",
    "csv": ".csv",
    "vtt": ".vtt",
    "srt": ".srt",
}

__all__ = [
    "EXPORTERS",
    "SUFFIXES",
    "default_export_path",
    "export_report",
    "get_exporter",
    "write_cmx3600",
    "write_csv",
    "write_fcp7xml",
    "write_fcpxml",
    "write_otio",
    "write_resolve_edl",
    "write_srt",
    "write_vtt",
]


def get_exporter(fmt: str) -> Writer:
    """Return the writer of format ``fmt`` or raise ``ValueError`` listing the valid names."""
    try:
        return EXPORTERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; valid formats: {', '.join(EXPORTERS)}") from None


def default_export_path(base: str | os.PathLike[str], fmt: str) -> Path:
    """Return ``<stem><suffix>`` next to ``base``, a report or video: clip.json -> clip.otio."""
    get_exporter(fmt)
    p = Path(base)
    return p.with_name(p.stem + SUFFIXES[fmt])


def export_report(
    report: Report | str | os.PathLike[str],
    fmt: str,
    path: str | os.PathLike[str] | None = None,
    start_tc: str | None = None,
) -> Path:
    """Write ``report`` in format ``fmt`` and return the path written.

    Args:
        report: a :class:`~vidhand.report.Report`, or the path of a report JSON file.
        fmt: one of :data:`EXPORTERS`.
        path: output file, or an existing directory to put the default name in. Default:
            next to the report file (``clip.json`` -> ``clip.resolve.edl``), or next to the
            video when ``report`` is an object.
        start_tc: timecode of the first frame, ``HH:MM:SS:FF``; default the report's.

    Raises:
        ValueError: if ``fmt`` is unknown.
        ReportError: if ``report`` is a path that is not a readable report.
        ExportError: if the export cannot be made or written.
    """
    writer = get_exporter(fmt)
    if isinstance(report, Report):
        base = Path(report.video.path)
    else:
        base = Path(report)
        report = read_report(base)
    if path is None:
        out = default_export_path(base, fmt)
    elif Path(path).is_dir():
        out = Path(path) / default_export_path(base, fmt).name
    else:
        out = Path(path)
    return writer(report, out, start_tc=start_tc)
