"""``vidhand batch``: QA a folder of renders, resumably, on one machine or a Ray cluster."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from vidhand.cli_options import detection_options, verdict_options
from vidhand.errors import VidhandError
from vidhand.report import VERDICT_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Fail(click.ClickException):
    exit_code = EXIT_ERROR


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder for the reports, landmark files, exports and "
                                  "summary.jsonl / summary.csv.")
@click.option("-j", "--jobs", type=click.IntRange(0, None), default=0, show_default=True,
              help="Workers (0: one per CPU). Clips run side by side in worker processes "
                   "when there are at least as many clips as jobs; otherwise each clip is "
                   "split into segments analysed in threads.")
@click.option("--export", "export_formats", default="",
              help="Also write editor files next to each report: comma-separated formats.")
@verdict_options
@detection_options
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Run clips in local processes or as Ray tasks.")
@click.option("--address", default=None,
              help="Ray cluster to join (e.g. auto, ray://head:10001); default: start a "
                   "local Ray. Only with --engine ray.")
@click.option("--clip-timeout", "clip_timeout", type=click.FloatRange(0, None, min_open=True),
              default=None, metavar="SECONDS",
              help="Stop a clip still running this long after a worker took it and record "
                   "it as an error (a hung decoder must not hold the night's batch). "
                   "Time a clip waits in Ray's queue does not count; the local engine "
                   "then runs every clip in a worker process.")
def batch_command(inputs: tuple[str, ...], out_dir: Path, jobs: int, export_formats: str,
                  fail_on: str, profile: str, max_hands: int, backend: str,
                  max_side: int | None, hand_model: Path | None, engine: str,
                  address: str | None, clip_timeout: float | None) -> None:
    """Check every clip of folders or globs: one report each plus a running summary.

    Writes OUT/<stem>.json and OUT/<stem>.landmarks.npz per clip (as `vidhand check`
    does), and OUT/summary.jsonl and OUT/summary.csv as clips finish. A rerun skips
    clips whose report exists for the same file hash and settings. A clip that cannot
    be read, kills its worker or outlives --clip-timeout is recorded with its error and
    the batch goes on. One batch writes into OUT at a time. Ctrl-C keeps every finished
    report.

    Exit codes: 0 all clips below --fail-on, 1 some clip reached --fail-on, 2 usage
    error or some clip could not be analysed, 130 interrupted.

    Example:

        vidhand batch renders/ --out qa/ --fail-on warn

        vidhand batch 'renders/**/*.mp4' --out qa/ --jobs 2 --export otio,csv

        vidhand batch /mnt/renders --out /mnt/qa --engine ray --address auto
    """
    from vidhand.batch import run_batch
    from vidhand.pipeline import AnalysisOptions

    if address and engine != "ray":
        raise click.BadParameter("--address needs --engine ray", param_hint="--address")
    formats = [f.strip() for f in export_formats.split(",") if f.strip()]
    if formats:
        from vidhand.export import EXPORTERS

        bad = [f for f in formats if f not in EXPORTERS]
        if bad:
            raise click.BadParameter(
                f"unknown format {', '.join(bad)}; valid formats: {', '.join(EXPORTERS)}",
                param_hint="--export")
    if engine == "ray":
        from vidhand.ray_engine import import_ray

        try:
            import_ray()
        except ImportError as exc:
            raise _Fail(str(exc)) from None
    options = AnalysisOptions(backend=backend, max_hands=max_hands, max_side=max_side,
                              hand_model=str(hand_model) if hand_model else None,
                              profile=profile)
    bars = _Bars()
    try:
        result = run_batch(list(inputs), out_dir, options=options, jobs=jobs,
                           formats=formats, engine=engine, address=address,
                           on_clip=bars.clip, on_frames=bars.frames,
                           clip_timeout_s=clip_timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="INPUTS") from None
    except VidhandError as exc:
        raise _Fail(str(exc)) from None
    finally:
        bars.close()
    worst = result.worst_verdict
    click.echo(f"vidhand batch: {result.done} analysed, {result.skipped} skipped (done "
               f"before), {result.errors} error(s); worst verdict: {worst or 'none'}; "
               f"summary: {out_dir / 'summary.csv'}", err=True)
    if result.interrupted:
        click.echo("vidhand: interrupted; finished reports are intact, rerun to resume",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    if worst is not None and VERDICT_RANK[worst] >= VERDICT_RANK[fail_on]:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)


class _Bars:
    """Two tqdm bars on stderr (clips, frames); silent when stderr is not a terminal."""

    def __init__(self) -> None:
        self._on = sys.stderr.isatty() and os.environ.get("VIDHAND_NO_PROGRESS") is None
        self._clips: Any = None
        self._frames: Any = None
        self._frames_done = 0

    def _open(self, total: int | None) -> None:
        if self._clips is None and self._on:
            from tqdm import tqdm

            self._clips = tqdm(total=total, desc="clips", unit="clip", position=0,
                               dynamic_ncols=True, file=sys.stderr)
            self._frames = tqdm(desc="frames", unit="frame", position=1, leave=False,
                                dynamic_ncols=True, file=sys.stderr)

    def clip(self, row: dict[str, Any], finished: int, total: int) -> None:
        self._open(total)
        if self._clips is not None:
            self._clips.total = total
            self._clips.n = finished
            self._clips.set_postfix_str(f"{Path(row['clip']).name}: "
                                        f"{row.get('verdict') or 'ERROR'}")
        if row.get("status") != "ok":
            click.echo(f"vidhand: error: {row['clip']}: {row['error']}", err=True)

    def frames(self, done: int) -> None:
        self._open(None)
        if self._frames is not None and done > self._frames_done:
            self._frames.update(done - self._frames_done)
            self._frames_done = done

    def close(self) -> None:
        for bar in (self._frames, self._clips):
            if bar is not None:
                bar.close()
