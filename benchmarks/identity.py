"""Hand identities on every clip of ``../shared/clips``: tracks with and without linking.

MediaPipe gives no track ids and loses hands for a moment on real footage (fast motion,
a hand closing, the other hand in front), so a frame-to-frame tracker splits one hand
into several tracks. vidhand joins a track that starts near where another ended, up to
``link_gap_s`` later (same size and majority label, no scene cut between):
:meth:`vidhand.tracking.identity.IdentityTracker.linked`. This prints, per clip, the
number of tracks frame to frame (``link_gap_s=0``) and joined (the default), the gaps
bridged and the events either way, from one MediaPipe run per clip (its landmark file is
kept under ``--work`` and replayed, as the accuracy benchmark does).

Usage:
    python benchmarks/identity.py [--work /tmp/vidhand-accuracy]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from accuracy import analyze_cached  # noqa: E402  (the same landmark cache)

from vidhand.pipeline import AnalysisOptions, analyze  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=REPO.parent / "shared" / "clips")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vidhand-accuracy"))
    args = parser.parse_args(argv)
    manifest = args.clips / "MANIFEST.tsv"
    if not manifest.exists():
        print(f"{manifest} not found: the benchmark needs ../shared/clips", file=sys.stderr)
        return 2
    (args.work / "reports").mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(manifest.open(), delimiter="\t"))
    print(f"{'clip':46s} {'hands':>6s} {'tracks frame to frame':>21s} {'joined':>6s} "
          f"{'gaps bridged':>12s} {'events':>9s}")
    totals = [0, 0, 0, 0, 0]
    for r in rows:
        _, lm = analyze_cached(args.clips / r["file"], args.work)
        apart = analyze(from_landmarks=lm, options=AnalysisOptions(link_gap_s=0.0))
        joined = analyze(from_landmarks=lm)
        bridged = len(apart.tracks) - len(joined.tracks)
        nums = [len(apart.tracks), len(joined.tracks), bridged, len(apart.events),
                len(joined.events)]
        totals = [a + b for a, b in zip(totals, nums, strict=True)]
        print(f"{Path(r['file']).stem[:46]:46s} {r['hands_visible']:>6s} {nums[0]:21d} "
              f"{nums[1]:6d} {nums[2]:12d} {nums[3]:4d} -> {nums[4]}")
    print(f"{'all ' + str(len(rows)) + ' clips':46s} {'':>6s} {totals[0]:21d} {totals[1]:6d} "
          f"{totals[2]:12d} {totals[3]:4d} -> {totals[4]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
