"""Temporal checks over tracked hands (issue #3 fills the registry)."""

from __future__ import annotations

from vidhand.checks.base import Check

#: Check name -> class. Every check here runs by default.
AVAILABLE_CHECKS: dict[str, type[Check]] = {}


def default_checks(**options: object) -> list[Check]:
    """Instantiate every registered check with ``options`` it accepts."""
    return [cls() for cls in AVAILABLE_CHECKS.values()]


__all__ = ["AVAILABLE_CHECKS", "Check", "default_checks"]
