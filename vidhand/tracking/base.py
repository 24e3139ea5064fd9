"""The :class:`HandTracker` interface: frames in, hands out."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Any

from vidhand.types import Frame, HandFrame


class HandTracker(abc.ABC):
    """Turns a stream of frames into per-frame hand detections (no identities yet).

    Frames must be fed in increasing ``pts_s`` order. Trackers hold native
    resources; use them as context managers or call :meth:`close`.
    """

    TRACKER_NAME: str = ""

    @abc.abstractmethod
    def process(self, frame: Frame) -> HandFrame:
        """Detect hands in ``frame``; landmarks are returned in source pixels."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release native resources. Safe to call twice."""

    @property
    def settings(self) -> dict[str, Any]:
        """Parameters that change the detections (recorded in the report)."""
        return {}

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
