"""The ``vidhand export`` command: turn a report into files for editors and players.

Exit codes: 0 written, 2 usage or input error (unknown format, bad timecode, unreadable
report, export failed). The main ``vidhand`` group registers :data:`export_command`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from vidhand.errors import VidhandError

from . import EXPORTERS, SUFFIXES, export_report

_TC_RE = re.compile(r"^\d{2}:\d{2}:\d{2}[:;.]\d{2}$")


class _UsageFailure(click.ClickException):
    exit_code = 2


def _parse_formats(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if names == ["all"]:
        return list(EXPORTERS)
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or repr(value)}; valid formats: "
            f"{', '.join(EXPORTERS)} (comma-separated, or all)")
    return list(dict.fromkeys(names))


def _check_tc(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _TC_RE.match(value.strip()):
        raise click.BadParameter(f"expected HH:MM:SS:FF, e.g. 01:00:00:00, got {value!r}")
    return value


@click.command("export")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "-f", "formats", required=True, callback=_parse_formats,
              metavar="FMT[,FMT...]",
              help=f"Formats to write: {', '.join(EXPORTERS)}, or all.")
@click.option("--out", "-o", type=click.Path(), default=None,
              help="Output file (one format) or directory (several formats, or a path "
                   "ending in /). Default: next to REPORT as <stem>"
                   + ", <stem>".join(SUFFIXES.values()) + ".")
@click.option("--start-tc", callback=_check_tc, default=None, metavar="HH:MM:SS:FF",
              help="Timecode of the first frame (default: the video's, else 00:00:00:00).")
def export_command(report: Path, formats: list[str], out: str | None,
                   start_tc: str | None) -> None:
    """Export the events of REPORT (a vidhand JSON report) for editors and players.

    Formats: otio (OpenTimelineIO), resolve-edl (DaVinci Resolve timeline markers),
    cmx3600 (EDL with LOC markers for Avid and others), fcp7xml (Premiere Pro),
    fcpxml (Final Cut Pro), csv, vtt and srt (web players). Writes one file per
    format, next to REPORT unless --out is given, and prints each path.

    Example:

    \b
        vidhand export out/clip.json --format resolve-edl --start-tc 01:00:00:00
        vidhand export out/clip.json -f fcpxml,csv,vtt --out exports/
    """
    if out is not None and (len(formats) > 1 or out.endswith(("/", os.sep))):
        if Path(out).is_file():
            raise click.BadParameter(
                f"{out} is a file; with several formats --out must be a directory",
                param_hint="--out")
        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _UsageFailure(f"{out}: cannot create directory ({exc.strerror or exc})") from None
    try:
        for fmt in formats:
            click.echo(export_report(report, fmt, out, start_tc=start_tc))
    except VidhandError as exc:
        if os.environ.get("VIDHAND_DEBUG") == "1":
            raise
        raise _UsageFailure(str(exc)) from None
    except OSError as exc:
        if os.environ.get("VIDHAND_DEBUG") == "1":
            raise
        raise _UsageFailure(f"{out or report}: {exc.strerror or exc}") from None
