"""Throughput of ``vidhand check`` against the loop a user would write, in one run (#6).

For a 720p and a 1080p clip (20 s each, made on the fly in a temp folder by looping a
shared clip, never committed) it prints the fps of: decode only (PyAV to RGB), landmarks
only (decode + MediaPipe, one process), the naive loop (``cv2.VideoCapture`` + BGR->RGB
+ MediaPipe per frame, one process), and ``vidhand check`` end to end (a subprocess of
the real CLI, report and landmark file written, all cores), with the ratio vidhand /
naive, the share of wall time spent in identity + checks (replaying the landmark file),
and the peak RSS of the whole ``vidhand check`` process tree. A row for ``vidhand batch``
over four copies of the 720p clip (clips side by side in worker processes) against the
naive loop running them one after another. Then a 30-minute clip
(low resolution and rate so it runs in minutes, but a real 30-minute video through the
real pipeline) shows that memory stays flat with length. After the 720p clip it also
prints where the time goes: how many cores the naive loop keeps busy, MediaPipe alone
with 1 and 2 hand slots and in two threads at once, and the evidence stage's cost in one
and in two threads.

Usage:
    python benchmarks/throughput.py            # the README table
    python benchmarks/throughput.py --seconds 10 --long-minutes 5 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "clips" / "natural" / "sam2_cups_shell_game_two_hands.mp4"
VIDHAND = Path(sys.executable).with_name("vidhand")


def make_clip(src: Path, dst: Path, size_wh: tuple[int, int], seconds: float,
              fps: Fraction | None = None) -> Path:
    """Loop ``src`` (forward, then backward, so motion stays continuous) into ``dst``."""
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = fps or Fraction(stream.average_rate)
        frames = [f.to_ndarray(format="rgb24", width=size_wh[0], height=size_wh[1],
                               interpolation="AREA") for f in inp.decode(stream)]
    if fps is not None:  # resample to the lower rate by picking frames
        step = float(Fraction(30000, 1001) / fps)
        frames = [frames[int(i * step)] for i in range(int(len(frames) / step))]
    cycle = frames + frames[-2:0:-1]
    total = round(seconds * float(rate))
    with av.open(str(dst), "w") as out:
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = size_wh[0], size_wh[1], "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "20", "g": str(round(2 * float(rate)))}
        for i in range(total):
            frame = av.VideoFrame.from_ndarray(cycle[i % len(cycle)], format="rgb24")
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return dst


def decode_only(path: Path) -> float:
    from vidhand.video import open_video

    t = time.perf_counter()
    with open_video(path) as src:
        n = sum(1 for _ in src)
    return n / (time.perf_counter() - t)


def landmarks_only(path: Path) -> float:
    from vidhand.tracking.mediapipe import MediaPipeTracker
    from vidhand.video import open_video

    with open_video(path) as src, MediaPipeTracker(max_hands=2) as tracker:
        t = time.perf_counter()
        n = 0
        for frame in src:
            tracker.process(frame)
            n += 1
    return n / (time.perf_counter() - t)


def where_time_goes(path: Path, frames: int = 200) -> None:
    """Print the measurements behind the README's reading of the table, on ``path``.

    The naive loop's CPU time / wall time (how many cores it already keeps busy);
    MediaPipe alone with 1 and 2 hand slots on decoded frames; and the evidence stage's
    cost per frame in one thread and in two threads at once (how GIL-bound it is).
    """
    from vidhand.evidence.frame import EvidenceExtractor
    from vidhand.parallel import single_threaded_opencv
    from vidhand.tracking.mediapipe import MediaPipeTracker
    from vidhand.video import open_video

    c0, t0 = time.process_time(), time.perf_counter()
    naive = naive_loop(path)
    ratio = (time.process_time() - c0) / (time.perf_counter() - t0)
    print(f"  naive loop: {naive:.1f} fps using {ratio:.2f} cores (CPU time / wall time)")
    with open_video(path) as src:
        decoded = [f for _, f in zip(range(frames), src, strict=False)]
    def landmarks(slots: int) -> tuple[list[Any], float]:
        """MediaPipe alone over the decoded frames: its answers and its fps."""
        with MediaPipeTracker(max_hands=slots) as tracker:
            t = time.perf_counter()
            out = [tracker.process(f) for f in decoded]
            return out, len(decoded) / (time.perf_counter() - t)

    data = []
    for slots in (1, 2):
        out, fps = landmarks(slots)
        hands = sum(len(o.hands) for o in out) / len(out)
        print(f"  MediaPipe alone, {slots} hand slot(s): {fps:.1f} fps, {hands:.2f} hands/frame")
        data = list(zip(decoded, out, strict=True))

    # Two landmarkers at once, each on every frame (as vidhand's two segment workers).
    rates: list[float] = []
    c0, t0 = time.process_time(), time.perf_counter()
    workers = [threading.Thread(target=lambda: rates.append(landmarks(2)[1]))
               for _ in range(2)]
    for th in workers:
        th.start()
    for th in workers:
        th.join()
    busy = (time.process_time() - c0) / (time.perf_counter() - t0)
    print(f"  MediaPipe alone, 2 hand slots, two landmarkers in two threads at once: "
          f"{sum(rates):.1f} fps in all, {busy:.2f} cores busy")

    def evidence(pairs: list[tuple[Any, Any]]) -> None:
        ev = EvidenceExtractor()
        for f, hf in pairs:
            ev.process(f, hf)

    with single_threaded_opencv():  # as in vidhand's segment workers
        t = time.perf_counter()
        evidence(data)
        one = (time.perf_counter() - t) / len(data)
        t = time.perf_counter()
        threads = [threading.Thread(target=evidence, args=(data,)) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        two = (time.perf_counter() - t) / (2 * len(data))
    print(f"  evidence stage: {1000 * one:.1f} ms/frame in one thread, {1000 * two:.1f} ms/frame "
          f"with two threads at once (speed-up {one / two:.2f}x)")


def naive_loop(path: Path) -> float:
    """What a user writes: OpenCV decode, BGR->RGB, MediaPipe per frame, one process."""
    import mediapipe as mp
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions
    from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
        VisionTaskRunningMode,
    )

    from vidhand.tracking.model import load_model

    options = HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=load_model(None).data),
        running_mode=VisionTaskRunningMode.VIDEO, num_hands=2)
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    t = time.perf_counter()
    n = 0
    with HandLandmarker.create_from_options(options) as landmarker:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            landmarker.detect_for_video(image, int(n * 1000 / fps))
            n += 1
    cap.release()
    return n / (time.perf_counter() - t)


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return sum(rss.get(p, 0) for p in tree) / 2**20


def run_check(path: Path, out: Path, jobs: int, extra: list[str],
              ) -> tuple[float, float, int, int]:
    """Run the real CLI; return (wall s, peak tree RSS MB, frames, events).

    The clips are real footage (the cups clip looped), so every event is a false alarm.
    """
    cmd = [str(VIDHAND), "check", str(path), "--out", str(out), "--jobs", str(jobs), *extra]
    wall, peak = run_cli(cmd)
    from vidhand.report import read_report

    report = read_report(out / f"{path.stem}.json")
    return wall, peak, report.video.frame_count, len(report.events)


def run_batch(clip: Path, copies: int, work: Path, jobs: int,
              ) -> tuple[float, float, int, int]:
    """``vidhand batch`` over ``copies`` links to ``clip`` into a fresh folder (nothing to
    resume); return (wall s, peak tree RSS MB, frames in all, events in all)."""
    import shutil

    renders = work / "batch_in"
    shutil.rmtree(renders, ignore_errors=True)
    renders.mkdir(parents=True)
    for i in range(copies):
        (renders / f"render_{i}{clip.suffix}").symlink_to(clip)
    out = work / "batch_out"
    shutil.rmtree(out, ignore_errors=True)
    wall, peak = run_cli([str(VIDHAND), "batch", str(renders), "--out", str(out),
                          "--jobs", str(jobs)])
    from vidhand.report import read_report

    reports = [read_report(p) for p in out.glob("render_*.json")]
    return (wall, peak, sum(r.video.frame_count for r in reports),
            sum(len(r.events) for r in reports))


def run_cli(cmd: list[str]) -> tuple[float, float]:
    """Run a vidhand command; return (wall s, peak RSS MB of its process tree)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_mb(proc.pid))
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    stop.set()
    th.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({proc.returncode}): {err.strip()}")
    return wall, peak


