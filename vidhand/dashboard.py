"""UI-agnostic helpers of the Streamlit dashboard (``app.py``): inputs, result cache, jobs, plots.

Nothing here imports streamlit, so every rule the page enforces (upload limits, which
server clips may be opened, cache keys) is testable without a browser.

Example:
    >>> from vidhand.dashboard import ResultCache, JobRunner
    >>> runner = JobRunner(ResultCache())
    >>> job = runner.submit("clip.mp4", label="clip.mp4")   # detection runs in a thread
    >>> job.wait().report.summary.verdict
    'pass'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vidhand._version import __version__
from vidhand.errors import VidhandError
from vidhand.pipeline import AnalysisOptions, analyze, file_sha256
from vidhand.report import Report, get_profile, read_report, write_bytes_atomic, write_report
from vidhand.types import Event, HandFrame

logger = logging.getLogger(__name__)

#: File types the page accepts (lower case, with the dot).
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".gif", ".avi")
#: Our own per-file upload limit in MB unless ``VIDHAND_MAX_UPLOAD_MB`` says otherwise.
DEFAULT_MAX_UPLOAD_MB = 200
#: Fields of :class:`AnalysisOptions` that need MediaPipe to run again when they change.
DETECTION_FIELDS: tuple[str, ...] = ("backend", "max_hands", "max_side", "hand_model",
                                     "pixel_evidence")
#: Fields that only re-run identity and checks over cached landmarks (fast).
CHECK_FIELDS: tuple[str, ...] = ("profile", "max_gap_s", "min_track_frames", "check_options")

Image = npt.NDArray[np.uint8]


class InputRejected(ValueError):
    """An upload or clip choice the page refuses; the message is shown to the user as is."""


# --- inputs ----------------------------------------------------------------------------


def max_upload_mb(server_limit_mb: int | None = None) -> int:
    """The per-file upload limit in MB: ``VIDHAND_MAX_UPLOAD_MB`` (default 200), capped by
    Streamlit's ``server.maxUploadSize`` when given."""
    raw = os.environ.get("VIDHAND_MAX_UPLOAD_MB", "")
    try:
        ours = int(raw) if raw.strip() else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        logger.warning("ignoring VIDHAND_MAX_UPLOAD_MB=%r: not a whole number of MB", raw)
        ours = DEFAULT_MAX_UPLOAD_MB
    ours = max(ours, 1)
    return min(ours, server_limit_mb) if server_limit_mb else ours


def check_upload(name: str, size_bytes: int, limit_mb: int) -> None:
    """Refuse an upload by name and size before it is stored.

    Raises:
        InputRejected: wrong file type, empty, or larger than ``limit_mb``.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InputRejected(f"'{name}' is not a supported video: expected one of "
                            f"{', '.join(s[1:] for s in VIDEO_SUFFIXES)}, got "
                            f"'{suffix[1:] or 'no extension'}'")
    if size_bytes <= 0:
        raise InputRejected(f"'{name}' is empty (0 bytes); upload the video file again")
    if size_bytes > limit_mb * 1024 * 1024:
        raise InputRejected(f"'{name}' is {size_bytes / 1024 / 1024:.0f} MB, over the "
                            f"{limit_mb} MB limit; trim or re-encode it (e.g. 1080p H.264) "
                            f"and try again")


def probe_video(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Open ``path`` and decode its first frame; turn any failure into :class:`InputRejected`."""
    from vidhand.video import open_video

    label = name or Path(path).name
    try:
        with open_video(path) as src:
            if src.read() is None:
                raise InputRejected(f"'{label}' contains no decodable video frame")
    except VidhandError as exc:
        raise InputRejected(f"'{label}' could not be read as a video: {exc}") from None


def clips_dir(setting: str | os.PathLike[str] | None = None) -> Path | None:
    """The server clip folder: ``setting`` or ``VIDHAND_CLIPS_DIR``; ``None`` if unset/missing."""
    raw = str(setting) if setting else os.environ.get("VIDHAND_CLIPS_DIR", "")
    if not raw.strip():
        return None
    p = Path(os.path.abspath(os.path.expanduser(raw)))
    return p if p.is_dir() else None


