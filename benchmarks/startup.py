"""What one ``vidhand check`` of a short clip spends before and around its frames (#6).

Generated clips last a few seconds, and pipelines often run ``vidhand check`` once per
render, so a process's start (imports, the hand model) is a large share of its time.
This benchmark runs the real CLI on a short shared clip several times and prints the
median and fastest wall time, and, in fresh interpreters, how long the imports alone
take. With ``--compare DIR`` (another checkout of vidhand, for example
``git worktree add /tmp/vidhand-old <commit>``), the runs of the two alternate, so both
see the same machine: this shared VM's speed drifts between runs.

Usage:
    python benchmarks/startup.py
    python benchmarks/startup.py --compare /tmp/vidhand-old --runs 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "clips" / "natural" / "sign_soup_woman_grey_bg.mp4"

IMPORTS = ("import time; t = time.perf_counter(); import vidhand.cli, vidhand.pipeline; "
           "from vidhand.tracking.mediapipe import MediaPipeTracker; "
           "a = time.perf_counter(); MediaPipeTracker(max_hands=2).close(); "
           "print(f'{a - t:.3f} {time.perf_counter() - a:.3f}')")


def _env(code_dir: Path) -> dict[str, str]:
    # The checkout's own package first; run from a neutral folder so that the current
    # directory does not put another checkout's package first.
    return {**os.environ, "PYTHONPATH": str(code_dir)}


def check_once(code_dir: Path, clip: Path, out: Path) -> float:
    """Wall seconds of one ``python -m vidhand check`` with ``code_dir``'s vidhand."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vidhand", "check", str(clip), "--out",
                           str(out)], capture_output=True, text=True, env=_env(code_dir),
                          cwd=out)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"vidhand check exited {proc.returncode}:\n{proc.stderr}")
    return wall


def imports_once(code_dir: Path, cwd: Path) -> tuple[float, float]:
    """Seconds to import the CLI and pipeline, and to create the hand tracker."""
    proc = subprocess.run([sys.executable, "-c", IMPORTS], capture_output=True, text=True,
                          env=_env(code_dir), cwd=cwd, check=True)
    imports, tracker = proc.stdout.split()
    return float(imports), float(tracker)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR",
                        help="another vidhand checkout, run alternately with this one")
    args = parser.parse_args(argv)
    if not args.clip.is_file():
        sys.exit(f"{args.clip}: no such clip; pass --clip or put ../shared beside the repo")
    trees = {"this checkout": REPO}
    if args.compare is not None:
        if not (args.compare / "vidhand" / "__init__.py").is_file():
            sys.exit(f"{args.compare}: not a vidhand checkout (no vidhand/__init__.py)")
        trees[str(args.compare)] = args.compare.resolve()
    walls: dict[str, list[float]] = {name: [] for name in trees}
    imports: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="vidhand-startup-") as tmp:
        for _ in range(args.runs):
            for name, code_dir in trees.items():
                walls[name].append(check_once(code_dir, args.clip.resolve(), Path(tmp)))
                imports[name].append(imports_once(code_dir, Path(tmp)))
    print(f"vidhand check {args.clip.name}, {args.runs} runs"
          + (" alternating" if len(trees) > 1 else "") + ":")
    for name in trees:
        w = walls[name]
        imp = statistics.median(i for i, _ in imports[name])
        trk = statistics.median(t for _, t in imports[name])
        print(f"  {name}: median {statistics.median(w):.2f} s, fastest {min(w):.2f} s "
              f"(imports {imp:.2f} s, hand tracker {trk:.2f} s; medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