def checks_time(report_json: Path) -> float:
    """Wall time of identity + checks alone (replaying the landmark file)."""
    from vidhand.pipeline import analyze
    from vidhand.report import read_report

    report = read_report(report_json)
    t = time.perf_counter()
    analyze(from_landmarks=report.landmarks_file)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the HD clips")
    ap.add_argument("--long-minutes", type=float, default=30.0, help="length of the long clip")
    ap.add_argument("--jobs", type=int, default=0, help="vidhand --jobs (0: one per CPU)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of the naive loop and of vidhand per HD clip (medians shown)")
    ap.add_argument("--work", type=Path, default=None, help="temp folder (default: new)")
    ap.add_argument("--batch-copies", type=int, default=4,
                    help="720p clips in the `vidhand batch` row (links to one clip)")
    args = ap.parse_args()
    if not SOURCE.exists():
        sys.exit(f"needs the shared clip {SOURCE}")
    work = args.work or Path(tempfile.mkdtemp(prefix="vidhand-throughput-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# vidhand throughput, {os.cpu_count()} CPUs, load average before start "
          f"{os.getloadavg()[0]:.1f}; clips in {work}", flush=True)
    rows = []
    for label, wh in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        clip = work / f"bench_{label}.mp4"
        if not clip.exists():
            make_clip(SOURCE, clip, wh, args.seconds)
        dec = decode_only(clip)
        lmk = landmarks_only(clip)
        out = work / f"out_{label}"
        # This VM's speed varies from run to run (shared host), so the naive loop and
        # vidhand alternate `--repeat` times and the medians are compared.
        naives, e2es, rss = [], [], 0.0
        for _ in range(args.repeat):
            naives.append(naive_loop(clip))
            wall, peak, frames, events = run_check(clip, out, args.jobs, [])
            e2es.append(frames / wall)
            rss = max(rss, peak)
        naive, e2e = statistics.median(naives), statistics.median(e2es)
        chk = checks_time(out / f"{clip.stem}.json")
        rows.append((f"{label} {args.seconds:.0f} s", frames, dec, lmk, naive, e2e, e2e / naive,
                     100 * chk / (frames / e2e), rss, events))
        print(f"  done {label}: naive fps {' '.join(f'{v:.1f}' for v in naives)}; vidhand fps "
              f"{' '.join(f'{v:.1f}' for v in e2es)}; load {os.getloadavg()[0]:.1f}", flush=True)
        if label == "720p":
            where_time_goes(clip)
            # Many clips (the studio's night): `vidhand batch` runs them side by side in
            # worker processes; the naive loop would run them one after another.
            walls, peak, frames = [], 0.0, 0
            for _ in range(args.repeat):
                wall, rss_b, frames, events_b = run_batch(clip, args.batch_copies, work,
                                                          args.jobs)
                walls.append(wall)
                peak = max(peak, rss_b)
            fps_b = frames / statistics.median(walls)
            batch_row = (f"720p {args.seconds:.0f} s x{args.batch_copies}, batch", frames,
                         float("nan"), float("nan"), naive, fps_b, fps_b / naive,
                         float("nan"), peak, events_b)
            print(f"  done 720p batch of {args.batch_copies}: vidhand fps "
                  f"{' '.join(f'{frames / w:.1f}' for w in walls)}", flush=True)

    rows.insert(1, batch_row)
    long_clip = work / "bench_long.mp4"
    if not long_clip.exists():
        make_clip(SOURCE, long_clip, (256, 144), args.long_minutes * 60, fps=Fraction(5))
    wall, rss, frames, events = run_check(long_clip, work / "out_long", args.jobs, [])
    chk = checks_time(work / "out_long" / f"{long_clip.stem}.json")
    rows.append((f"{args.long_minutes:.0f} min 256x144 5 fps", frames, float("nan"),
                 float("nan"), float("nan"), frames / wall, float("nan"), 100 * chk / wall, rss,
                 events))

    head = ("clip", "frames", "decode fps", "landmarks fps", "naive fps", "vidhand fps",
            "vidhand/naive", "checks % wall", "peak RSS MB", "events")
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [r[0], str(r[1])] + ["-" if v != v else f"{v:.1f}" for v in r[2:5]] + [
            f"{r[5]:.1f}", "-" if r[6] != r[6] else f"{r[6]:.2f}x",
            "-" if r[7] != r[7] else f"{r[7]:.1f}", f"{r[8]:.0f}", str(r[9])]
        print("| " + " | ".join(cells) + " |")
    print(f"\nnaive and vidhand fps: medians of {args.repeat} alternating runs; "
          f"vidhand check --jobs {args.jobs} (0 = one per CPU); load average after "
          f"{os.getloadavg()[0]:.1f}; events: vidhand's on the clip (real footage looped, so "
          f"each is a false alarm; the batch row: all its reports)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
