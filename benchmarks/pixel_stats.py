"""Pixel-evidence statistics on the real clips: the false-alarm pressure on the temporal model.

Runs MediaPipe and :func:`vidhand.evidence.pixels.measure_hand` over every frame of every
natural clip in ``../shared/clips`` and prints, per clip: hands measured, the judgeable
fraction, the distribution of ``px_digits`` on judgeable hands, how often ``px_digits``
jumps between consecutive judgeable frames of the largest hand, how often the pixels
disagree with the landmarks (``px_digits != px_lm_digits``) or show an unmatched digit,
and the mean time of ``measure_hand`` per hand.

Example:
    .venv/bin/python benchmarks/pixel_stats.py [--clips natural generated] [--max-frames 300]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO.parent / "shared" / "clips"


def _stats(path: Path, max_frames: int) -> dict[str, object]:
    import av

    from vidhand.evidence.pixels import measure_hand
    from vidhand.tracking.mediapipe import MediaPipeTracker
    from vidhand.types import Frame

    n_hands = n_judge = jumps = pairs = mismatch = unmatched = 0
    digits: collections.Counter[int] = collections.Counter()
    wall = cpu = 0.0
    prev: int | None = None
    tracker = MediaPipeTracker(max_hands=2)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or 30)
            for i, frame in enumerate(container.decode(stream)):
                if i >= max_frames:
                    break
                image = frame.to_ndarray(format="rgb24")
                pts = float(frame.time) if frame.time is not None else i / fps
                hands = tracker.process(Frame(index=i, pts_s=pts, image=image)).hands
                feats = []
                for hand in hands:
                    t0, c0 = time.perf_counter(), time.process_time()
                    feats.append(measure_hand(image, hand, 1.0, hands))
                    wall += time.perf_counter() - t0
                    cpu += time.process_time() - c0
                n_hands += len(hands)
                for f in feats:
                    if f["px_judgeable"]:
                        n_judge += 1
                        digits[f["px_digits"]] += 1
                        mismatch += f["px_digits"] != f["px_lm_digits"]
                        unmatched += f["px_unmatched_digits"] > 0
                # Frame-to-frame jumps of the largest hand (both frames judgeable).
                cur = None
                if feats:
                    big = max(range(len(hands)), key=lambda k: hands[k].size_px)
                    if feats[big]["px_judgeable"]:
                        cur = feats[big]["px_digits"]
                if cur is not None and prev is not None:
                    pairs += 1
                    jumps += cur != prev
                prev = cur
    finally:
        tracker.close()
    return {
        "frames": i + 1 if "i" in locals() else 0,
        "fps": fps,
        "hands": n_hands,
        "judgeable": n_judge / n_hands if n_hands else 0.0,
        "digits": dict(sorted(digits.items())),
        "jump_rate": jumps / pairs if pairs else 0.0,
        "jumps_per_min": jumps / ((i + 1) / fps / 60) if n_hands else 0.0,
        "mismatch": mismatch / n_judge if n_judge else 0.0,
        "unmatched": unmatched / n_judge if n_judge else 0.0,
        "ms_hand": 1000 * wall / n_hands if n_hands else 0.0,
        "cpu_ms_hand": 1000 * cpu / n_hands if n_hands else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """Print one line of pixel statistics per clip."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=["natural"],
                        help="sub-folders of ../shared/clips to run (default: natural)")
    parser.add_argument("--max-frames", type=int, default=10_000)
    args = parser.parse_args(argv)
    if not CLIPS.is_dir():
        print(f"{CLIPS} not found: this benchmark needs ../shared/clips beside the repository",
              file=sys.stderr)
        return 2
    os.environ.setdefault("GLOG_minloglevel", "2")
    header = (f"{'clip':46s} {'frm':>4s} {'hands':>5s} {'judg':>5s} {'jump%':>6s} {'jmp/min':>7s}"
              f" {'px!=lm':>6s} {'unm':>5s} {'ms/h':>5s} {'cpu':>5s}  px_digits (judgeable)")
    print(header)
    total_hands = total_wall = total_cpu = 0.0
    for sub in args.clips:
        for path in sorted((CLIPS / sub).iterdir()):
            s = _stats(path, args.max_frames)
            print(f"{sub + '/' + path.name:46.46s} {s['frames']:4d} {s['hands']:5d} "
                  f"{s['judgeable']:5.2f} {100 * s['jump_rate']:6.1f} {s['jumps_per_min']:7.1f} "
                  f"{s['mismatch']:6.2f} {s['unmatched']:5.2f} {s['ms_hand']:5.2f} "
                  f"{s['cpu_ms_hand']:5.2f}  {s['digits']}", flush=True)
            total_hands += s["hands"]
            total_wall += s["ms_hand"] * s["hands"]
            total_cpu += s["cpu_ms_hand"] * s["hands"]
    if total_hands:
        print(f"all: {int(total_hands)} hands, {total_wall / total_hands:.2f} ms/hand wall, "
              f"{total_cpu / total_hands:.2f} ms/hand cpu")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
