"""Temporal checks over tracked hands."""

from __future__ import annotations

from typing import Any

from vidhand.checks.base import Check
from vidhand.checks.temporal import TemporalConfig, TemporalModel

#: Check name -> class. Every check here runs by default.
AVAILABLE_CHECKS: dict[str, type[Check]] = {TemporalModel.CHECK_NAME: TemporalModel}


def default_checks(**options: Any) -> list[Check]:
    """The default checks, configured with ``options`` (see :class:`TemporalConfig`)."""
    return [TemporalModel(**options)]


__all__ = ["AVAILABLE_CHECKS", "Check", "TemporalConfig", "TemporalModel", "default_checks"]
