"""Frame decoding: :func:`open_video` and the registry of decoding backends.

``AVAILABLE_BACKENDS`` maps each backend name to its :class:`FrameSource` class,
holding only the backends whose dependencies imported (PySceneDetect's
``scenedetect/backends/__init__.py`` pattern). The helpers below the factory are
shared by the backends and are not part of the public API.

Example:
    >>> from vidhand.video import open_video
    >>> with open_video("clip.mp4", max_side=640) as src:
    ...     print(src.info.width, src.info.height, src.frame_rate)
    ...     frames = [f.index for f in src]
    ...     print(src.decode_error)  # None unless the stream broke mid-way
"""

from __future__ import annotations

import math
import os
import re
from fractions import Fraction
from pathlib import Path

from vidhand.errors import VideoOpenFailure
from vidhand.video.base import FrameSource, scale_for_max_side

__all__ = ["AVAILABLE_BACKENDS", "FrameSource", "open_video", "scale_for_max_side"]


def open_video(
    path: str | os.PathLike[str], backend: str = "pyav", max_side: int | None = None,
    start_frame: int = 0, decode_threads: int = 0,
) -> FrameSource:
    """Open a video for streaming decode.

    Args:
        path: Video file (anything FFmpeg reads: mp4, mov, mkv, webm, gif, ...).
        backend: A key of :data:`AVAILABLE_BACKENDS` ("pyav" is the default).
        max_side: Downscale frames so their longer side is at most this many pixels.
        start_frame: first frame to read; frames keep their index in the whole stream
            (backends whose ``is_seekable`` is true; "pyav").
        decode_threads: decoder threads where the backend lets us choose ("pyav"; 0: its
            default, one per core); other backends ignore it.

    Returns:
        An open :class:`FrameSource`; use it as a context manager to close it.

    Raises:
        ValueError: ``backend`` is unknown, ``max_side`` is below 16, or ``start_frame``
            is given to a backend that cannot start mid-stream.
        VideoOpenFailure: the file is missing, empty, not a video, has no video
            stream, or no frame of it can be decoded.
        FrameRateUnavailable: the video stream declares no usable frame rate.
    """
    try:
        source_cls = AVAILABLE_BACKENDS[backend]
    except KeyError:
        valid = ", ".join(sorted(AVAILABLE_BACKENDS)) or "none (install av or opencv)"
        raise ValueError(f"Unknown video backend {backend!r}; valid names: {valid}") from None
    kwargs: dict[str, int] = {}
    if start_frame:
        if not getattr(source_cls, "SUPPORTS_START_FRAME", False):
            raise ValueError(f"backend {backend!r} cannot start at frame {start_frame}; "
                             f"use backend 'pyav'")
        kwargs["start_frame"] = start_frame
    if decode_threads and getattr(source_cls, "SUPPORTS_DECODE_THREADS", False):
        kwargs["decode_threads"] = decode_threads
    return source_cls(path, max_side=max_side, **kwargs)  # type: ignore[call-arg]


# --- helpers shared by the backends (internal) ---------------------------------------

#: Frame rates snapped to when a backend only reports a float (OpenCV).
_STANDARD_RATES = tuple(
    Fraction(n, d) for n, d in (
        (24000, 1001), (30000, 1001), (48000, 1001), (60000, 1001), (120000, 1001),
    )
)


def check_video_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path, or raise if it cannot possibly be a video.

    Raises:
        VideoOpenFailure: the path is missing, a directory, or an empty file.
    """
    p = Path(path)
    if not p.exists():
        raise VideoOpenFailure(f"Video file not found: '{p}'; check the path and try again")
    if p.is_dir():
        raise VideoOpenFailure(
            f"Expected a video file but '{p}' is a directory; pass the path of a video file")
    if p.stat().st_size == 0:
        raise VideoOpenFailure(
            f"Video file '{p}' is empty (0 bytes); re-export or re-download it")
    return p


def one_line(text: object) -> str:
    """Collapse whitespace (including newlines from FFmpeg) so a message is one line."""
    return re.sub(r"\s+", " ", str(text)).strip()


def rate_from_float(fps: float) -> Fraction:
    """Turn a float frame rate into an exact fraction, snapping to NTSC rates.

    ``29.97002997`` becomes ``Fraction(30000, 1001)``; ``25.0`` becomes ``Fraction(25)``.
    """
    for rate in _STANDARD_RATES:
        if math.isclose(fps, rate, rel_tol=1e-6):
            return rate
    approx = Fraction(fps).limit_denominator(1001)
    if math.isclose(fps, approx, rel_tol=1e-6):
        return approx
    return Fraction(fps).limit_denominator(1_000_000)


def pts_irregular(delta_s: float, frame_rate: Fraction, tick_s: float) -> bool:
    """Whether one presentation-time step departs from the nominal rate.

    A step may be off by one time-base tick plus 10 % of a frame period (a 15 fps GIF
    alternates 60 and 70 ms delays); anything more means variable frame rate.
    """
    period = 1.0 / float(frame_rate)
    return abs(delta_s - period) > 1.01 * tick_s + 0.1 * period


def shortfall_message(
    path: str,
    decoded: int,
    span_s: float,
    frame_rate: Fraction,
    expected_frames: int | None,
    expected_duration_s: float | None,
) -> str | None:
    """Describe a stream that ended well before its container said it would.

    ``span_s`` is last minus first presentation time plus one frame period. A stream is
    short when it misses more than 2 % (at least 2 frames) of the promised frames and,
    where a duration is known, more than 2 % (at least 2 frame periods) of the
    duration. Requiring both keeps VFR files, whose frame count is only an estimate,
    from being flagged.

    Returns:
        A one-line message, or ``None`` when the stream looks complete.
    """
    period = 1.0 / float(frame_rate)
    checks = []
    if expected_frames:
        checks.append(decoded < expected_frames - max(2.0, 0.02 * expected_frames))
    if expected_duration_s:
        checks.append(span_s < expected_duration_s - max(2 * period, 0.02 * expected_duration_s))
    if not checks or not all(checks):
        return None
    promised = []
    if expected_frames:
        promised.append(f"{expected_frames} frames")
    if expected_duration_s:
        promised.append(f"{expected_duration_s:.2f} s")
    return (f"'{path}' ended after {decoded} frames ({span_s:.2f} s) but its container "
            f"promises {' / '.join(promised)}: the file looks truncated; "
            f"re-download or re-export it")


def _load_backends() -> dict[str, type[FrameSource]]:
    backends: dict[str, type[FrameSource]] = {}
    try:
        from vidhand.video.pyav import FrameSourceAv

        backends[FrameSourceAv.BACKEND_NAME] = FrameSourceAv
    except ImportError:  # pragma: no cover - av is a core dependency
        pass
    try:
        from vidhand.video.opencv import FrameSourceCv

        backends[FrameSourceCv.BACKEND_NAME] = FrameSourceCv
    except ImportError:  # pragma: no cover - cv2 comes with mediapipe
        pass
    return backends


#: Backend name -> FrameSource class, for the backends whose dependencies imported.
AVAILABLE_BACKENDS: dict[str, type[FrameSource]] = _load_backends()
