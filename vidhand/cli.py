"""The ``vidhand`` command line: parse, call the library, format, exit.

Exit codes: 0 every clip passed (or stayed below ``--fail-on``), 1 some clip reached
the ``--fail-on`` verdict, 2 usage or input error (a bad file among several is
reported and the others still run; the exit code is then 2).
Set ``VIDHAND_DEBUG=1`` to get full tracebacks instead of one-line errors.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from vidhand._version import __version__
from vidhand.cli_options import detection_options, verdict_options
from vidhand.errors import VidhandError
from vidhand.report import VERDICT_RANK, Report, write_report

logger = logging.getLogger("vidhand")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DEBUG = os.environ.get("VIDHAND_DEBUG", "") not in ("", "0")


class _Fail(click.ClickException):
    exit_code = EXIT_ERROR


def _init_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("vidhand: %(levelname)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


# Sub-commands other than ``check``: module and attribute, imported when the command
# runs (or ``--help`` lists it), so ``vidhand check`` does not pay for the synthesizer's
# or the exporters' imports at every start.
_LAZY_COMMANDS = {
    "batch": ("vidhand.batch_cli", "batch_command"),
    "export": ("vidhand.export.cli", "export_command"),
    "render": ("vidhand.render_cli", "render_command"),
    "synth": ("vidhand.synth.cli", "synth_command"),
    "thumbs": ("vidhand.render_cli", "thumbs_command"),
}


class _LazyGroup(click.Group):
    """A command group whose :data:`_LAZY_COMMANDS` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY_COMMANDS and cmd_name not in self.commands:
            module, attr = _LAZY_COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), name=cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vidhand")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """vidhand: follow every hand through a video and say where it breaks.

    Example:

        vidhand check clip.mp4 --out reports/

        vidhand check renders/*.mp4 --out reports/ --fail-on warn --json
    """
    _init_logging(verbose)


def _summary_line(name: str, report: Report, report_path: Path) -> str:
    s = report.summary
    counts = ", ".join(f"{t} {n}" for t, n in s.event_counts.items()) or "no events"
    err = report.video.decode_error
    err = f" | decode stopped early: {err}" if err else ""
    return (f"{name}: {s.verdict.upper()} score {s.score:.2f} | {s.tracks} hand track(s), "
            f"hands in {s.frames_with_hands}/{report.video.frame_count} frames | "
            f"{len(report.events)} event(s): {counts}{err} -> {report_path}")


@cli.command()
@click.argument("videos", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("vidhand-reports"), show_default=True,
              help="Folder for <video stem>.json reports and their landmark files.")
@click.option("--json", "as_json", is_flag=True, help="Print the report(s) as JSON to stdout.")
@verdict_options
@detection_options
@click.option("--from-landmarks", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Re-run the checks on a saved landmark file, without "
                                 "MediaPipe (VIDEO may then be omitted).")
@click.option("--export", "export_formats", default="",
              help="Also write editor files next to each report: comma-separated formats "
                   "(see `vidhand export --help`).")
@click.option("-j", "--jobs", type=click.IntRange(0, None), default=0, show_default=True,
              help="Parallel workers (0: one per CPU), one MediaPipe landmarker each. A "
                   "long video is split into segments analysed side by side in threads of "
                   "one process; the report is that of --jobs 1.")
def check(
    videos: tuple[Path, ...], out_dir: Path, as_json: bool, fail_on: str, profile: str,
    max_hands: int, backend: str, max_side: int | None, hand_model: Path | None,
    from_landmarks: Path | None, export_formats: str, jobs: int,
) -> None:
    """Check the hands in one or more videos and write a JSON report for each.

    Each report goes to OUT/<video stem>.json with its landmarks in
    OUT/<video stem>.landmarks.npz. A one-line summary per clip is printed.

    Exit codes: 0 pass, 1 a clip reached --fail-on, 2 usage or input error.

    Example:

        vidhand check clip.mp4

        vidhand check a.mp4 b.mov --out reports/ --fail-on warn

        vidhand check --from-landmarks reports/a.landmarks.npz --profile strict

        vidhand check long_take.mp4 --jobs 2

    For many clips, `vidhand batch` runs them side by side and can resume.
    """
    from vidhand.batch import unique_stem
    from vidhand.pipeline import AnalysisOptions, analyze, default_landmarks_path
    from vidhand.progress import TqdmProgress

    if not videos and from_landmarks is None:
        raise click.UsageError("give at least one VIDEO (or --from-landmarks FILE)")
    if from_landmarks is not None and len(videos) > 1:
        raise click.UsageError("--from-landmarks replays one video; give at most one VIDEO")
    formats = [f.strip() for f in export_formats.split(",") if f.strip()]
    if formats:
        _validate_formats(formats)
    options = AnalysisOptions(backend=backend, max_hands=max_hands, max_side=max_side,
                              hand_model=str(hand_model) if hand_model else None,
                              profile=profile)
    items: list[Path | None] = list(videos) if videos else [None]
    used: set[str] = set()
    worst = 0
    errors = 0
    reports: list[dict[str, Any]] = []
    for video in items:
        name = str(video) if video is not None else str(from_landmarks)
        stem_source = video if video is not None else Path(
            str(from_landmarks).removesuffix(".npz").removesuffix(".landmarks"))
        stem = unique_stem(stem_source, used)
        report_path = out_dir / f"{stem}.json"
        bar = TqdmProgress(desc=Path(name).name)
        try:
            landmarks_out = (default_landmarks_path(report_path)
                             if from_landmarks is None else None)
            report = analyze(video, options=options, from_landmarks=from_landmarks,
                             landmarks_out=landmarks_out, progress=bar, jobs=jobs)
            write_report(report, report_path)
            if formats:
                _export(report, report_path, formats)
        except VidhandError as exc:
            bar.close()
            if DEBUG:
                raise
            errors += 1
            click.echo(f"vidhand: error: {exc}", err=True)
            continue
        except Exception as exc:  # a bug must not stop the batch; say how to see it
            bar.close()
            if DEBUG:
                raise
            errors += 1
            click.echo(f"vidhand: error: {name}: internal error {type(exc).__name__}: {exc} "
                       f"(set VIDHAND_DEBUG=1 for the traceback and report it)", err=True)
            continue
        except KeyboardInterrupt:
            bar.close()
            click.echo("vidhand: interrupted; finished reports are intact", err=True)
            sys.exit(130)
        bar.close()
        worst = max(worst, VERDICT_RANK[report.summary.verdict])
        reports.append(report.to_dict())
        click.echo(_summary_line(name, report, report_path), err=as_json)
    if as_json:
        click.echo(json.dumps(reports[0] if len(reports) == 1 and len(items) == 1 else reports,
                              indent=2))
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if worst >= VERDICT_RANK[fail_on] else EXIT_OK)


def _validate_formats(formats: list[str]) -> None:
    from vidhand.export import EXPORTERS

    bad = [f for f in formats if f not in EXPORTERS]
    if bad:
        raise click.BadParameter(
            f"unknown format {', '.join(bad)}; valid formats: {', '.join(EXPORTERS)}",
            param_hint="--export")


def _export(report: Report, report_path: Path, formats: list[str]) -> None:
    from vidhand.export import default_export_path, export_report

    for fmt in formats:
        export_report(report, fmt, path=default_export_path(report_path, fmt))


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="vidhand", standalone_mode=True)
    except VidhandError as exc:  # errors raised outside a command body
        if DEBUG:
            raise
        click.echo(f"vidhand: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