def list_clips(folder: str | os.PathLike[str], max_depth: int = 2) -> list[str]:
    """Relative names (``/``-separated) of the videos inside ``folder``, sorted.

    Sub-folders are walked to ``max_depth`` without following directory symlinks; hidden
    entries are skipped. File symlinks placed in the folder by the server's admin are
    listed (they are part of the configured collection).
    """
    root = Path(os.path.abspath(folder))
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and depth < max_depth)
        for fn in filenames:
            if fn.startswith(".") or Path(fn).suffix.lower() not in VIDEO_SUFFIXES:
                continue
            p = Path(dirpath) / fn
            if p.is_file():
                out.append(p.relative_to(root).as_posix())
    return sorted(out)


def resolve_clip(folder: str | os.PathLike[str], name: str) -> Path:
    """The path of clip ``name`` inside ``folder``; never a path outside it.

    ``name`` must be one of :func:`list_clips`: relative, without ``..`` or hidden parts,
    and its directory must resolve (symlinks followed) inside the resolved folder.

    Raises:
        InputRejected: anything else.
    """
    root = Path(os.path.abspath(folder))
    rel = Path(name)
    if not name or rel.is_absolute() or any(part in ("..", "") or part.startswith(".")
                                            for part in rel.parts):
        raise InputRejected(f"'{name}' is not a clip name inside the server folder")
    candidate = Path(os.path.abspath(root / rel))
    try:
        parent_ok = candidate.parent.resolve().is_relative_to(root.resolve())
    except OSError:
        parent_ok = False
    if (not candidate.is_relative_to(root) or not parent_ok
            or name not in list_clips(root, max_depth=len(rel.parts))):
        raise InputRejected(f"'{name}' is not one of the clips in the server folder")
    return candidate


# --- cache -----------------------------------------------------------------------------


def cache_dir() -> Path:
    """``VIDHAND_CACHE_DIR`` or ``~/.cache/vidhand`` (``$XDG_CACHE_HOME/vidhand``)."""
    raw = os.environ.get("VIDHAND_CACHE_DIR", "")
    if raw.strip():
        return Path(os.path.expanduser(raw))
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if xdg.strip() else Path.home() / ".cache") / "vidhand"


