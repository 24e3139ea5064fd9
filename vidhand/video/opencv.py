"""OpenCV (``cv2.VideoCapture``) frame source, an alternative to the PyAV backend.

Uses OpenCV's bundled FFmpeg with automatic orientation, converts BGR to RGB and
takes timestamps from ``CAP_PROP_POS_MSEC``. OpenCV exposes less than PyAV: the
frame rate is a float (snapped to an exact fraction), ``pix_fmt`` is OpenCV's
FOURCC of the decoded pixel format (e.g. ``I420``), there is no timecode, and a
decode error looks like an early end of stream, so breaks are detected by
comparing what was read with the container's frame count and duration.

Example:
    >>> from vidhand.video.opencv import FrameSourceCv
    >>> with FrameSourceCv("clip.mp4") as src:
    ...     print(src.frame_rate, sum(1 for _ in src))
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
from collections.abc import Iterator

import cv2
import numpy as np

from vidhand.errors import FrameRateUnavailable, VideoOpenFailure
from vidhand.types import Frame, VideoInfo
from vidhand.video import check_video_path, pts_irregular, rate_from_float, shortfall_message
from vidhand.video.base import FrameSource, scale_for_max_side

logger = logging.getLogger(__name__)

_CV_LOG_ERROR = 2  # cv2.utils.logging.LOG_LEVEL_ERROR; that submodule is not always exposed
_FFMPEG_QUIET = "-8"  # AV_LOG_QUIET


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Keep OpenCV and its bundled FFmpeg from writing to stderr while opening.

    OpenCV reads ``OPENCV_FFMPEG_LOGLEVEL`` once, at its first FFmpeg capture, and that
    level then holds for all its captures; it is only set here when the user has not
    set it. OpenCV's own log level is lowered for the open call only.
    """
    own_env = "OPENCV_FFMPEG_LOGLEVEL" not in os.environ
    if own_env:
        os.environ["OPENCV_FFMPEG_LOGLEVEL"] = _FFMPEG_QUIET
    level = cv2.getLogLevel()
    cv2.setLogLevel(min(level, _CV_LOG_ERROR))
    try:
        yield
    finally:
        cv2.setLogLevel(level)
        if own_env:
            os.environ.pop("OPENCV_FFMPEG_LOGLEVEL", None)


def _fourcc(value: float) -> str:
    """FOURCC text as FFmpeg prints it: non-printable bytes become ``[n]``."""
    code = int(value) if value and math.isfinite(value) and value > 0 else 0
    chars = (chr(b) if 32 < b < 127 else f"[{b}]" for b in code.to_bytes(4, "little"))
    return "".join(chars).removesuffix("[0]").removesuffix("[0]") if code else ""


