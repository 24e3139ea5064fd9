"""The ``ray`` batch engine: each clip's :func:`~vidhand.batch.analyze_clip` as a Ray task.

Ray schedules; vidhand only submits one task per clip (1 CPU each, the MediaPipe
budget) and writes each outcome as it arrives, in the driver, exactly as the local
engine does. Each task is a streaming generator that also tells the driver when a worker
took its clip (``--clip-timeout`` counts from there) and how many frames it has analysed
(the frames bar). Without ``address`` a local Ray instance with ``num_cpus`` CPUs is
started (and shut down afterwards); with ``address`` (``"auto"``, ``"ray://head:10001"``)
the driver joins that cluster. Every node needs vidhand installed (or a Ray
``runtime_env``) and must read the clip paths as the driver names them (shared storage).

Example:
    >>> from vidhand.batch import run_batch
    >>> run_batch(["/mnt/renders/"], "/mnt/qa/", engine="ray", address="auto")
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidhand.batch import ClipOutcome
    from vidhand.pipeline import AnalysisOptions

logger = logging.getLogger(__name__)

# The per-clip function: (clip, options, progress) -> outcome, ``progress`` being called
# as ``progress(frames_done, frames_total_or_None)``.
Task = Callable[..., "ClipOutcome"]


def import_ray() -> Any:
    """Import Ray or raise an ``ImportError`` naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ImportError("the ray engine needs Ray: pip install 'vidhand[ray]'") from None
    return ray


def _task(clip: str, options: AnalysisOptions,
          progress: Callable[[int, int | None], None] | None = None) -> ClipOutcome:
    from vidhand.batch import analyze_clip

    return analyze_clip(clip, options, jobs=1, progress=progress)


_PROGRESS_EVERY_S = 0.5


def _announced(task: Task) -> Callable[[str, AnalysisOptions], Iterator[Any]]:
    """``task`` as a Ray streaming generator. It yields ``None`` when a worker takes the
    clip (a queued task has not started, so only this tells the driver when the clip's
    time begins), then the number of frames analysed so far, at most every
    ``_PROGRESS_EVERY_S`` seconds, and last the clip's :class:`ClipOutcome`."""
    def announced(clip: str, options: AnalysisOptions) -> Iterator[Any]:
        yield None
        done = [0]
        ended: list[Any] = []  # the outcome, or the exception the task raised

        def run() -> None:
            try:
                ended.append(task(clip, options, lambda n, _total: done.__setitem__(0, n)))
            except BaseException as exc:  # re-raised below, in the task's own thread
                ended.append(exc)

        worker = threading.Thread(target=run, name=f"vidhand-{clip}", daemon=True)
        worker.start()
        sent = 0
        while worker.is_alive():
            worker.join(_PROGRESS_EVERY_S)
            if done[0] > sent:
                sent = done[0]
                yield sent
        if isinstance(ended[0], BaseException):
            raise ended[0]
        yield ended[0]
    return announced


def run_ray(
    clips: list[str],
    options: AnalysisOptions,
    record: Callable[[ClipOutcome], None],
    address: str | None = None,
    num_cpus: int | None = None,
    task: Task = _task,
    timeout_s: float | None = None,
    on_frames: Callable[[int], None] | None = None,
) -> None:
    """Run one Ray task per clip and pass each outcome to ``record`` as it finishes.

    A task whose worker dies (a native crash, the out-of-memory killer, a lost node) is
    retried once by Ray; if it fails again, its clip is recorded with the error and the
    other clips go on, as with the local engine. With ``timeout_s``, a clip still running
    that long after a worker first took it (time in Ray's queue does not count) is
    cancelled, its worker process killed, and recorded with
    :func:`~vidhand.batch.timeout_error`. ``on_frames`` gets the number of frames the
    clips have analysed so far, as the workers report it. ``task`` is the per-clip
    function, called as ``task(clip, options, progress)``.

    Raises:
        ImportError: Ray is not installed.
        ConnectionError: ``address`` names no reachable cluster.
    """
    from vidhand.batch import CRASH_ERROR, ClipOutcome, timeout_error

    ray = import_ray()
    if not clips:
        return
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus, **kwargs)
    pending: list[Any] = []
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(_announced(task)).options(
            num_returns="streaming")
        opts_ref = ray.put(options)
        clip_of = {remote.remote(clip, opts_ref): clip for clip in clips}
        pending = list(clip_of)
        since: dict[Any, float] = {}  # when a worker took each clip
        frames: dict[Any, int] = {}  # frames each running clip has analysed so far
        frames_done = 0  # over all clips
        while pending:
            ready, pending = ray.wait(pending, num_returns=1,
                                      timeout=None if timeout_s is None else 0.25)
            for gen in ready:
                try:
                    item = ray.get(next(gen))
                except (ray.exceptions.RayError, StopIteration) as exc:
                    # StopIteration: a task that ended with no outcome; never seen, but
                    # its clip must still get a row.
                    logger.warning("%s: %s", clip_of[gen], exc)
                    item = ClipOutcome(clip=clip_of[gen],
                                       error=f"{CRASH_ERROR} (Ray: {type(exc).__name__})")
                if isinstance(item, ClipOutcome):
                    frames.pop(gen, None)
                    record(item)
                    continue
                if item is None:  # a worker took the clip
                    since.setdefault(gen, time.monotonic())
                else:
                    frames_done += item - frames.get(gen, 0)
                    frames[gen] = item
                    if on_frames is not None:
                        on_frames(frames_done)
                pending.append(gen)  # its outcome is still to come
            if timeout_s is not None:
                now = time.monotonic()
                for gen in [g for g in pending if now - since.get(g, now) > timeout_s]:
                    ray.cancel(gen, force=True)  # kills the worker process
                    pending.remove(gen)
                    record(ClipOutcome(clip=clip_of[gen], elapsed_s=timeout_s,
                                       error=timeout_error(timeout_s)))
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