def _digest(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def detection_key(opts: AnalysisOptions) -> str:
    """Key of everything that changes the landmarks (MediaPipe has to run again)."""
    return _digest({"v": __version__, **{f: getattr(opts, f) for f in DETECTION_FIELDS}})


def checks_key(opts: AnalysisOptions) -> str:
    """Key of everything that only changes identity, checks and verdict."""
    return _digest({"v": __version__, **{f: getattr(opts, f) for f in CHECK_FIELDS}})


class ResultCache:
    """Reports and landmark files on disk, keyed by file hash and settings.

    Layout: ``<root>/<sha256[:24]>/<detection_key>/landmarks.npz`` (one MediaPipe run) and
    ``report-<checks_key>.json`` beside it (one per check setting); uploads are kept as
    ``<root>/uploads/<sha256[:24]><suffix>`` so the player and exports can find them again.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def run_dir(self, sha256: str, opts: AnalysisOptions) -> Path:
        """The folder of one clip's detection run."""
        return self.root / sha256[:24] / detection_key(opts)

    def landmarks_path(self, sha256: str, opts: AnalysisOptions) -> Path:
        """Where the clip's landmarks under ``opts`` are (or will be) cached."""
        return self.run_dir(sha256, opts) / "landmarks.npz"

    def report_path(self, sha256: str, opts: AnalysisOptions) -> Path:
        """Where the clip's report under ``opts`` is (or will be) cached."""
        return self.run_dir(sha256, opts) / f"report-{checks_key(opts)}.json"

    def lookup(self, sha256: str, opts: AnalysisOptions) -> Report | None:
        """The cached report, or ``None`` (also when its landmark file went missing)."""
        path = self.report_path(sha256, opts)
        if not path.is_file():
            return None
        try:
            report = read_report(path)
        except VidhandError:
            logger.warning("ignoring unreadable cached report %s", path)
            return None
        if report.landmarks_file and not Path(report.landmarks_file).is_file():
            return None
        return report

    def has_landmarks(self, sha256: str, opts: AnalysisOptions) -> bool:
        """True when only the (fast) checks need to run for ``opts``."""
        return self.landmarks_path(sha256, opts).is_file()

    def store_upload(self, name: str, data: bytes) -> tuple[Path, str]:
        """Keep uploaded bytes under their hash; return (path, sha256)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / "uploads" / f"{sha[:24]}{Path(name).suffix.lower()}"
        if not path.is_file() or path.stat().st_size != len(data):
            write_bytes_atomic(path, data)
        return path, sha

    def analyze(
        self,
        path: str | os.PathLike[str],
        sha256: str,
        opts: AnalysisOptions,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> tuple[Report, str]:
        """Return ``(report, how)``; ``how`` is ``"cache"``, ``"checks"`` or ``"detect"``.

        ``"checks"`` re-runs identity and checks over the cached landmarks (no MediaPipe);
        ``"detect"`` runs the whole pipeline and caches its landmarks.
        """
        report = self.lookup(sha256, opts)
        if report is not None:
            return report, "cache"
        lm = self.landmarks_path(sha256, opts)
        if lm.is_file():
            report = analyze(from_landmarks=lm, options=opts)
            how = "checks"
        else:
            lm.parent.mkdir(parents=True, exist_ok=True)
            report = analyze(path, options=opts, landmarks_out=lm, progress=progress)
            how = "detect"
        # The landmark file records the path the clip had at detection time; point the
        # report at the file this request used, which is known to exist.
        video = dataclasses.replace(report.video, path=str(path))
        report = dataclasses.replace(report, video=video, landmarks_file=str(lm))
        write_report(report, self.report_path(sha256, opts))
        return report, how


# --- jobs ------------------------------------------------------------------------------


@dataclass
class Job:
    """One clip under one setting: progress while it runs, then a report or an error."""

    key: str
    label: str
    path: Path
    sha256: str
    options: AnalysisOptions
    state: str = "queued"  # queued | running | done | error
    done: int = 0
    total: int | None = None
    fps: float = 0.0
    eta_s: float | None = None
    report: Report | None = None
    how: str = ""
    error: str = ""
    elapsed_s: float = 0.0
    output: Path | None = None
    task: Callable[[Callable[[int, int | None], None]], Path] | None = field(
        default=None, repr=False)
    _event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        """True once a report or an error is available."""
        return self.state in ("done", "error")

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] (0 while the frame count is unknown)."""
        if self.state == "done":
            return 1.0
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def wait(self, timeout_s: float | None = None) -> Job:
        """Block until finished (or ``timeout_s``); return self."""
        self._event.wait(timeout_s)
        return self


class JobRunner:
    """Runs analyses off the page's script thread, one detection at a time.

    Cache hits and check-only re-runs finish inside :meth:`submit` (they take well under
    a second); MediaPipe runs go to a worker thread so the page keeps drawing progress
    and stays responsive. Jobs are shared by every browser session of the server.
    """

    def __init__(self, cache: ResultCache) -> None:
        self.cache = cache
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._worker: threading.Thread | None = None

    def job_key(self, sha256: str, opts: AnalysisOptions) -> str:
        """The key of a clip under a setting."""
        return f"{sha256[:24]}-{detection_key(opts)}-{checks_key(opts)}"

    def get(self, key: str) -> Job | None:
        """The job with ``key``, if submitted."""
        return self._jobs.get(key)

    def submit(self, path: str | os.PathLike[str], *, label: str | None = None,
               sha256: str | None = None, options: AnalysisOptions | None = None) -> Job:
        """Start (or return the existing) job analysing ``path`` under ``options``."""
        opts = options or AnalysisOptions()
        p = Path(path)
        sha = sha256 or file_sha256(p)
        key = self.job_key(sha, opts)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "error":
                return job
            job = Job(key=key, label=label or p.name, path=p, sha256=sha, options=opts)
            self._jobs[key] = job
        if self.cache.lookup(sha, opts) is not None or self.cache.has_landmarks(sha, opts):
            self._run(job)
            return job
        with self._lock:
            self._enqueue(job)
        return job

    def _enqueue(self, job: Job) -> None:
        """Queue ``job`` and make sure the worker thread runs (call with the lock held)."""
        self._queue.append(job)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._drain, name="vidhand-analysis",
                                            daemon=True)
            self._worker.start()

    def submit_task(self, key: str, label: str,
                    task: Callable[[Callable[[int, int | None], None]], Path]) -> Job:
        """Run ``task(progress) -> output path`` in the worker (e.g. the preview render)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "error":
                return job
            job = Job(key=key, label=label, path=Path(), sha256="", options=AnalysisOptions(),
                      task=task)
            self._jobs[key] = job
            self._enqueue(job)
        return job

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                job = self._queue.pop(0)
            self._run(job)

    def _run(self, job: Job) -> None:
        from vidhand.progress import RateMeter

        job.state = "running"
        meter = RateMeter()
        t0 = time.perf_counter()

        def progress(done: int, total: int | None) -> None:
            job.done, job.total = done, total
            job.fps, job.eta_s = meter.measure(done, total)

        try:
            if job.task is not None:
                job.output = job.task(progress)
            else:
                job.report, job.how = self.cache.analyze(job.path, job.sha256, job.options,
                                                         progress)
            job.state = "done"
        except VidhandError as exc:
            job.error, job.state = str(exc), "error"
        except Exception as exc:  # a page must show a message, not die with the worker
            logger.exception("analysis of %s failed", job.path)
            job.error, job.state = f"analysis failed: {type(exc).__name__}: {exc}", "error"
        finally:
            job.elapsed_s = time.perf_counter() - t0
            job._event.set()


# --- presentation data -----------------------------------------------------------------


def severity_level(severity: float, profile: str) -> str:
    """``"fail"``, ``"warn"`` or ``"info"`` for an event severity under ``profile``."""
    prof = get_profile(profile)
    if severity >= prof.fail_at:
        return "fail"
    return "warn" if severity >= prof.warn_at else "info"


def format_eta(seconds: float | None) -> str:
    """``"1:05"``-style remaining time, ``"-"`` when unknown."""
    if seconds is None:
        return "-"
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def event_label(ev: Event) -> str:
    """One line naming an event: type, hand, frames, time."""
    hand = f"hand {ev.track_id}" if ev.track_id is not None else "no hand"
    return (f"#{ev.event_id} {ev.type.replace('_', ' ')} · {hand} · frames "
            f"{ev.start_frame}-{ev.end_frame} · {ev.start_s:.2f} s")


def event_rows(report: Report) -> list[dict[str, Any]]:
    """The event table: one plain dict per event."""
    profile = str(report.settings.get("profile", "balanced"))
    return [{"#": ev.event_id, "type": ev.type.replace("_", " "),
             "hand": ev.track_id if ev.track_id is not None else "-",
             "frames": f"{ev.start_frame}-{ev.end_frame}",
             "start (s)": round(ev.start_s, 2), "severity": round(ev.severity, 2),
             "level": severity_level(ev.severity, profile), "message": ev.message}
            for ev in report.events]


def _segments(frames: list[int], max_gap: int = 1) -> list[int]:
    seg, out = 0, []
    for i, f in enumerate(frames):
        if i and f - frames[i - 1] > max_gap:
            seg += 1
        out.append(seg)
    return out


def timeline_rows(report: Report, series: dict[int, Any]) -> list[dict[str, Any]]:
    """Long-format rows of the drift timeline (``vidhand.timeline.hand_series`` output).

    Each row: ``hand`` (label), ``track``, ``frame``, ``t`` (s), ``metric``, ``value``,
    ``segment`` (lines break where the hand was not detected), ``axis`` (``digits`` or
    ``ratio``). Unjudgeable pixel digit counts (-1) are left out.
    """
    handed = {t.track_id: t.handedness for t in report.tracks}
    rows: list[dict[str, Any]] = []
    for tid, s in series.items():
        hand = f"hand {tid} ({handed.get(tid, s.handedness[0] if s.handedness else '?')})"
        segs = _segments(s.frames)
        for i, f in enumerate(s.frames):
            base = {"hand": hand, "track": tid, "frame": f, "t": round(s.times_s[i], 4),
                    "segment": segs[i]}
            if s.digits_px[i] >= 0:
                rows.append({**base, "metric": "digits in pixels", "value": s.digits_px[i],
                             "axis": "digits"})
            if s.digits_lm[i] >= 0:
                rows.append({**base, "metric": "digits from landmarks",
                             "value": s.digits_lm[i], "axis": "digits"})
            rows.append({**base, "metric": "proportion drift",
                         "value": s.proportion_drift[i], "axis": "ratio"})
            rows.append({**base, "metric": "finger coverage lost",
                         "value": s.coverage_lost[i], "axis": "ratio"})
            rows.append({**base, "metric": "confidence", "value": s.confidence[i],
                         "axis": "ratio"})
    return rows


def band_rows(report: Report, series: dict[int, Any]) -> list[dict[str, Any]]:
    """Event bands for the timeline: one row per (event, hand row it is drawn in)."""
    profile = str(report.settings.get("profile", "balanced"))
    handed = {t.track_id: t.handedness for t in report.tracks}
    hands = {tid: f"hand {tid} ({handed.get(tid, '?')})" for tid in series}
    rows = []
    for ev in report.events:
        targets = [ev.track_id] if ev.track_id in hands else list(hands)
        for tid in targets:
            rows.append({"hand": hands[tid], "track": tid, "event": ev.event_id,
                         "type": ev.type.replace("_", " "), "start": ev.start_s,
                         "end": ev.end_s, "frames": f"{ev.start_frame}-{ev.end_frame}",
                         "severity": ev.severity,
                         "level": severity_level(ev.severity, profile),
                         "message": ev.message})
    return rows


# --- pictures --------------------------------------------------------------------------

#: Per-track colours (RGB), matching a categorical palette.
TRACK_COLOURS: tuple[tuple[int, int, int], ...] = (
    (66, 133, 244), (234, 67, 53), (52, 168, 83), (251, 188, 5), (171, 71, 188),
    (0, 172, 193), (255, 112, 67), (158, 157, 36), (92, 107, 192), (240, 98, 146),
)
LEVEL_COLOURS: dict[str, tuple[int, int, int]] = {
    "fail": (229, 57, 53), "warn": (251, 140, 0), "info": (120, 144, 156)}


def track_colour(track_id: int | None) -> tuple[int, int, int]:
    """The colour of a track (grey without one)."""
    if track_id is None:
        return (200, 200, 200)
    return TRACK_COLOURS[(track_id - 1) % len(TRACK_COLOURS)]


def read_frames(video_path: str | os.PathLike[str], indices: Iterable[int],
                max_side: int | None = 1280) -> dict[int, tuple[Image, float]]:
    """Decode the frames at ``indices``: ``{index: (rgb image, scale to source px)}``.

    Decodes sequentially up to the largest index (no seeking, so indices match the
    analysis exactly, also on VFR video).
    """
    from vidhand.video import open_video

    wanted = set(indices)
    out: dict[int, tuple[Image, float]] = {}
    if not wanted:
        return out
    last = max(wanted)
    with open_video(video_path, max_side=max_side) as src:
        for frame in src:
            if frame.index in wanted:
                out[frame.index] = (frame.image, frame.scale)
            if frame.index >= last:
                break
    return out


def draw_hands(image: Image, hand_frame: HandFrame | None, scale: float = 1.0,
               focus_track: int | None = None, outline: tuple[int, int, int] | None = None,
               tags: bool = True, boxes: bool = True, line_px: int | None = None) -> Image:
    """Return a copy of ``image`` with every hand's skeleton, box and ``#id`` tag drawn.

    ``scale`` is the image's size relative to the source (landmarks are source pixels).
    The hand of ``focus_track`` gets a thicker box in ``outline`` colour; ``tags=False``
    leaves out the ``#id`` labels and ``boxes=False`` the boxes (for crops, where they
    would cover the hand); ``line_px`` overrides the size-based line width.
    """
    import cv2

    from vidhand.hand_model import EDGES

    img = np.ascontiguousarray(image.copy())
    if hand_frame is None:
        return img
    h, w = img.shape[:2]
    lw = line_px or max(1, round(max(w, h) / 400))
    for hand in hand_frame.hands:
        colour = track_colour(hand.track_id)
        pts = (hand.landmarks_px * scale).astype(np.int32)
        for a, b in EDGES:
            cv2.line(img, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, lw,
                     cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, tuple(map(int, p)), lw + 1, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(img, tuple(map(int, p)), lw + 1, colour, 1, cv2.LINE_AA)
        if not boxes:
            continue
        x0, y0, x1, y1 = (hand.bbox_xyxy * scale).astype(int)
        pad = max(4, (x1 - x0) // 8)
        focused = focus_track is not None and hand.track_id == focus_track
        box_colour = outline if (focused and outline) else colour
        cv2.rectangle(img, (x0 - pad, y0 - pad), (x1 + pad, y1 + pad), box_colour,
                      lw * (3 if focused else 1), cv2.LINE_AA)
        if not tags:
            continue
        tag = f"#{hand.track_id}" if hand.track_id else hand.handedness
        fs = 0.45 * max(lw, 1.2)
        (tw, th), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
        ty = max(th + 6, y0 - pad)
        cv2.rectangle(img, (x0 - pad, ty - th - 6), (x0 - pad + tw + 8, ty), box_colour, -1)
        cv2.putText(img, tag, (x0 - pad + 4, ty - 4), cv2.FONT_HERSHEY_SIMPLEX, fs,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return img


def track_boxes(hand_frames: list[HandFrame], track_id: int) -> dict[int, npt.NDArray[Any]]:
    """``{frame_index: bbox_xyxy}`` of one track in source pixels."""
    return {hf.frame_index: h.bbox_xyxy for hf in hand_frames for h in hf.hands
            if h.track_id == track_id}


def nearest_box(boxes: dict[int, npt.NDArray[Any]], frame_index: int,
                ) -> npt.NDArray[Any] | None:
    """The box of the observation closest in time to ``frame_index``."""
    if not boxes:
        return None
    best = min(boxes, key=lambda f: (abs(f - frame_index), f))
    return boxes[best]


def crop_square(image: Image, box_xyxy: npt.NDArray[Any] | None, scale: float,
                pad: float = 0.35, size: int = 240) -> Image:
    """A square crop around ``box_xyxy`` (source px) padded by ``pad``, resized to ``size``."""
    import cv2

    h, w = image.shape[:2]
    if box_xyxy is None:
        side, cx, cy = min(w, h), w / 2, h / 2
    else:
        x0, y0, x1, y1 = (np.asarray(box_xyxy, dtype=np.float64) * scale)
        side = max(x1 - x0, y1 - y0) * (1 + 2 * pad)
        side = max(side, 48.0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = side / 2
    x0i, y0i = round(cx - half), round(cy - half)
    x1i, y1i = round(cx + half), round(cy + half)
    canvas = np.zeros((y1i - y0i, x1i - x0i, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0i, 0), max(y0i, 0), min(x1i, w), min(y1i, h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0i:sy1 - y0i, sx0 - x0i:sx1 - x0i] = image[sy0:sy1, sx0:sx1]
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class InspectTarget:
    """What the inspector shows: an event, or (when there are none) one tracked hand."""

    kind: str  # "event" | "track"
    track_id: int | None
    start_frame: int
    end_frame: int
    start_s: float
    event: Event | None = None

    @property
    def focus_frame(self) -> int:
        """The frame shown large: an event's first frame, a hand's middle frame."""
        if self.kind == "event":
            return self.start_frame
        return (self.start_frame + self.end_frame) // 2


def crop_frames(target: InspectTarget, frame_count: int, fps: float) -> list[tuple[str, int]]:
    """(label, frame index) of the before / during / after crops of ``target``."""
    step = max(2, round(fps * 0.25))
    last = max(frame_count - 1, 0)
    before = max(target.start_frame - step, 0)
    during = (target.start_frame + target.end_frame) // 2
    after = min(target.end_frame + step, last)
    return [("before", before), ("during", during), ("after", after)]


def inspector_pictures(report: Report, hand_frames: list[HandFrame], target: InspectTarget,
                       video_path: str | os.PathLike[str], max_side: int | None = 1280,
                       ) -> dict[str, Any]:
    """The inspector's pictures: ``{"frame": (index, image), "crops": [(label, idx, img)]}``.

    The large frame has every hand drawn and the inspected hand outlined in its severity
    colour; the crops share one square box (the union of the hand's nearest boxes) so
    before/during/after are directly comparable.
    """
    by_index = {hf.frame_index: hf for hf in hand_frames}
    plan = None
    if target.event is not None:
        # Events use the renderer's crop plan, so the dashboard shows the same
        # before/during/after windows as the exported thumbnails.
        from vidhand.render import plan_event_crops

        plan = plan_event_crops(report, target.event, hand_frames)
        crops = [(role, plan.frames[role]) for role in plan.frames]
    else:
        crops = crop_frames(target, report.video.frame_count, report.video.fps)
    wanted = {target.focus_frame, *(i for _, i in crops)}
    frames = read_frames(video_path, wanted, max_side=max_side)
    level = (severity_level(target.event.severity, str(report.settings.get("profile",
                                                                           "balanced")))
             if target.event is not None else "info")
    outline = LEVEL_COLOURS[level] if target.kind == "event" else None
    boxes = track_boxes(hand_frames, target.track_id) if target.track_id else {}
    union = None
    near = [b for b in (nearest_box(boxes, i) for _, i in crops) if b is not None]
    if near:
        arr = np.stack(near)
        union = np.array([arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()])
    out: dict[str, Any] = {"frame": None, "crops": []}
    if target.focus_frame in frames:
        img, scale = frames[target.focus_frame]
        out["frame"] = (target.focus_frame, draw_hands(img, by_index.get(target.focus_frame),
                                                       scale, target.track_id, outline))
    for label, idx in crops:
        if idx not in frames:
            continue
        img, scale = frames[idx]
        drawn = draw_hands(img, by_index.get(idx), scale, tags=False, boxes=False, line_px=1)
        window = plan.windows.get(label) if plan is not None else None
        if window is not None:
            x0, y0, x1, y1 = (round(v * scale) for v in window)
            crop = drawn[y0:y1, x0:x1]
            h = 240
            w = max(1, round(crop.shape[1] * h / max(crop.shape[0], 1)))
            import cv2

            out["crops"].append((label, idx, cv2.resize(crop, (w, h),
                                                        interpolation=cv2.INTER_AREA)))
        else:
            out["crops"].append((label, idx, crop_square(drawn, union, scale)))
    return out


def inspect_targets(report: Report) -> dict[str, InspectTarget]:
    """Every event (``"e<id>"``), then every tracked hand (``"t<id>"``), by option key."""
    out: dict[str, InspectTarget] = {}
    for ev in report.events:
        out[f"e{ev.event_id}"] = InspectTarget("event", ev.track_id, ev.start_frame,
                                               ev.end_frame, ev.start_s, ev)
    rate = report.video.fps or 1.0
    for t in report.tracks:
        mid = (t.first_frame + t.last_frame) // 2
        out[f"t{t.track_id}"] = InspectTarget("track", t.track_id, t.first_frame,
                                              t.last_frame, mid / rate)
    return out


def target_label(report: Report, key: str, target: InspectTarget) -> str:
    """The option text of an inspector target."""
    if target.event is not None:
        return event_label(target.event)
    t = next((t for t in report.tracks if t.track_id == target.track_id), None)
    side = t.handedness if t else "?"
    return f"hand {target.track_id} ({side}) · frames {target.start_frame}-{target.end_frame}"


def evidence_rows(event: Event) -> list[dict[str, str]]:
    """The event's evidence as (name, value) rows, lists shortened for reading."""
    rows = []
    for k, v in event.evidence.items():
        if isinstance(v, float):
            text = f"{v:.4g}"
        elif isinstance(v, (list, tuple)):
            text = json.dumps(v if len(v) <= 12 else [*v[:12], "…"], default=str)
        elif isinstance(v, dict):
            text = json.dumps(v, default=str)[:200]
        else:
            text = str(v)
        rows.append({"evidence": k, "value": text})
    return rows


def check_option_specs() -> dict[str, Any]:
    """The checks' tunable thresholds with their defaults (data-driven settings panel).

    Uses ``vidhand.checks.DEFAULT_CHECK_OPTIONS`` when the checks module defines it,
    else the numeric keyword defaults of every registered check's ``__init__``.
    """
    import inspect

    from vidhand import checks

    defaults = getattr(checks, "DEFAULT_CHECK_OPTIONS", None)
    if isinstance(defaults, dict):
        return {k: v for k, v in defaults.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}
    out: dict[str, Any] = {}
    for cls in getattr(checks, "AVAILABLE_CHECKS", {}).values():
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if (name != "self" and isinstance(p.default, (int, float))
                    and not isinstance(p.default, bool)):
                out.setdefault(name, p.default)
    return out
