"""The :class:`Check` interface: stateful, fed one tracked frame at a time.

A check sees only :class:`~vidhand.types.HandFrame` objects whose hands carry a
``track_id`` (and pixel ``features`` measured upstream), never a frame image or a
path, so it runs identically on a live analysis and on a replayed landmark file.
"""

from __future__ import annotations

import abc
from typing import Any

from vidhand.types import Finding, HandFrame, VideoInfo


class Check(abc.ABC):
    """One kind of evidence over time.

    ``begin`` is called once with the video's facts, ``process`` once per decoded frame
    in order (frames without hands included), ``finalize`` once at the end.
    """

    CHECK_NAME: str = ""

    def begin(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Prepare for a video (frame rate, size)."""

    @abc.abstractmethod
    def process(self, hand_frame: HandFrame) -> list[Finding]:
        """Consume one frame; return findings that are complete now."""

    def finalize(self) -> list[Finding]:
        """Return the findings still open at the end of the video."""
        return []

    @property
    def settings(self) -> dict[str, Any]:
        """Parameters that change this check's findings (recorded in the report)."""
        return {}
