"""Re-measure the evidence stage on cached detections, without running MediaPipe again.

The benchmarks cache each clip's landmark file under a hash of the decoding, tracking
and evidence code (``detection_code_hash`` in ``accuracy.py``), so changing the pixel
evidence means detecting everything again: about 8 minutes per accuracy set and half
an hour for ``robustness.py``, two thirds of it MediaPipe. When only the evidence code
changed since the cached files were made, this script replays MediaPipe's recorded
answers frame by frame through the real pipeline (decode, evidence, checks, report)
and writes the files a fresh detection would write, under the current hash, in about a
third of the time. ``tests/test_synth.py`` checks that a replay gives a fresh detection's
landmark file feature for feature.

Only valid when the decoding and tracking code (``vidhand/video``, ``vidhand/tracking``)
is the same as when the cached files were made: say which files with ``--from-hash``.

Usage:
    python benchmarks/reevidence.py --from-hash 6574296a /tmp/vidhand-accuracy \\
        /tmp/vidhand-accuracy-s11 /tmp/vidhand-accuracy-s13 /tmp/vidhand-robustness
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from vidhand.tracking.base import HandTracker  # noqa: E402
from vidhand.types import Frame, HandFrame  # noqa: E402


class ReplayTracker(HandTracker):
    """Answers each frame with the hands a landmark file recorded for it, their
    evidence stripped (the evidence stage measures them again)."""

    TRACKER_NAME = "replay"

    def __init__(self, landmarks: str | os.PathLike[str]) -> None:
        from vidhand.tracking.cache import read_landmarks

        rec = read_landmarks(landmarks)
        self._settings = {k: v for k, v in rec.meta["detector"].items() if k != "evidence"}
        self._frames = {
            hf.frame_index: dataclasses.replace(
                hf, features={},
                hands=tuple(dataclasses.replace(h, features={}) for h in hf.hands))
            for hf in rec.hand_frames()}

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._settings)

    def process(self, frame: Frame) -> HandFrame:
        try:
            hf = self._frames[frame.index]
        except KeyError:
            raise ValueError(f"frame {frame.index} is not in the landmark file; the video "
                             f"decodes differently from when it was recorded") from None
        if abs(hf.pts_s - frame.pts_s) > 1e-6 or hf.frame_size_wh != frame.source_size_wh:
            raise ValueError(f"frame {frame.index} decodes differently from when it was "
                             f"recorded (time or size)")
        return hf


def reevidence(old: Path, new: Path) -> Path:
    """Write ``new`` (landmark file) and its report, replaying ``old``'s detections."""
    from vidhand.pipeline import analyze
    from vidhand.report import write_report
    from vidhand.tracking.cache import read_landmarks

    video = read_landmarks(old).meta["video"]["path"]
    report = analyze(video, landmarks_out=new, tracker=ReplayTracker(old))
    write_report(report, new.with_name(new.name.removesuffix(".landmarks.npz") + ".json"))
    return new


def main() -> None:
    from accuracy import detection_code_hash

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", nargs="+", type=Path, help="benchmark work folders")
    ap.add_argument("--from-hash", required=True,
                    help="detection hash of the cached files to replay (their decoding and "
                         "tracking code must be today's)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    new_hash = detection_code_hash()
    if new_hash == args.from_hash:
        sys.exit(f"the detection code is unchanged ({new_hash}): nothing to re-measure")
    todo = []
    for work in args.work:
        for old in sorted((work / "reports").glob(f"*-{args.from_hash}.landmarks.npz")):
            new = old.with_name(old.name.replace(f"-{args.from_hash}.", f"-{new_hash}."))
            if not new.exists():
                todo.append((old, new))
    print(f"re-measuring the evidence of {len(todo)} landmark file(s): "
          f"{args.from_hash} -> {new_hash}", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(reevidence, old, new) for old, new in todo]
        for done, future in enumerate(futures, start=1):
            future.result()
            if done % 50 == 0:
                print(f"  {done}/{len(todo)}", flush=True)
    print("done")


if __name__ == "__main__":
    main()
