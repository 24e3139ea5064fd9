"""Click options shared by ``vidhand check`` and ``vidhand batch`` (one definition each)."""

from __future__ import annotations

from collections.abc import Callable
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
