"""Batch QA: analyse many clips, one report each, a running summary, resumable.

:func:`run_batch` finds the clips, skips those whose report is already there for the
same file hash and settings, and hands the rest, largest files first, to an engine:
``local`` (spawned worker processes on this machine) or ``ray`` (Ray tasks on a local or
remote cluster). Both run the same :func:`analyze_clip` and return its
:class:`ClipOutcome` to this process, which alone writes files: the report, its landmark
file and exports (the layout of ``vidhand check --out``), then ``summary.jsonl`` and
``summary.csv``, all atomically, as clips finish. One batch writes into an output folder
at a time (a lock file). A clip that cannot be read, that kills its worker process or
that outlives ``clip_timeout_s`` becomes a summary row with its error; it never stops
the batch.

Example:
    >>> from vidhand.batch import run_batch
    >>> result = run_batch(["renders/"], "qa/", jobs=2)
    >>> result.done, result.skipped, result.errors, result.worst_verdict
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import glob
import hashlib
import io
import json
import logging
import multiprocessing
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidhand._version import __version__
from vidhand.errors import OutputInUse, VidhandError
from vidhand.pipeline import AnalysisOptions, analyze, default_landmarks_path, file_sha256
from vidhand.report import (
    VERDICT_RANK,
    Report,
    write_bytes_atomic,
    write_report,
    write_text_atomic,
)
from vidhand.types import EVENT_TYPES

logger = logging.getLogger(__name__)

SUMMARY_JSONL = "summary.jsonl"
SUMMARY_CSV = "summary.csv"
ENGINES = ("local", "ray")
CSV_FIELDS = ("clip", "status", "verdict", "score", "duration_s", "frames", "events",
              *EVENT_TYPES, "error", "report", "sha256", "settings_key", "elapsed_s")


def settings_key(options: AnalysisOptions, formats: Iterable[str] = (),
                 model_sha256: str = "") -> str:
    """Short hash of everything that changes a clip's outputs (not ``jobs`` or engine).

    The hand model counts by its content (``model_sha256``), not by its path: the same
    ``.task`` moved elsewhere keeps the key, a retrained one saved over the old file
    does not.
    """
    opts = dataclasses.asdict(options)
    opts["hand_model"] = model_sha256 or opts["hand_model"]
    blob = json.dumps({"options": opts, "version": __version__,
                       "export": sorted(formats)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


#: Memory one clip worker process may take at its peak, in MB: its own MediaPipe, the
#: decoder and a clip's frames (the throughput benchmark measures 461 MB for one 720p
#: clip and 560 MB for 1080p, for the whole ``vidhand check`` process).
WORKER_MB = 600


def workers_for_memory(meminfo: str | os.PathLike[str] = "/proc/meminfo") -> int:
    """How many clip workers the memory available now can hold (``WORKER_MB`` each).

    ``--jobs 0`` takes the smaller of this and the CPU count, so a farm node with many
    cores and little memory does not start more MediaPipes than it can hold (the
    out-of-memory killer would take them one by one). Where the figure cannot be read
    (not Linux), no limit.
    """
    try:
        with open(meminfo, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return max(1, int(line.split()[1]) // 1024 // WORKER_MB)
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 16


def resolve_model(options: AnalysisOptions) -> tuple[AnalysisOptions, str]:
    """The options with the hand model made explicit, and that model's sha256.

    A model given only through ``$VIDHAND_HAND_MODEL`` becomes ``options.hand_model``, so
    worker processes and Ray tasks on other machines load the same file; the bundled
    model stays ``None``.

    Raises:
        TrackerUnavailable: the model file is missing or not a hand landmarker bundle.
    """
    from vidhand.tracking.model import ENV_VAR, load_model

    path = options.hand_model or os.environ.get(ENV_VAR) or None
    sha = load_model(path).sha256
    explicit = str(Path(path).resolve()) if path else None
    return dataclasses.replace(options, hand_model=explicit), sha


def collect_clips(inputs: Iterable[str | os.PathLike[str]],
                  exclude: str | os.PathLike[str] | None = None) -> list[Path]:
    """Expand folders (every non-hidden file inside, recursively) and globs, sorted, unique.

    Non-video files are kept on purpose: they become error rows, so nothing in a
    render folder goes unnoticed. Files under ``exclude`` (the output folder) are left out.

    Raises:
        ValueError: an input matches nothing.
    """
    excl = Path(exclude).resolve() if exclude is not None else None
    found: dict[Path, None] = {}
    for raw in inputs:
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            matches = [q for q in sorted(p.rglob("*")) if q.is_file()
                       and not any(part.startswith(".") for part in q.relative_to(p).parts)]
        elif p.exists():
            matches = [p]
        else:
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))
                       if Path(m).is_file()]
            if not matches:
                raise ValueError(f"no file matches {text!r}; pass video files, folders or "
                                 f"quoted globs such as 'renders/**/*.mp4'")
        for q in matches:
            if excl is not None and excl in q.resolve().parents:
                continue
            found.setdefault(q, None)
    return sorted(found)


def unique_stem(path: Path, used: set[str], counters: dict[str, int] | None = None) -> str:
    """``path``'s stem, or ``stem-2``, ``stem-3``... if already in ``used`` (then added).

    ``counters`` (stem -> next number to try) lets many calls over one ``used`` set skip
    the numbers already taken: thousands of same-named clips cost linear time.
    """
    stem = path.stem
    n = counters.get(stem, 2) if counters is not None else 2
    candidate = stem
    while candidate in used:
        candidate = f"{stem}-{n}"
        n += 1
    if counters is not None:
        counters[stem] = n
    used.add(candidate)
    return candidate


def assign_stems(clips: list[Path], recorded: dict[str, str] | None = None,
                 ) -> dict[Path, str]:
    """Report stem per clip: the file stem, ``-2``, ``-3``... on clashes.

    ``recorded`` maps clips (as strings) to the stems their reports already have in the
    output folder (from an earlier run's summary): such a clip keeps its stem, and no
    other clip gets one of them, so a clip added to a folder of same-named files (every
    shot's ``render.mp4``) never takes over another clip's report.
    """
    recorded = recorded or {}
    used = set(recorded.values())
    counters: dict[str, int] = {}
    return {clip: recorded[str(clip)] if str(clip) in recorded
            else unique_stem(clip, used, counters) for clip in clips}


@dataclass
class ClipOutcome:
    """What one clip's analysis sends back to the driver (picklable, no open files)."""

    clip: str
    sha256: str = ""
    report: dict[str, Any] | None = None
    landmarks: bytes | None = None
    error: str | None = None
    elapsed_s: float = 0.0


def analyze_clip(clip: str, options: AnalysisOptions, jobs: int = 1,
                 progress: Callable[[int, int | None], None] | None = None) -> ClipOutcome:
    """Analyse one clip; never raises for a bad clip (the error goes in the outcome).

    This is the unit of work of both engines. Files are not written here: the landmark
    file is read back as bytes so the driver can write it wherever ``--out`` points,
    also when this runs on another machine.
    """
    t0 = time.perf_counter()
    out = ClipOutcome(clip=clip)
    try:
        with tempfile.TemporaryDirectory(prefix="vidhand-batch-") as tmp:
            lm_path = Path(tmp) / "clip.landmarks.npz"
            report = analyze(clip, options=options, landmarks_out=lm_path, jobs=jobs,
                             progress=progress)
            out.landmarks = lm_path.read_bytes()
        out.report = report.to_dict()
        out.sha256 = report.video.sha256
    except VidhandError as exc:
        out.error = str(exc)
    except OSError as exc:
        out.error = f"cannot read '{clip}': {exc.strerror or exc}"
    except Exception as exc:  # a bug on one clip must not stop the batch
        if os.environ.get("VIDHAND_DEBUG", "") not in ("", "0"):
            raise
        out.error = (f"internal error {type(exc).__name__}: {exc} (set VIDHAND_DEBUG=1 for "
                     f"the traceback and report it)")
    if not out.sha256:
        with contextlib.suppress(OSError):
            out.sha256 = file_sha256(clip)
    out.elapsed_s = round(time.perf_counter() - t0, 3)
    return out


@dataclass
class BatchResult:
    """Counts of a batch run and its summary rows (one per clip, in clip order)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    done: int = 0
    skipped: int = 0
    errors: int = 0
    interrupted: bool = False

    @property
    def worst_verdict(self) -> str | None:
        """The worst verdict among the clips that have a report (``None``: no report)."""
        verdicts = [r["verdict"] for r in self.rows if r.get("verdict")]
        return max(verdicts, key=VERDICT_RANK.__getitem__, default=None)


class _Summary:
    """The rows of ``summary.jsonl``/``summary.csv``, rewritten atomically as clips finish.

    Every write rewrites both files whole (readers see the old file or the new one, never
    half), which costs time in proportion to the rows. So that a batch of thousands of
    clips does not spend its time rewriting its summary, a row that arrives less than
    ``WRITE_GAP`` times the last write's duration after that write waits for the next
    one (at most ``1 / WRITE_GAP`` of the wall time goes to writing); :meth:`flush`
    writes what waits. With a few hundred rows a write takes milliseconds, so every clip
    still shows at once.
    """

    #: Shortest pause between two writes, in multiples of the last write's duration.
    WRITE_GAP = 20.0

    def __init__(self, out_dir: Path, clips: list[Path],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.out_dir = out_dir
        self.order = [str(c) for c in clips]
        self.rows: dict[str, dict[str, Any]] = {}
        self.writes = 0
        self._clock = clock
        self._next_write = float("-inf")
        self._dirty = False
        path = out_dir / SUMMARY_JSONL
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # only atomic writes here, but never trust a file blindly
                if isinstance(row, dict) and "clip" in row:
                    self.rows[row["clip"]] = row

    def report_stems(self) -> tuple[dict[str, str], set[str]]:
        """The stems the recorded rows' reports have, per clip; and the clips recorded
        with a report another clip also claims (written before same-named clips kept
        their own): those lose it and run again."""
        owners: dict[str, list[str]] = {}
        for clip, row in self.rows.items():
            if row.get("report"):
                owners.setdefault(Path(row["report"]).name.removesuffix(".json"), []).append(clip)
        recorded = {clips[0]: stem for stem, clips in owners.items() if len(clips) == 1}
        clashed = {c for clips in owners.values() if len(clips) > 1 for c in clips}
        return recorded, clashed

    def put(self, row: dict[str, Any]) -> None:
        self.rows[row["clip"]] = row
        self._dirty = True
        if self._clock() >= self._next_write:
            self.write()

    def flush(self) -> None:
        """Write the rows that wait for the next write, if any."""
        if self._dirty:
            self.write()

    def ordered(self) -> list[dict[str, Any]]:
        # Clips of this run in order, then rows of earlier runs over other clips.
        mine = [self.rows[c] for c in self.order if c in self.rows]
        order = set(self.order)
        rest = [r for c, r in self.rows.items() if c not in order]
        return mine + rest

    def write(self) -> None:
        start = self._clock()
        rows = self.ordered()
        write_text_atomic(self.out_dir / SUMMARY_JSONL,
                          "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") if r.get(k) is not None else "" for k in CSV_FIELDS})
        write_text_atomic(self.out_dir / SUMMARY_CSV, buf.getvalue())
        end = self._clock()
        self._next_write = end + self.WRITE_GAP * (end - start)
        self._dirty = False
        self.writes += 1


#: Held (``flock``) by the batch writing into an output folder.
LOCK_FILE = ".vidhand-batch.lock"


@contextlib.contextmanager
def _out_dir_lock(out: Path) -> Iterator[None]:
    """One batch per output folder at a time.

    A second batch into the same folder (an overlapping nightly run, a second node
    started by hand) would rewrite the summaries without the first one's rows and could
    write the same report twice; it stops at once with a one-line error instead. The
    lock is the kernel's (``flock``), so it goes with the process that held it, however
    that ended.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    with open(out / LOCK_FILE, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise OutputInUse(f"another vidhand batch{who} is writing to '{out}'; wait for "
                              f"it to finish or pass another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield


#: A temp file of :func:`~vidhand.report.write_bytes_atomic` (``.<name>.<8 random>.tmp``).
_ATOMIC_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _remove_stale_temps(out: Path, older_than_s: float = 60.0) -> None:
    """Delete what a batch killed mid-write (``kill -9``, a power cut) left: the temp files
    of atomic writes, at least ``older_than_s`` old (a live write's temp lives for
    milliseconds). Called with the folder's batch lock held."""
    limit = time.time() - older_than_s
    for path in out.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if _ATOMIC_TEMP.match(path.name) and path.stat().st_mtime < limit:
                path.unlink()


def _row(clip: Path, outcome: ClipOutcome, key: str, report_path: Path | None,
         report: Report | None) -> dict[str, Any]:
    row: dict[str, Any] = {"clip": str(clip), "sha256": outcome.sha256, "settings_key": key,
                           "elapsed_s": outcome.elapsed_s, "error": outcome.error}
    if report is None:
        row.update(status="error", verdict=None, score=None, duration_s=None, frames=None,
                   events=None, report=None)
        return row
    counts = report.summary.event_counts
    row.update(status="ok", verdict=report.summary.verdict, score=report.summary.score,
               duration_s=report.video.duration_s, frames=report.video.frame_count,
               events=len(report.events), report=str(report_path),
               error=report.video.decode_error)
    row.update({t: int(counts.get(t, 0)) for t in EVENT_TYPES})
    return row


def _write_outcome(outcome: ClipOutcome, report_path: Path, formats: list[str]) -> Report | None:
    """Write a finished clip's report, landmarks and exports, as ``vidhand check`` does."""
    if outcome.report is None:
        return None
    lm_path = default_landmarks_path(report_path)
    if outcome.landmarks is not None:
        write_bytes_atomic(lm_path, outcome.landmarks)
    report = dataclasses.replace(Report.from_dict(outcome.report),
                                 landmarks_file=str(lm_path) if outcome.landmarks else None)
    if formats:
        from vidhand.export import default_export_path, export_report

        for fmt in formats:
            export_report(report, fmt, path=default_export_path(report_path, fmt))
    # The report last: its presence (with the summary row) marks the clip as done.
    write_report(report, report_path)
    return report


def _is_done(row: dict[str, Any] | None, sha256: str, key: str) -> bool:
    return bool(row and row.get("status") == "ok" and row.get("sha256") == sha256
                and row.get("settings_key") == key and row.get("report")
                and Path(row["report"]).is_file())


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    options: AnalysisOptions | None = None,
    jobs: int = 0,
    formats: Iterable[str] = (),
    engine: str = "local",
    address: str | None = None,
    on_clip: Callable[[dict[str, Any], int, int], None] | None = None,
    on_frames: Callable[[int], None] | None = None,
    clip_timeout_s: float | None = None,
) -> BatchResult:
    """Analyse every clip of ``inputs`` into ``out_dir``; see the module docstring.

    Args:
        inputs: files, folders and globs.
        out_dir: where reports, landmark files, exports and the summaries go.
        options: analysis options for every clip.
        jobs: workers (0: one per CPU). With at least as many clips as jobs, clips run
            side by side in worker processes (a crash in one clip cannot take the batch
            down); otherwise each clip is split into segments analysed in threads.
        formats: export formats written next to each report.
        engine: ``local`` or ``ray``.
        address: Ray cluster address (``ray`` engine; ``None`` starts a local Ray).
        on_clip: called as ``on_clip(row, finished, total)`` after each clip.
        on_frames: called with the number of frames analysed so far.
        clip_timeout_s: a clip still running this many seconds after a worker process
            took it is stopped (its worker killed) and recorded with an error (the local
            engine then runs every clip in a worker process, also with one job).

    Raises:
        ValueError: an unknown engine, or an input that matches nothing.
        ImportError: ``engine="ray"`` without Ray installed.
        TrackerUnavailable: the hand model cannot be loaded (checked before any clip).
    """
    from vidhand.parallel import resolve_jobs

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    if clip_timeout_s is not None and clip_timeout_s <= 0:
        raise ValueError("clip_timeout_s must be a positive number of seconds")
    opts, model_sha = resolve_model(options or AnalysisOptions())
    fmts = list(formats)
    jobs = resolve_jobs(jobs) if jobs else min(resolve_jobs(0), workers_for_memory())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _out_dir_lock(out):
        _remove_stale_temps(out)
        clips = collect_clips(inputs, exclude=out)
        key = settings_key(opts, fmts, model_sha)
        summary = _Summary(out, clips)
        recorded, clashed = summary.report_stems()
        stems = assign_stems(clips, recorded)
        result = BatchResult()

        todo: list[Path] = []
        for clip in clips:
            row = summary.rows.get(str(clip))
            try:
                sha = file_sha256(clip) if row else ""
            except OSError:
                sha = ""
            if str(clip) not in clashed and _is_done(row, sha, key):
                result.skipped += 1
            else:
                todo.append(clip)
        total = len(clips)
        finished = result.skipped

        def record(outcome: ClipOutcome) -> None:
            nonlocal finished
            clip = Path(outcome.clip)
            report_path = out / f"{stems[clip]}.json"
            try:
                report = _write_outcome(outcome, report_path, fmts)
            except (VidhandError, OSError) as exc:
                outcome.error, report = f"cannot write outputs: {exc}", None
            row = _row(clip, outcome, key, report_path, report)
            summary.put(row)
            finished += 1
            if report is None:
                result.errors += 1
            else:
                result.done += 1
            if on_clip is not None:
                on_clip(row, finished, total)

        queue = largest_first(todo)  # rows and the summary keep the clips' own order
        try:
            if engine == "ray":
                from vidhand.ray_engine import run_ray

                run_ray(queue, opts, record, address=address, num_cpus=jobs,
                        timeout_s=clip_timeout_s, on_frames=on_frames)
            else:
                for outcome in _run_local(queue, opts, jobs, on_frames,
                                          timeout_s=clip_timeout_s):
                    record(outcome)
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            summary.flush()  # rows that waited for the next write (also on an error)
        if not summary.rows and not clips:
            summary.write()
        result.rows = [summary.rows[str(c)] for c in clips if str(c) in summary.rows]
        return result


# --- local engine ---------------------------------------------------------------------

_FRAMES: Any = None


def _init_clip_worker(counter: Any) -> None:
    global _FRAMES
    _FRAMES = counter
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One clip worker per core already: OpenCV's own thread pool would only contend.
    import cv2

    cv2.setNumThreads(1)


class _CountFrames:
    def __init__(self) -> None:
        self.last = 0

    def __call__(self, done: int, total: int | None) -> None:
        if _FRAMES is not None and done > self.last:
            with _FRAMES.get_lock():
                _FRAMES.value += done - self.last
            self.last = done


def _analyze_star(args: tuple[str, AnalysisOptions]) -> ClipOutcome:
    return analyze_clip(args[0], args[1], jobs=1, progress=_CountFrames())


#: What a clip's row says when its worker process died under it, also when retried (alone).
CRASH_ERROR = ("the analysis process died while analysing this clip (a crash in a decoder "
               "or in MediaPipe, or killed, e.g. out of memory), also when retried; "
               "check or re-encode the file")


def largest_first(clips: Iterable[str | os.PathLike[str]]) -> list[str]:
    """``clips`` by file size, largest first (unreadable ones last), ties in their order.

    Both engines submit clips in this order, so the clip that runs last, alone while the
    other cores idle, is a short one (on the 21 shared clips with 2 workers: 90.5 and
    95.7 s against 103.6 and 100.4 s in name order).
    """
    def size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return -1

    return sorted((str(c) for c in clips), key=size, reverse=True)


def _run_local(todo: list[str], options: AnalysisOptions, jobs: int,
               on_frames: Callable[[int], None] | None,
               work: Callable[[tuple[str, AnalysisOptions]], ClipOutcome] = _analyze_star,
               timeout_s: float | None = None) -> Iterator[ClipOutcome]:
    """Yield each clip's outcome as it finishes (clips side by side in worker processes,
    started in ``todo``'s order).

    A worker process that dies (a native crash, the OOM killer) takes down the pool and
    every clip running in it. Those clips are retried one at a time in a fresh
    one-worker pool, so the clip that kills its process again alone is recorded with
    :data:`CRASH_ERROR` and every other clip gets its report; the rest of the batch then
    goes on in a fresh pool. ``work`` is the per-clip function (module-level, picklable).

    With ``timeout_s``, every clip runs in a worker process (a clip in this process could
    not be stopped), and one still running ``timeout_s`` after its worker took it gets
    :func:`timeout_error`; its pool is then stopped and the clips beside it retried as
    after a crash.
    """
    if not todo:
        return
    if timeout_s is None and (jobs <= 1 or len(todo) < jobs):
        # Few clips: one at a time in this process, each split into segments.
        done_before = 0
        for clip in todo:
            def frames(done: int, total: int | None, base: int = done_before) -> None:
                if on_frames is not None:
                    on_frames(base + done)
            outcome = analyze_clip(clip, options, jobs=jobs, progress=frames)
            done_before += (outcome.report or {}).get("video", {}).get("frame_count", 0)
            yield outcome
        return
    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("q", 0)
    queue = list(todo)
    suspects: list[str] = []  # clips that were running when a worker died
    while queue or suspects:
        alone = bool(suspects)
        source = [suspects.pop(0)] if alone else queue
        width = 1 if alone else max(1, min(jobs, len(queue)))
        pool = ProcessPoolExecutor(width, mp_context=ctx, initializer=_init_clip_worker,
                                   initargs=(counter,))
        running: dict[Future[ClipOutcome], str] = {}
        # When each clip went to a worker: never more are submitted than there are
        # workers, so a submitted clip is a running one (worker start-up included).
        since: dict[Future[ClipOutcome], float] = {}
        try:
            while source or running:
                while source and len(running) < width:
                    clip = source.pop(0)
                    try:
                        fut = pool.submit(work, (clip, options))
                    except BrokenProcessPool:
                        source.insert(0, clip)
                        break
                    running[fut], since[fut] = clip, time.monotonic()
                if not running:
                    break  # the pool broke with nothing left in it: start a fresh one
                finished, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                if on_frames is not None:
                    on_frames(int(counter.value))
                if timeout_s is not None:
                    now = time.monotonic()
                    late = [f for f in running
                            if f not in finished and now - since[f] > timeout_s]
                    if late:
                        for fut in late:
                            yield ClipOutcome(clip=running.pop(fut), elapsed_s=timeout_s,
                                              error=timeout_error(timeout_s))
                        _stop_workers(pool)  # the clips beside them fail as after a crash
                for fut in finished:
                    clip = running.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        if alone:
                            yield ClipOutcome(clip=clip, error=CRASH_ERROR)
                        else:
                            suspects.append(clip)
                        continue
                    yield outcome
        finally:
            # Ctrl-C or an error in the driver: stop the workers now, not after their clip.
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's worker processes at once (their clips fail as after a crash)."""
    procs = getattr(pool, "_processes", None) or {}
    for proc in list(procs.values()):
        proc.terminate()


def timeout_error(timeout_s: float) -> str:
    """The error row of a clip stopped by ``--clip-timeout``."""
    return (f"analysis stopped after {timeout_s:g} s (--clip-timeout): the clip is long, "
            f"or its decoding hung; check the file or raise the timeout")
