"""The ``ray`` batch engine: each clip's :func:`~vidhand.batch.analyze_clip` as a Ray task.

Ray schedules; vidhand only submits one task per clip (1 CPU each, the MediaPipe
budget) and writes each outcome as it arrives, in the driver, exactly as the local
engine does. Without ``address`` a local Ray instance with ``num_cpus`` CPUs is
started (and shut down afterwards); with ``address`` (``"auto"``, ``"ray://head:10001"``)
the driver joins that cluster. Every node needs vidhand installed (or a Ray
``runtime_env``) and must read the clip paths as the driver names them (shared storage).

Example:
    >>> from vidhand.batch import run_batch
    >>> run_batch(["/mnt/renders/"], "/mnt/qa/", engine="ray", address="auto")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidhand.batch import ClipOutcome
    from vidhand.pipeline import AnalysisOptions

logger = logging.getLogger(__name__)


def import_ray() -> Any:
    """Import Ray or raise an ``ImportError`` naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ImportError("the ray engine needs Ray: pip install 'vidhand[ray]'") from None
    return ray


def _task(clip: str, options: AnalysisOptions) -> ClipOutcome:
    from vidhand.batch import analyze_clip

    return analyze_clip(clip, options, jobs=1)


def _announced(task: Callable[[str, AnalysisOptions], ClipOutcome],
               ) -> Callable[[str, AnalysisOptions], Iterator[ClipOutcome | None]]:
    """``task`` as a Ray streaming generator: ``None`` when a worker takes the clip, then
    its outcome. A queued task has not started, so only this tells the driver when the
    clip's time begins."""
    def announced(clip: str, options: AnalysisOptions) -> Iterator[ClipOutcome | None]:
        yield None
        yield task(clip, options)
    return announced


def run_ray(
    clips: list[str],
    options: AnalysisOptions,
    record: Callable[[ClipOutcome], None],
    address: str | None = None,
    num_cpus: int | None = None,
    task: Callable[[str, AnalysisOptions], ClipOutcome] = _task,
    timeout_s: float | None = None,
) -> None:
    """Run one Ray task per clip and pass each outcome to ``record`` as it finishes.

    A task whose worker dies (a native crash, the out-of-memory killer, a lost node) is
    retried once by Ray; if it fails again, its clip is recorded with the error and the
    other clips go on, as with the local engine. With ``timeout_s``, a clip still running
    that long after a worker first took it (time in Ray's queue does not count) is
    cancelled, its worker process killed, and recorded with
    :func:`~vidhand.batch.timeout_error`. ``task`` is the per-clip function.

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
        while pending:
            ready, pending = ray.wait(pending, num_returns=1,
                                      timeout=None if timeout_s is None else 0.25)
            for gen in ready:
                try:
                    outcome = ray.get(next(gen))
                except (ray.exceptions.RayError, StopIteration) as exc:
                    # StopIteration: a task that ended with no outcome; never seen, but
                    # its clip must still get a row.
                    logger.warning("%s: %s", clip_of[gen], exc)
                    outcome = ClipOutcome(clip=clip_of[gen],
                                          error=f"{CRASH_ERROR} (Ray: {type(exc).__name__})")
                if outcome is None:  # a worker took the clip; its outcome comes next
                    since.setdefault(gen, time.monotonic())
                    pending.append(gen)
                else:
                    record(outcome)
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
