"""Click options shared by ``vidhand check`` and ``vidhand batch`` (one definition each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from vidhand.report import PROFILES

F = TypeVar("F", bound=Callable[..., Any])


def verdict_options(f: F) -> F:
    """``--fail-on``, ``--profile`` and ``--max-hands``."""
    for option in reversed((
        click.option("--fail-on", type=click.Choice(["warn", "fail"]), default="fail",
                     show_default=True, help="Verdict at which the exit code becomes 1."),
        click.option("--profile", type=click.Choice(list(PROFILES)), default="balanced",
                     show_default=True, help="Severity thresholds for warn/fail."),
        click.option("--max-hands", type=click.IntRange(1, 8), default=2, show_default=True,
                     help="Most hands tracked per frame."),
    )):
        f = option(f)
    return f


def detection_options(f: F) -> F:
    """``--backend``, ``--max-side`` and ``--hand-model`` (also ``$VIDHAND_HAND_MODEL``)."""
    for option in reversed((
        click.option("--backend", type=click.Choice(["pyav", "opencv"]), default="pyav",
                     show_default=True, help="Video decoder."),
        click.option("--max-side", type=click.IntRange(16, None), default=None,
                     help="Analyse frames downscaled to this longest side (coordinates stay "
                          "in source pixels)."),
        click.option("--hand-model", type=click.Path(dir_okay=False, path_type=Path),
                     envvar="VIDHAND_HAND_MODEL", default=None,
                     help="Your own hand_landmarker.task (env VIDHAND_HAND_MODEL). Default: "
                          "the model bundled in mediapipe 0.10.21."),
    )):
        f = option(f)
    return f
