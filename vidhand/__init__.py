"""vidhand: follow every hand through a video and say where it breaks.

Example:
    >>> import vidhand
    >>> report = vidhand.analyze("clip.mp4")
    >>> report.summary.verdict, [e.type for e in report.events]

Importing vidhand does not load MediaPipe; the hand tracker loads it when created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidhand._version import __version__
from vidhand.errors import VidhandError
from vidhand.report import Report, read_report, write_report
from vidhand.types import Event, Frame, Hand, HandFrame, Track, VideoInfo

if TYPE_CHECKING:
    from vidhand.pipeline import analyze
    from vidhand.video import open_video

__all__ = [
    "Event",
    "Frame",
    "Hand",
    "HandFrame",
    "Report",
    "Track",
    "VideoInfo",
    "VidhandError",
    "__version__",
    "analyze",
    "open_video",
    "read_report",
    "write_report",
]


def __getattr__(name: str) -> Any:
    # Lazy so that `import vidhand` and `vidhand --help` stay fast and MediaPipe-free.
    if name == "analyze":
        from vidhand.pipeline import analyze

        return analyze
    if name == "open_video":
        from vidhand.video import open_video

        return open_video
    raise AttributeError(f"module 'vidhand' has no attribute {name!r}")
