"""PyAV (FFmpeg) frame source, vidhand's default decoder.

Streams frames with FFmpeg's threaded decoder and converts each one to RGB24 (and,
with ``max_side``, downscales it) in a single swscale step. Rotation metadata is
applied so images are upright.

Example:
    >>> from vidhand.video.pyav import FrameSourceAv
    >>> with FrameSourceAv("clip.mp4", max_side=640) as src:
    ...     first = src.read()
    ...     print(src.info.rotation_deg, first.pts_s, first.scale)
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
from collections.abc import Iterator
from fractions import Fraction

import av
import av.logging
import numpy as np

from vidhand.errors import FrameRateUnavailable, VideoOpenFailure
from vidhand.types import Frame, VideoInfo
from vidhand.video import check_video_path, one_line, pts_irregular, shortfall_message
from vidhand.video.base import FrameSource, scale_for_max_side

logger = logging.getLogger(__name__)

#: How many index entries to inspect when looking for VFR at open time.
_VFR_INDEX_SCAN = 5000


@contextlib.contextmanager
def _quiet_ffmpeg() -> Iterator[None]:
    """Cap FFmpeg's log level at ERROR while we call into it, then restore it.

    PyAV ignores FFmpeg logs by default (level ``None``); this only matters when an
    application enabled them, so corrupt streams do not flood its log.
    """
    level = av.logging.get_level()
    if level is None or level <= av.logging.ERROR:
        yield
        return
    av.logging.set_level(av.logging.ERROR)
    try:
        yield
    finally:
        av.logging.set_level(level)


def _reason(exc: BaseException) -> str:
    """FFmpeg's description of an error, without errno and file name."""
    return one_line(getattr(exc, "strerror", None) or exc)


def _nominal_rate(stream: av.video.stream.VideoStream, frames: int | None,
                  duration_s: float | None) -> Fraction | None:
    """Pick the frame rate to report for ``stream`` (``None`` when nothing declares one).

    ``guessed_rate`` (FFmpeg's r_frame_rate) is the tidy nominal rate and wins when it
    agrees with ``average_rate`` within 1 % (a 29.978 fps phone clip reports 30000/1001).
    When they disagree (GIFs, whose average_rate FFmpeg gets wrong; VFR), the one
    closest to frames/duration wins, and the average rate when that is unknown.
    """
    guessed, average = stream.guessed_rate, stream.average_rate
    candidates = [Fraction(r) for r in (guessed, average) if r is not None and r > 0]
    measured = frames / duration_s if frames and duration_s else None
    if not candidates:
        return Fraction(measured).limit_denominator(1001) if measured else None
    if len(candidates) == 2 and abs(candidates[1] - candidates[0]) <= 0.01 * candidates[0]:
        return candidates[0]
    if measured:
        return min(candidates, key=lambda r: abs(float(r) - measured))
    return candidates[-1]


def _find_timecode(container: av.container.InputContainer,
                   stream: av.video.stream.VideoStream) -> str | None:
    """The ``timecode`` tag of the video stream, another stream (tmcd) or the container."""
    for meta in (stream.metadata, *(s.metadata for s in container.streams), container.metadata):
        tc = meta.get("timecode")
        if tc:
            return str(tc)
    return None


