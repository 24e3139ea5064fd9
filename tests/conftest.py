"""Shared test fixtures: paths to ../shared/clips, hand builders, a log-level guard."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO.parent / "shared" / "clips"
FIXTURES = REPO / "fixtures"


def shared_clip(relpath: str) -> Path:
    """Return ``../shared/clips/<relpath>`` or skip the test saying what is missing."""
    path = SHARED_CLIPS / relpath
    if not path.exists():
        pytest.skip(f"shared clip {path} not found: this test needs the ../shared/clips "
                    f"folder beside the repository")
    return path


@pytest.fixture(autouse=True)
def no_logs_gte_error(caplog: pytest.LogCaptureFixture):
    """Fail any test during which vidhand logged at ERROR or above."""
    yield
    errors = [r for r in caplog.get_records("call")
              if r.levelno >= logging.ERROR and r.name.startswith("vidhand")]
    assert not errors, [r.getMessage() for r in errors]
