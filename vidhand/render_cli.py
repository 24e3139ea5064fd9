"""The ``vidhand render`` and ``vidhand thumbs`` commands: pictures of a report (issue #4).

Exit codes: 0 written, 2 usage or input error (missing report, video or landmark file).
The main ``vidhand`` group registers :data:`render_command` and :data:`thumbs_command`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from vidhand.errors import VidhandError
from vidhand.report import Report

P = ParamSpec("P")
T = TypeVar("T")


class _InputError(click.ClickException):
    exit_code = 2


def _load(report_path: Path, video: Path | None) -> Report:
    """Read the report and check its video and landmark file before any work starts.

    A relative landmark path that does not resolve from the current folder is looked
    up beside the report (reports are often moved together with their landmarks).
    """
    from vidhand.render import resolve_video
    from vidhand.report import read_report

    report = read_report(report_path)
    lm = report.landmarks_file
    if not lm:
        raise _InputError(f"{report_path}: the report names no landmark file; re-run "
                          f"`vidhand check` to record one")
    if not Path(lm).is_file():
        beside = report_path.parent / Path(lm).name
        if not beside.is_file():
            raise _InputError(f"{report_path}: landmark file '{lm}' not found (nor '{beside}'); "
                              f"re-run `vidhand check` to record it")
        report = dataclasses.replace(report, landmarks_file=str(beside))
    resolve_video(report, video)
    return report


def _run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call the library, turning its one-line errors into exit code 2 (unless debugging)."""
    try:
        return fn(*args, **kwargs)
    except VidhandError as exc:
        if os.environ.get("VIDHAND_DEBUG", "") not in ("", "0"):
            raise
        raise _InputError(str(exc)) from None


@click.command("render")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Preview file (.mp4, .mov, .mkv). Default: <report stem>.preview.mp4 "
                   "beside REPORT.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The source video, when it is no longer where the report says.")
@click.option("--max-side", type=click.IntRange(64, None), default=None,
              help="Downscale the picture so its longer side is at most this.")
def render_command(report: Path, out: Path | None, video: Path | None,
                   max_side: int | None) -> None:
    """Write an annotated preview video of REPORT (a vidhand JSON report).

    Every hand gets its skeleton and track label in the track's colour; hands inside
    an event are outlined with the event's type, severity and message; a timeline
    below the picture shows each track's events (coloured by severity) and a
    playhead. Same frame rate and frame count as the source, H.264 (yuv420p).

    Exit codes: 0 written, 2 missing or unreadable report, video or landmark file.

    Example:

        vidhand render reports/clip.json --out clip.preview.mp4

        vidhand render reports/clip.json --video moved/clip.mp4 --max-side 1280
    """
    from vidhand.progress import TqdmProgress
    from vidhand.render import render_preview

    rep = _run(_load, report, video)
    target = out if out is not None else report.with_name(report.stem + ".preview.mp4")
    if target.suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise click.BadParameter(f"expected a .mp4, .m4v, .mov or .mkv file, got '{target}'",
                                 param_hint="--out")
    bar = TqdmProgress(desc=target.name)
    try:
        path = _run(render_preview, rep, target, video_path=video, progress=bar,
                    max_side=max_side)
    finally:
        bar.close()
    click.echo(f"preview: {path} ({rep.video.frame_count} frames, {len(rep.events)} event(s))")


@click.command("thumbs")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the PNGs. Default: <report stem>_thumbs/ beside REPORT.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The source video, when it is no longer where the report says.")
def thumbs_command(report: Path, out: Path | None, video: Path | None) -> None:
    """Write a PNG per event of REPORT (the hand before, during and after it) and a contact sheet.

    Files: OUT/event_<id>_<type>.png for each event and OUT/contact_sheet.png tiling
    them all. A report without events still gets a contact sheet saying so.

    Exit codes: 0 written, 2 missing or unreadable report, video or landmark file.

    Example:

        vidhand thumbs reports/clip.json --out reports/clip_thumbs/

        vidhand thumbs reports/clip.json --video moved/clip.mp4
    """
    from vidhand.render import render_thumbs

    rep = _run(_load, report, video)
    target = out if out is not None else report.with_name(report.stem + "_thumbs")
    paths = _run(render_thumbs, rep, target, video_path=video)
    click.echo(f"thumbs: {len(paths) - 1} event PNG(s) and {paths[-1]}")
