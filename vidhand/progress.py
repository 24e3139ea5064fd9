"""Progress callbacks: the library reports ``progress(done, total)``; UIs draw it."""

from __future__ import annotations

import sys
import time
from typing import Any


class TqdmProgress:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr.

    The bar shows frames done / total, fps and ETA, and hides itself when stderr is
    not a terminal (pipelines and CI logs stay clean). Advances by the frame delta,
    so a total that was only an estimate stays accurate.
    """

    def __init__(self, desc: str = "", disable: bool | None = None) -> None:
        self._desc = desc
        self._disable = (not sys.stderr.isatty()) if disable is None else disable
        self._bar: Any = None
        self._done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self._disable:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:  # tqdm is a dependency, but stay usable without it
                self._disable = True
                return
            self._bar = tqdm(total=total, desc=self._desc, unit="frame", leave=False,
                             dynamic_ncols=True, file=sys.stderr)
        if total is not None and self._bar.total != total and done <= total:
            self._bar.total = total
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class RateMeter:
    """Frames-per-second and ETA from ``(done, total)`` updates (for non-tqdm UIs)."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def measure(self, done: int, total: int | None) -> tuple[float, float | None]:
        """Return (fps, eta_s or None)."""
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        fps = done / elapsed
        eta = (total - done) / fps if total and fps > 0 and total >= done else None
        return fps, eta