class FrameSourceCv(FrameSource):
    """Decode a video with OpenCV, one frame at a time.

    Same contract as :class:`vidhand.video.pyav.FrameSourceAv`: upright RGB frames,
    0-based indices, ``decode_error`` set (not raised) when the stream stops early.

    Args:
        path: Video file.
        max_side: Downscale so the longer side is at most this many pixels.

    Raises:
        VideoOpenFailure: the file cannot be opened or yields no frame.
        FrameRateUnavailable: OpenCV reports no frame rate.
    """

    BACKEND_NAME = "opencv"

    def __init__(self, path: str | os.PathLike[str], max_side: int | None = None) -> None:
        self._path = check_video_path(path)
        self.decode_error = None
        name = str(self._path)
        with _quiet_opencv():
            cap = cv2.VideoCapture(name, cv2.CAP_FFMPEG)
        self._cap: cv2.VideoCapture | None = cap
        if not cap.isOpened():
            self.close()
            raise VideoOpenFailure(
                f"OpenCV cannot open '{name}' as a video (not a video, no video stream, "
                f"truncated, or an unsupported codec); check the file, or use backend "
                f"'pyav' for the precise reason")
        try:
            self._setup(name, max_side)
        except BaseException:
            self.close()
            raise

    def _setup(self, name: str, max_side: int | None) -> None:
        cap = self._cap
        assert cap is not None
        # Not accepted as an open() parameter by OpenCV 4.11's FFmpeg backend; set it here.
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        fps = cap.get(cv2.CAP_PROP_FPS)
        if not fps or not math.isfinite(fps) or fps <= 0:
            raise FrameRateUnavailable(
                f"OpenCV reports no frame rate for '{name}'; re-mux it with one "
                f"(e.g. ffmpeg -r 30 -i in -c copy out.mp4) or use backend 'pyav'")
        rate = rate_from_float(fps)
        self._period_s = 1.0 / float(rate)
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        frame_count = int(count) if count and math.isfinite(count) and count > 0 else None
        # OpenCV derives the count from duration * fps when the container has no count.
        duration_s = frame_count / float(rate) if frame_count else None

        self._index = 0
        self._first_pts_s: float | None = None
        self._last_pts_s: float | None = None
        self._done = False
        ok, first = cap.read()
        if not ok or first is None:
            raise VideoOpenFailure(
                f"OpenCV opened '{name}' but could not decode any frame; it is truncated or "
                f"corrupt, re-download or re-encode it")
        self._pending: np.ndarray | None = first
        self._pending_ms = cap.get(cv2.CAP_PROP_POS_MSEC)

        height, width = first.shape[:2]  # already upright (CAP_PROP_ORIENTATION_AUTO)
        meta = cap.get(cv2.CAP_PROP_ORIENTATION_META)
        rotation_cw = round((meta if math.isfinite(meta) else 0) / 90) % 4 * 90
        self._scale = scale_for_max_side(width, height, max_side)
        self._out_wh = (max(1, round(width / self._scale)), max(1, round(height / self._scale)))
        self._info = VideoInfo(
            path=name,
            width=width,
            height=height,
            frame_rate=rate,
            frame_count=frame_count,
            duration_s=duration_s,
            rotation_deg=rotation_cw,
            codec=_fourcc(cap.get(cv2.CAP_PROP_FOURCC)),
            pix_fmt=_fourcc(cap.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)),
            is_vfr=False,
            start_timecode=None,
            backend=self.BACKEND_NAME,
        )

    @property
    def info(self) -> VideoInfo:
        """Static facts about the video; ``is_vfr`` may turn True while reading."""
        return self._info

    def read(self) -> Frame | None:
        """Return the next frame, or ``None`` at the end of the stream or at a break."""
        if self._pending is not None:
            image, pos_ms = self._pending, self._pending_ms
            self._pending = None
        elif self._done or self._cap is None:
            return None
        else:
            ok, image = self._cap.read()
            if not ok or image is None:
                self._finish()
                return None
            pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        return self._convert(image, pos_ms)

    def _convert(self, bgr: np.ndarray, pos_ms: float) -> Frame:
        pts_s = pos_ms / 1000.0 if math.isfinite(pos_ms) else math.nan
        if self._last_pts_s is None:
            if not math.isfinite(pts_s):
                pts_s = 0.0
            self._first_pts_s = pts_s
        else:
            if not math.isfinite(pts_s) or pts_s <= self._last_pts_s:
                # NOTE: OpenCV repeats or zeroes POS_MSEC for frames without a timestamp.
                pts_s = self._last_pts_s + self._period_s
            elif not self._info.is_vfr and pts_irregular(
                    pts_s - self._last_pts_s, self._info.frame_rate, 1e-3):
                self._info = dataclasses.replace(self._info, is_vfr=True)
        self._last_pts_s = pts_s
        width, height = self._out_wh
        if bgr.shape[1] != width or bgr.shape[0] != height:
            bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        out = Frame(index=self._index, pts_s=pts_s, image=image, scale=self._scale)
        self._index += 1
        return out

    def _finish(self) -> None:
        """End of stream (or an unreported error): compare with what was promised."""
        self._done = True
        if self._first_pts_s is None or self._last_pts_s is None:
            return
        span = self._last_pts_s - self._first_pts_s + self._period_s
        msg = shortfall_message(self._info.path, self._index, span, self._info.frame_rate,
                                self._info.frame_count, self._info.duration_s)
        if msg:
            self.decode_error = msg
            logger.warning("%s", msg)

    def close(self) -> None:
        """Release the file and decoder. Safe to call twice."""
        self._done = True
        self._pending = None
        if getattr(self, "_cap", None) is not None:
            self._cap.release()
            self._cap = None