class FrameSourceAv(FrameSource):
    """Decode a video with PyAV, one frame at a time.

    ``info.rotation_deg`` is the clockwise rotation applied to the stored picture
    to display it (the ``rotate`` tag's convention: a portrait phone clip has 90).
    Mirroring in the display matrix is ignored. ``info.is_vfr`` is set at open time
    from an MP4/MOV sample index, and otherwise turns ``True`` while reading as soon
    as an irregular timestamp step is seen.

    Args:
        path: Video file.
        max_side: Downscale so the longer side is at most this many pixels.
        start_frame: first frame to yield (0-based, decode order); indices stay those of
            the whole stream. See :meth:`_skip_to` for how it gets there exactly.
        decode_threads: FFmpeg decoder threads (0: FFmpeg's choice, one per core). Workers
            that already fill every core decode with 1: the same speed, less memory.

    Raises:
        VideoOpenFailure: the file cannot be opened or yields no frame.
        FrameRateUnavailable: the stream has no usable frame rate.
    """

    BACKEND_NAME = "pyav"
    SUPPORTS_START_FRAME = True
    SUPPORTS_DECODE_THREADS = True

    def __init__(self, path: str | os.PathLike[str], max_side: int | None = None,
                 start_frame: int = 0, decode_threads: int = 0) -> None:
        if start_frame < 0:
            raise ValueError(f"start_frame must be >= 0, got {start_frame}")
        self._path = check_video_path(path)
        self._container: av.container.InputContainer | None = None
        self.decode_error = None
        name = str(self._path)
        try:
            with _quiet_ffmpeg():
                self._container = av.open(name, metadata_errors="ignore")
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoOpenFailure(
                f"Cannot open '{name}' as a video (FFmpeg: {_reason(exc)}): it is not a "
                f"video, or it is truncated or corrupt; check the file or re-encode it"
            ) from None
        try:
            self._setup(name, max_side, decode_threads)
            if start_frame:
                self._skip_to(start_frame)
        except BaseException:
            self.close()
            raise

    def _setup(self, name: str, max_side: int | None, decode_threads: int = 0) -> None:
        container = self._container
        assert container is not None
        videos = [s for s in container.streams.video
                  if not s.disposition & av.stream.Disposition.attached_pic]
        if not videos:
            others = ", ".join(f"{s.type}" for s in container.streams) or "no streams"
            raise VideoOpenFailure(
                f"No video stream in '{name}' (found: {others}); pass a file that contains "
                f"video")
        stream = self._stream = videos[0]
        stream.thread_type = "AUTO"
        if decode_threads:
            stream.thread_count = decode_threads
        self._time_base = stream.time_base or Fraction(1, 1_000_000)

        if stream.duration and stream.time_base:
            duration_s: float | None = float(stream.duration * stream.time_base)
        elif container.duration and len(container.streams) == 1:
            duration_s = container.duration / av.time_base
        else:
            duration_s = None
        frames = stream.frames or None
        rate = _nominal_rate(stream, frames, duration_s)
        if rate is None:
            raise FrameRateUnavailable(
                f"Video stream of '{name}' declares no frame rate; re-mux it with one "
                f"(e.g. ffmpeg -r 30 -i in -c copy out.mp4)")
        self._period_s = 1.0 / float(rate)
        self._expected_frames = frames
        # Not the container duration of a multi-stream file: its audio may outlast video.
        self._expected_duration_s = duration_s

        self._frames = container.decode(stream)
        self._pending: av.VideoFrame | None = None
        self._index = 0
        self._first_pts_s: float | None = None
        self._last_pts_s: float | None = None
        self._done = False
        try:
            with _quiet_ffmpeg():
                first = next(self._frames)
        except StopIteration:
            raise VideoOpenFailure(
                f"'{name}' has a video stream but no decodable frame; it is truncated or "
                f"corrupt, re-download or re-encode it") from None
        except av.error.FFmpegError as exc:
            raise VideoOpenFailure(
                f"No frame of '{name}' could be decoded (FFmpeg: {_reason(exc)}); it is "
                f"truncated or corrupt, re-download or re-encode it") from None
        self._pending = first
        self._first_pts_s = float(first.pts * self._time_base) if first.pts is not None else 0.0
        #: How the last ``start_frame`` was reached: "start", "seek" or "skip".
        self.start_mode = "start"

        rotation_cw = round(-(first.rotation or 0) / 90) % 4 * 90
        if (first.rotation or 0) % 90:
            logger.warning("%s: rotation %.1f deg is not a multiple of 90; using %d",
                           name, first.rotation, rotation_cw)
        self._rot90_k = (-rotation_cw // 90) % 4  # np.rot90 turns counter-clockwise
        coded_w, coded_h = first.width, first.height
        width, height = (coded_h, coded_w) if rotation_cw in (90, 270) else (coded_w, coded_h)
        self._scale = scale_for_max_side(width, height, max_side)
        self._out_wh = (max(1, round(coded_w / self._scale)), max(1, round(coded_h / self._scale)))

        is_vfr = self._index_is_irregular(rate)
        self._info = VideoInfo(
            path=name,
            width=width,
            height=height,
            frame_rate=rate,
            frame_count=frames or (round(duration_s * rate) if duration_s else None),
            duration_s=duration_s,
            rotation_deg=rotation_cw,
            codec=stream.codec_context.name,
            pix_fmt=first.format.name,
            is_vfr=is_vfr,
            start_timecode=_find_timecode(container, stream),
            backend=self.BACKEND_NAME,
        )

    def _index_is_irregular(self, rate: Fraction) -> bool:
        """Look for VFR in the sample index (complete only for MP4/MOV-like containers)."""
        stream = self._stream
        try:
            entries = stream.index_entries
        except (AttributeError, av.error.FFmpegError):  # pragma: no cover - older PyAV
            return False
        if entries is None or not stream.frames or len(entries) != stream.frames:
            return False
        stamps = sorted(entries[i].timestamp for i in range(min(len(entries), _VFR_INDEX_SCAN)))
        tick = float(self._time_base)
        return any(pts_irregular((b - a) * tick, rate, tick) for a, b in itertools.pairwise(stamps))

    @property
    def info(self) -> VideoInfo:
        """Static facts about the video; ``is_vfr`` may turn True while reading."""
        return self._info

    @property
    def is_seekable(self) -> bool:
        """PyAV sources start at any frame (``start_frame``)."""
        return True

    def _skip_to(self, target: int) -> None:
        """Position the source so the next :meth:`read` returns frame ``target``.

        A frame index is a count in decode order, which a seek cannot know. So the
        keyframe seek is only used when the index can be derived from timestamps: an
        MP4/MOV-like sample index lists every frame and shows a constant rate
        (``_index_is_irregular`` ran and found nothing), and every decoded frame has a
        pts. The decoded pts must then land on the frame grid, and the first frame after
        the seek must not lie past ``target``; otherwise (and for every other
        container) the frames are decoded and counted from the start without
        converting them (``start_mode`` says which way was taken).
        """
        if self._seek_by_pts(target):
            self.start_mode = "seek"
        else:
            self._skip_by_count(target)
            self.start_mode = "skip"
        self._last_pts_s = None  # no VFR step is measured across the jump

    def _pts_grid_ok(self) -> bool:
        stream = self._stream
        try:
            entries = stream.index_entries
        except (AttributeError, av.error.FFmpegError):  # pragma: no cover - older PyAV
            return False
        return bool(not self._info.is_vfr and entries is not None and stream.frames
                    and len(entries) == stream.frames and self._pending is not None
                    and self._pending.pts is not None)

    def _seek_by_pts(self, target: int) -> bool:
        if not self._pts_grid_ok():
            return False
        container, stream, tb = self._container, self._stream, float(self._time_base)
        assert container is not None
        first_ts = self._pending.pts if self._pending is not None else 0
        want_ts = first_ts + round(target * self._period_s / tb)
        try:
            with _quiet_ffmpeg():
                container.seek(int(want_ts), stream=stream, backward=True, any_frame=False)
            frames = container.decode(stream)
            pending = None
            while pending is None:
                frame = next(frames)
                if frame.pts is None:
                    break
                pos = (frame.pts - first_ts) * tb / self._period_s
                index = round(pos)
                if abs(pos - index) > 0.25 or index > target:
                    break  # off the frame grid, or the seek overshot: count instead
                if index == target:
                    pending = frame
        except (StopIteration, av.error.FFmpegError):
            pending = None
        if pending is None:
            self._rewind()
            return False
        self._frames, self._pending, self._index = frames, pending, target
        return True

    def _rewind(self) -> None:
        container = self._container
        assert container is not None
        with _quiet_ffmpeg():
            container.seek(0, stream=self._stream, backward=True, any_frame=False)
        self._frames = container.decode(self._stream)
        self._pending = None
        self._index = 0

    def _skip_by_count(self, target: int) -> None:
        if self._pending is None:  # after a failed seek: back at frame 0, nothing pending
            skipped = 0
        else:
            self._pending, skipped = None, 1
        try:
            with _quiet_ffmpeg():
                while skipped < target:
                    next(self._frames)
                    skipped += 1
                self._pending = next(self._frames)
        except StopIteration:
            self._done = True
        except av.error.FFmpegError as exc:
            self._stop(f"'{self._info.path}' is corrupt after frame {skipped - 1}: FFmpeg: "
                       f"{_reason(exc)}; the frames before it were decoded, re-encode or "
                       f"re-download the file for the rest")
        self._index = target

    def read(self) -> Frame | None:
        """Return the next frame, or ``None`` at the end of the stream or at a break."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
        elif self._done:
            return None
        else:
            try:
                with _quiet_ffmpeg():
                    frame = next(self._frames)
            except StopIteration:
                self._finish()
                return None
            except av.error.FFmpegError as exc:
                at = f"{self._last_pts_s:.3f} s" if self._last_pts_s is not None else "start"
                self._stop(f"'{self._info.path}' is corrupt after frame {self._index - 1} "
                           f"({at}): FFmpeg: {_reason(exc)}; the frames before it were "
                           f"decoded, re-encode or re-download the file for the rest")
                return None
        return self._convert(frame)

    def _convert(self, frame: av.VideoFrame) -> Frame:
        if frame.pts is not None:
            pts_s = float(frame.pts * self._time_base)
        elif self._last_pts_s is not None:
            pts_s = self._last_pts_s + self._period_s
        else:
            pts_s = 0.0
        if self._last_pts_s is None:
            pass  # first frame read (or first after start_frame): no step to measure
        elif not self._info.is_vfr and pts_irregular(
                pts_s - self._last_pts_s, self._info.frame_rate, float(self._time_base)):
            self._info = dataclasses.replace(self._info, is_vfr=True)
            logger.debug("%s: irregular frame step at frame %d; marking as VFR",
                         self._info.path, self._index)
        self._last_pts_s = pts_s
        width, height = self._out_wh
        # One swscale pass converts to RGB and scales (also evens out mid-stream size changes).
        # swscale honours the frame's colour tags (BT.709 for most HD clips).
        image = frame.to_ndarray(format="rgb24", width=width, height=height,
                                 interpolation="AREA")
        if self._rot90_k:
            image = np.rot90(image, self._rot90_k)
        # NOTE: PyAV returns a strided view when a row is padded (e.g. 470 px wide).
        image = np.ascontiguousarray(image)
        out = Frame(index=self._index, pts_s=pts_s, image=image, scale=self._scale)
        self._index += 1
        return out

    def _finish(self) -> None:
        """End of stream: note it when the container promised clearly more."""
        self._done = True
        if self._first_pts_s is None or self._last_pts_s is None:
            return
        span = self._last_pts_s - self._first_pts_s + self._period_s
        msg = shortfall_message(self._info.path, self._index, span, self._info.frame_rate,
                                self._expected_frames, self._expected_duration_s)
        if msg:
            self._stop(msg)

    def _stop(self, message: str) -> None:
        self._done = True
        self.decode_error = one_line(message)
        logger.warning("%s", self.decode_error)

    def close(self) -> None:
        """Release the file and decoder. Safe to call twice."""
        self._done = True
        self._pending = None
        if self._container is not None:
            self._container.close()
            self._container = None
