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
) -> None:
    """Run one Ray task per clip and pass each outcome to ``record`` as it finishes.

    Raises:
        ImportError: Ray is not installed.
        ConnectionError: ``address`` names no reachable cluster.
    """
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
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(_task)
        opts_ref = ray.put(options)
        pending = [remote.remote(clip, opts_ref) for clip in clips]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            record(ray.get(ready[0]))
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
