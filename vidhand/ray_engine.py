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
from collections.abc import Callable
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


def run_ray(
    clips: list[str],
    options: AnalysisOptions,
    record: Callable[[ClipOutcome], None],
    address: str | None = None,
    num_cpus: int | None = None,
    task: Callable[[str, AnalysisOptions], ClipOutcome] = _task,
) -> None:
    """Run one Ray task per clip and pass each outcome to ``record`` as it finishes.

    A task whose worker dies (a native crash, the out-of-memory killer, a lost node) is
    retried once by Ray; if it fails again, its clip is recorded with the error and the
    other clips go on, as with the local engine. ``task`` is the per-clip function.

    Raises:
        ImportError: Ray is not installed.
        ConnectionError: ``address`` names no reachable cluster.
    """
    from vidhand.batch import CRASH_ERROR, ClipOutcome

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
        remote = ray.remote(num_cpus=1, max_retries=1)(task)
        opts_ref = ray.put(options)
        clip_of = {remote.remote(clip, opts_ref): clip for clip in clips}
        pending = list(clip_of)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            try:
                outcome = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                logger.warning("%s: %s", clip_of[ready[0]], exc)
                outcome = ClipOutcome(clip=clip_of[ready[0]],
                                      error=f"{CRASH_ERROR} (Ray: {type(exc).__name__})")
            record(outcome)
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
