"""Segment-parallel detection: one long video on every core, same report as one process.

Only the expensive per-frame stages run in worker threads: decode, MediaPipe and
the evidence stage. Each worker takes one segment ``[start, end)`` of the video,
decodes from ``warmup_start`` (``warmup_frames`` before ``start``), feeds the warm-up
frames through its own landmarker and evidence extractor and throws their output
away, then returns the segment's :class:`~vidhand.types.HandFrame` list. The parent
merges the segments in order and runs identity and the checks once over them, so
tracks and events are those of a single-process run by construction; what can
differ at a seam is only MediaPipe's own tracking state, which the warm-up lets
converge, and the evidence stage's ghost memory, which the warm-up (longer than its
window) fills exactly as a single run would.

Workers are threads of the calling process, one landmarker each: MediaPipe and
OpenCV release the GIL while they compute, so the threads keep every core busy
while the process holds a single copy of MediaPipe (memory stays flat, no start-up
of worker interpreters). Ctrl-C in the caller sets a cancel flag that every worker
checks at each frame.

Example:
    >>> from vidhand.parallel import plan_segments
    >>> [(s.start, s.end) for s in plan_segments(600, jobs=2, warmup_frames=48)]
    [(0, 324), (324, None)]
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from vidhand.types import HandFrame, VideoInfo

if TYPE_CHECKING:
    from vidhand.pipeline import AnalysisOptions
    from vidhand.tracking.base import HandTracker

logger = logging.getLogger(__name__)

#: Longest segment, in seconds of video: bounds what a worker holds before returning it.
MAX_SEGMENT_S = 60.0
#: Warm-up before each segment, in seconds (at least the evidence ghost window + 3 frames).
WARMUP_S = 1.5


def available_cpus() -> int:
    """The number of CPUs this process may run on (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """``None`` or 0 -> every available CPU; otherwise ``jobs`` (must be >= 1)."""
    if jobs is None or jobs == 0:
        return available_cpus()
    if jobs < 0:
        raise ValueError(f"jobs must be >= 0 (0 = one per CPU), got {jobs}")
    return jobs


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, end)`` of a video (``end=None``: to the end of the stream).

    ``warmup_start`` is where the worker starts decoding; frames before ``start`` only
    warm the landmarker and the evidence stage.
    """

    number: int
    start: int
    end: int | None
    warmup_start: int


def warmup_frames_for(frame_rate: Fraction, ghost_window: int) -> int:
    """Warm-up length in frames: ``WARMUP_S`` of video, and more than the ghost window."""
    return max(ghost_window + 3, math.ceil(WARMUP_S * float(frame_rate)))


def plan_segments(
    frame_count: int | None,
    jobs: int,
    warmup_frames: int,
    max_segment_frames: int | None = None,
) -> list[Segment]:
    """Cut ``frame_count`` frames into segments for ``jobs`` workers.

    One segment per job (more when a segment would exceed ``max_segment_frames``), all
    with the same number of frames to decode, warm-up included, and each at least 1.5
    warm-ups long; a single segment means "do not split". The last
    segment runs to the end of the stream, so a wrong ``frame_count`` estimate costs
    balance, never frames.
    """
    if jobs <= 1 or not frame_count or frame_count < 4 * warmup_frames:
        return [Segment(0, 0, None, 0)]
    n = jobs
    if max_segment_frames:
        n = max(n, math.ceil(frame_count / max_segment_frames))
    n = max(1, min(n, frame_count // (2 * warmup_frames)))
    # Equal work per segment: every segment after the first also decodes and tracks its
    # warm-up, so the first gets that many frames more than the others (on 2 cores an
    # even split left one core idle for the last warm-up's length).
    work = (frame_count + (n - 1) * warmup_frames) / n
    bounds = [0] + [round(work + (i - 1) * (work - warmup_frames)) for i in range(1, n)]
    segs = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < n else None
        segs.append(Segment(i, start, end, max(0, start - warmup_frames)))
    return segs


def plan_for(info: VideoInfo, options: AnalysisOptions, jobs: int, ghost_window: int,
             ) -> list[Segment] | None:
    """Segments for ``info`` with ``jobs`` workers, or ``None`` to run in one process.

    Splitting needs a backend that starts mid-stream (pyav) and a frame count.
    """
    from vidhand.video import AVAILABLE_BACKENDS

    source_cls = AVAILABLE_BACKENDS.get(options.backend)
    if jobs <= 1 or not getattr(source_cls, "SUPPORTS_START_FRAME", False):
        return None
    warm = warmup_frames_for(info.frame_rate, ghost_window)
    max_seg = math.ceil(MAX_SEGMENT_S * float(info.frame_rate))
    segs = plan_segments(info.frame_count, jobs, warm, max_seg)
    return segs if len(segs) > 1 else None


@dataclass
class SegmentResult:
    """What a worker sends back for one segment (small: landmarks and feature dicts)."""

    number: int
    hand_frames: list[HandFrame]
    decode_error: str | None
    is_vfr: bool
    detector_settings: dict[str, Any]
    start_mode: str


# --- worker side -----------------------------------------------------------------------

class Cancelled(Exception):
    """A segment stopped early because the run was cancelled (Ctrl-C, an error elsewhere)."""


def detect_segment(path: str, options: AnalysisOptions, segment: Segment,
                   on_frames: Callable[[int], None] | None = None,
                   cancel: threading.Event | None = None,
                   tracker: HandTracker | None = None,
                   decode_threads: int = 0) -> SegmentResult:
    """Decode, track and measure one segment (runs in a worker thread; also callable directly).

    Args:
        path: the video.
        options: the analysis options.
        segment: what to decode, warm up on and return.
        on_frames: called with a count of newly finished frames (progress).
        cancel: when set, the segment stops at the next frame with :class:`Cancelled`.
        tracker: a landmarker to reuse (it must only have seen earlier frames of this
            video; the warm-up replaces its state); default: a new one, closed after.
        decode_threads: FFmpeg decoder threads (0: one per core); parallel workers use 1.
    """
    from vidhand.evidence.frame import EvidenceExtractor
    from vidhand.tracking.mediapipe import MediaPipeTracker
    from vidhand.video import open_video

    out: list[HandFrame] = []
    pending = 0
    owned = tracker is None
    if tracker is None:
        tracker = MediaPipeTracker(max_hands=options.max_hands, model_path=options.hand_model)
    with open_video(path, backend=options.backend, max_side=options.max_side,
                    start_frame=segment.warmup_start, decode_threads=decode_threads) as source, \
            (tracker if owned else contextlib.nullcontext(tracker)):
        evidence = EvidenceExtractor(pixels=options.pixel_evidence)
        settings = {**tracker.settings, "evidence": evidence.settings}
        for frame in source:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"segment {segment.number} cancelled")
            if segment.end is not None and frame.index >= segment.end:
                break
            hf = evidence.process(frame, tracker.process(frame))
            if frame.index >= segment.start:
                out.append(hf)
                pending += 1
                if pending >= 16 and on_frames is not None:
                    on_frames(pending)
                    pending = 0
        if on_frames is not None and pending:
            on_frames(pending)
        info = source.info
        return SegmentResult(number=segment.number, hand_frames=out,
                             decode_error=source.decode_error, is_vfr=info.is_vfr,
                             detector_settings=settings,
                             start_mode=getattr(source, "start_mode", "start"))


# --- parent side -----------------------------------------------------------------------

_CV_LOCK = threading.Lock()
_cv_depth = 0
_cv_saved = 0


@contextlib.contextmanager
def single_threaded_opencv() -> Iterator[None]:
    """Run OpenCV single-threaded while segment workers already use every core.

    OpenCV's own thread pool (process-wide) splits each small per-hand operation across
    cores that the workers are using anyway; on 2 cores that contention cost ~10 % of
    end-to-end speed here. Nested and concurrent runs restore the setting once, when
    the last one ends.
    """
    global _cv_depth, _cv_saved
    import cv2

    with _CV_LOCK:
        if _cv_depth == 0:
            _cv_saved = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _cv_depth += 1
    try:
        yield
    finally:
        with _CV_LOCK:
            _cv_depth -= 1
            if _cv_depth == 0:
                cv2.setNumThreads(_cv_saved)


class SegmentRun:
    """Runs ``segments`` on ``jobs`` worker threads and yields their hand frames in order.

    MediaPipe releases the GIL while its graph runs (measured here: two landmarkers in
    two threads of one process run about twice as fast as one), so threads use every
    core for the detector without a second copy of MediaPipe, its models and Python in
    memory. The pixel evidence is mostly Python and shares the GIL.
    At most ``jobs + 1`` segments are in flight, so memory stays bounded on long videos.

    After :meth:`hand_frames` is exhausted, ``decode_error``, ``is_vfr`` and
    ``detector_settings`` hold what a single-process run would have found.

    Args:
        path: the video.
        options: the analysis options.
        segments: from :func:`plan_for`.
        jobs: worker threads (one landmarker each).
        progress: called as ``progress(frames_done, total)`` while workers run.
        total: the frame count estimate passed to ``progress``.
    """

    def __init__(self, path: str | os.PathLike[str], options: AnalysisOptions,
                 segments: list[Segment], jobs: int,
                 progress: Callable[[int, int | None], None] | None = None,
                 total: int | None = None) -> None:
        self.path = str(path)
        self.options = options
        self.segments = segments
        self.jobs = max(1, min(jobs, len(segments)))
        self.progress = progress
        self.total = total
        self.decode_error: str | None = None
        self.is_vfr = False
        self.detector_settings: dict[str, Any] = {}
        self.start_modes: list[str] = []
        self.frames = 0
        self._done = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._trackers: list[HandTracker] = []

    def _count(self, n: int) -> None:
        with self._lock:
            self._done += n

    def _detect(self, segment: Segment, cancel: threading.Event) -> SegmentResult:
        """One segment on this worker thread's own landmarker (made on first use).

        Reusing it across the thread's segments, rather than building a MediaPipe graph
        per segment, keeps memory flat on long videos; the warm-up before each segment
        replaces whatever state the previous (earlier) segment left.
        """
        tracker = getattr(self._local, "tracker", None)
        if tracker is None:
            from vidhand.tracking.mediapipe import MediaPipeTracker

            tracker = MediaPipeTracker(max_hands=self.options.max_hands,
                                       model_path=self.options.hand_model)
            self._local.tracker = tracker
            with self._lock:
                self._trackers.append(tracker)
        # The workers already fill every core: one decoder thread each decodes as fast
        # and holds fewer frames (1080p: ~40 MB less peak memory here).
        return detect_segment(self.path, self.options, segment, self._count, cancel, tracker,
                              decode_threads=1)

    def hand_frames(self) -> Iterator[HandFrame]:
        """Yield every frame's hands, in frame order, as the workers finish segments."""
        with single_threaded_opencv():
            yield from self._run()

    def _run(self) -> Iterator[HandFrame]:
        cancel = threading.Event()
        pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="vidhand-segment")
        todo = list(self.segments)
        running: deque[Future[SegmentResult]] = deque()

        def submit() -> None:
            while todo and len(running) < self.jobs + 1:
                seg = todo.pop(0)
                running.append(pool.submit(self._detect, seg, cancel))

        try:
            submit()
            expected = 0
            while running:
                res = self._next(running.popleft())
                submit()
                self.start_modes.append(res.start_mode)
                if not self.detector_settings:
                    self.detector_settings = res.detector_settings
                self.is_vfr |= res.is_vfr
                if res.hand_frames and res.hand_frames[0].frame_index != expected:
                    raise RuntimeError(
                        f"segment {res.number} of '{self.path}' starts at frame "
                        f"{res.hand_frames[0].frame_index}, expected {expected}")
                n = len(res.hand_frames)
                yield from res.hand_frames
                res.hand_frames.clear()  # memory stays at a few segments
                expected += n
                self.frames = expected
                if res.decode_error:
                    # A single process stops at the break; later segments would skip it.
                    self.decode_error = res.decode_error
                    logger.warning("%s", res.decode_error)
                    break
                seg = self.segments[res.number]
                if seg.end is not None and expected < seg.end:
                    break  # the stream ended before the frame count promised
            if self.progress is not None:
                self.progress(self.frames, self.total)
        finally:
            cancel.set()  # Ctrl-C, an error or an early stop: workers end at their next frame
            for fut in running:
                fut.cancel()
            pool.shutdown(wait=True)
            for tracker in self._trackers:
                tracker.close()
            self._trackers.clear()

    def _next(self, fut: Future[SegmentResult]) -> SegmentResult:
        while True:
            try:
                return fut.result(timeout=0.25)
            except FuturesTimeout:
                if self.progress is not None:
                    self.progress(self._done, self.total)


def merged_info(info: VideoInfo, run: SegmentRun) -> VideoInfo:
    """``info`` with the VFR flag the workers found while reading."""
    return dataclasses.replace(info, is_vfr=info.is_vfr or run.is_vfr)
