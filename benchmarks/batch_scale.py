"""What ``vidhand batch`` itself costs per clip when a folder holds thousands of files (#6).

A render farm's nightly folder can hold thousands of clips. Besides analysing them, the
batch driver records each one (its row in ``summary.jsonl``/``summary.csv``, written
atomically as clips finish), and a rerun decides which clips are done. This benchmark
measures that bookkeeping alone: it fills a temp folder with N files that are not videos
(each fails at once, as a broken render does, so no MediaPipe time hides the driver's),
runs the real CLI over them twice, and prints the wall time of the first run and of the
rerun (where every clip is tried again, errors being retried) and the time per clip.

Usage:
    python benchmarks/batch_scale.py              # 2000 files
    python benchmarks/batch_scale.py --clips 5000 --jobs 2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIDHAND = Path(sys.executable).with_name("vidhand")


def run(folder: Path, out: Path, jobs: int) -> float:
    """Wall seconds of one ``vidhand batch`` over ``folder`` (exit 2: every clip failed)."""
    t = time.perf_counter()
    proc = subprocess.run([str(VIDHAND), "batch", str(folder), "--out", str(out),
                           "--jobs", str(jobs)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 2:
        sys.exit(f"vidhand batch exited {proc.returncode}, expected 2:\n{proc.stderr}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vidhand-batch-scale-") as tmp:
        folder = Path(tmp) / "renders"
        folder.mkdir()
        for i in range(args.clips):
            (folder / f"render_{i:05d}.mp4").write_text("not a video\n")
        out = Path(tmp) / "qa"
        first = run(folder, out, args.jobs)
        again = run(folder, out, args.jobs)
        rows = len((out / "summary.jsonl").read_text().splitlines())
        if rows != args.clips:
            sys.exit(f"summary.jsonl has {rows} rows, expected {args.clips}")
    print(f"vidhand batch over {args.clips} unreadable files, --jobs {args.jobs}:")
    print(f"  first run: {first:6.1f} s  ({first / args.clips * 1000:.1f} ms per clip)")
    print(f"  rerun:     {again:6.1f} s  ({again / args.clips * 1000:.1f} ms per clip)")
    print(f"  summary.jsonl: {rows} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
