"""The :class:`FrameSource` interface every decoding backend implements.

A frame source streams RGB frames of one video, each with its 0-based index in
decode order and its exact presentation time. It never holds more than a few
frames in memory.

Example:
    >>> from vidhand.video import open_video
    >>> with open_video("clip.mp4") as src:
    ...     for frame in src:
    ...         print(frame.index, frame.pts_s, frame.image.shape)
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from fractions import Fraction
from types import TracebackType

from vidhand.types import Frame, VideoInfo


class FrameSource(abc.ABC):
    """A streaming reader of one video's frames.

    Subclasses set ``BACKEND_NAME`` and implement :meth:`read`, :attr:`info` and
    :meth:`close`. A source that hits corrupt data mid-stream stops yielding frames
    and sets :attr:`decode_error` to a one-line description instead of raising, so
    the frames before the break can still be analysed.
    """

    BACKEND_NAME: str = ""

    #: One-line description of a mid-stream decode failure, or ``None``.
    decode_error: str | None = None

    @property
    @abc.abstractmethod
    def info(self) -> VideoInfo:
        """Static facts about the video (size after rotation, nominal rate, estimates)."""

    @abc.abstractmethod
    def read(self) -> Frame | None:
        """Return the next frame, or ``None`` at the end of the stream (or at a break)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file and decoder. Safe to call twice."""

    @property
    def frame_rate(self) -> Fraction:
        """Nominal frame rate as an exact fraction (e.g. ``Fraction(24000, 1001)``)."""
        return self.info.frame_rate

    @property
    def frame_size(self) -> tuple[int, int]:
        """Display size (width, height) in source pixels, rotation applied."""
        return self.info.width, self.info.height

    @property
    def duration_s(self) -> float | None:
        """Container duration in seconds, if known."""
        return self.info.duration_s

    @property
    def is_seekable(self) -> bool:
        """Whether :meth:`seek` is supported. Backends override."""
        return False

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def scale_for_max_side(width: int, height: int, max_side: int | None) -> float:
    """Return the source-pixels-per-analysed-pixel factor for an optional ``max_side``.

    1.0 when ``max_side`` is ``None`` or the frame already fits.
    """
    if max_side is None:
        return 1.0
    if max_side < 16:
        raise ValueError(f"max_side must be >= 16 pixels, got {max_side}")
    longest = max(width, height)
    return 1.0 if longest <= max_side else longest / max_side
