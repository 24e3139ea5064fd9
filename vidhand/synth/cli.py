"""``vidhand synth``: render a synthetic hand defect into a clean clip, with ground truth.

The lead registers :func:`synth_command` into the ``vidhand`` group.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from vidhand.errors import VidhandError
from vidhand.synth.defects import DEFECTS

_DEBUG = os.environ.get("VIDHAND_DEBUG", "") not in ("", "0")


class _Fail(click.ClickException):
    exit_code = 2


def _parse_frames(value: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in value.split(":"))
    except ValueError:
        raise click.BadParameter(f"expected A:B (0-based frame numbers), got {value!r}",
                                 param_hint="--frames") from None
    if a < 0 or b < a:
        raise click.BadParameter(f"need 0 <= A <= B, got {value!r}", param_hint="--frames")
    return a, b


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("clean_video", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--defect", required=True, type=click.Choice(list(DEFECTS)),
              help="The glitch to draw.")
@click.option("--frames", "frames", required=True, metavar="A:B",
              help="First and last frame of the defect (0-based, decode order, inclusive).")
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Output video (H.264); the truth goes to <stem>.truth.json beside it.")
@click.option("--track", "track_id", type=int, default=None,
              help="Track id (as in the clip's report) of the hand to break. Default: the "
                   "hand seen large and away from the edge in most frames of A:B.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of every random choice (same seed, same output).")
@click.option("--max-side", type=click.IntRange(16, None), default=None,
              help="Track the hands on frames downscaled to this longest side (faster).")
def synth_command(clean_video: Path, defect: str, frames: str, out_path: Path,
                  track_id: int | None, seed: int, max_side: int | None) -> None:
    """Draw a synthetic hand defect into CLEAN_VIDEO and write its ground truth.

    The hands are tracked with vidhand's own pipeline (MediaPipe), one hand gets the
    defect in frames A..B, and the whole clip is re-encoded (same size, rate and frame
    count). OUT.truth.json (schema vidhand.truth/1) records the hand's track id, the
    frames actually drawn, the expected event types and the defect parameters.

    Exit codes: 0 written, 2 usage or input error.

    Example:

        vidhand synth clean.mp4 --defect extra_finger --frames 30:54 --out bad.mp4

        vidhand synth clean.mp4 --defect vanish --frames 10:20 --out v.mp4 --track 2 --seed 7
    """
    from vidhand.synth.core import synthesize, truth_path

    start, end = _parse_frames(frames)
    if not clean_video.is_file():
        raise click.BadParameter(f"{clean_video}: no such file", param_hint="CLEAN_VIDEO")
    try:
        truth = synthesize(clean_video, defect, start, end, out_path, track_id=track_id,
                           seed=seed, max_side=max_side)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except VidhandError as exc:
        if _DEBUG:
            raise
        raise _Fail(str(exc)) from None
    click.echo(f"{out_path}: {defect} on track {truth.track_id}, drawn in "
               f"{len(truth.frames_rendered)}/{end - start + 1} frames of {start}..{end} "
               f"-> {truth_path(out_path)}")
    if truth.hardly_shows:
        click.echo(f"warning: {out_path}: the drawing changes almost no pixel in "
                   f"{len(truth.frames_rendered) - len(truth.frames_visible or ())} of the "
                   f"{len(truth.frames_rendered)} frames it was drawn in (it lands behind "
                   f"the other hand or on skin of the same tone); check the output, or "
                   f"choose another --track or --seed", err=True)
    if truth.params.get("visible") is False:
        click.echo(f"warning: {out_path}: the hand's fingers are curled in {start}..{end}, so "
                   f"the {defect.replace('_', ' ')} will hardly be seen; choose frames where "
                   f"the hand is open", err=True)
