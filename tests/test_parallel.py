"""Segment-parallel analysis (issue #6): plans, exact mid-stream starts, equal reports."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import shared_clip

from vidhand.parallel import Segment, plan_segments, resolve_jobs, warmup_frames_for
from vidhand.pipeline import AnalysisOptions, analyze
from vidhand.report import Report
from vidhand.video import open_video


@pytest.mark.parametrize(("frames", "jobs", "max_seg", "expected"), [
    (600, 1, None, [(0, None, 0)]),                       # one job: never split
    (100, 2, None, [(0, None, 0)]),                       # shorter than 4 warm-ups
    (None, 2, None, [(0, None, 0)]),                      # unknown length
    # Every segment decodes as many frames, its warm-up included (600 + 48 = 2 x 324).
    (600, 2, None, [(0, 324, 0), (324, None, 276)]),
    (300, 3, None, [(0, 132, 0), (132, 216, 84), (216, None, 168)]),
    (1000, 2, 300, [(0, 286, 0), (286, 524, 238), (524, 762, 476), (762, None, 714)]),
    (200, 8, None, [(0, 124, 0), (124, None, 76)]),       # each segment >= 1.5 warm-ups
])
def test_plan_segments(frames, jobs, max_seg, expected):
    segs = plan_segments(frames, jobs, warmup_frames=48, max_segment_frames=max_seg)
    assert [(s.start, s.end, s.warmup_start) for s in segs] == expected
    assert [s.number for s in segs] == list(range(len(segs)))
    if len(segs) > 1:
        decoded = [(s.end or frames) - s.warmup_start for s in segs]
        assert max(decoded) - min(decoded) <= 1
        assert min((s.end or frames) - s.start for s in segs) >= 1.5 * 48


def test_warmup_covers_ghost_window_and_jobs_resolve():
    assert warmup_frames_for(Fraction(30000, 1001), ghost_window=45) == 48
    assert warmup_frames_for(Fraction(60), ghost_window=45) == 90
    assert resolve_jobs(3) == 3 and resolve_jobs(0) >= 1
    with pytest.raises(ValueError, match="jobs must be"):
        resolve_jobs(-1)
    assert Segment(0, 0, None, 0).end is None


@pytest.mark.parametrize(("clip", "mode"), [
    ("natural/sam2_cups_shell_game_two_hands.mp4", "seek"),  # MP4 index: keyframe seek
    ("natural/dyngest_zoom_two_hands_bbox.gif", "skip"),     # no index: decode and count
])
def test_start_frame_matches_sequential_decode(clip, mode):
    path = shared_clip(clip)
    with open_video(path) as src:
        ref = [(f.index, f.pts_s, f.image[::29, ::31].copy()) for f in src]
    for start in (1, len(ref) // 2, len(ref) - 2):
        with open_video(path, start_frame=start) as src:
            got = [(f.index, f.pts_s, f.image[::29, ::31].copy()) for f in src]
            assert src.start_mode == mode and src.decode_error is None
        assert [g[:2] for g in got] == [r[:2] for r in ref[start:]]
        assert all(np.array_equal(g[2], r[2]) for g, r in zip(got, ref[start:], strict=True))


def test_start_frame_needs_a_seekable_backend():
    path = shared_clip("natural/sign_soup_woman_grey_bg.mp4")
    with pytest.raises(ValueError, match="use backend 'pyav'"):
        open_video(path, backend="opencv", start_frame=5)


def _assert_same_report(a: Report, b: Report, tol: int = 1) -> None:
    assert len(a.tracks) == len(b.tracks)
    for ta, tb in zip(a.tracks, b.tracks, strict=True):
        assert (ta.track_id, ta.handedness) == (tb.track_id, tb.handedness)
        assert abs(ta.first_frame - tb.first_frame) <= tol
        assert abs(ta.last_frame - tb.last_frame) <= tol
    assert len(a.events) == len(b.events), ([e.type for e in a.events],
                                            [e.type for e in b.events])
    for ea, eb in zip(a.events, b.events, strict=True):
        assert (ea.type, ea.track_id) == (eb.type, eb.track_id)
        assert abs(ea.start_frame - eb.start_frame) <= tol
        assert abs(ea.end_frame - eb.end_frame) <= tol
    assert a.summary.verdict == b.summary.verdict
    assert a.video == b.video


@pytest.mark.shared
@pytest.mark.slow
def test_segment_parallel_report_equals_single_process(tmp_path):
    # 300 frames, two hands moving cups; jobs=3 cuts 3 segments, so 2 seams are crossed.
    clip = shared_clip("natural/sam2_cups_shell_game_two_hands.mp4")
    single = analyze(clip, jobs=1)
    seen: list[tuple[int, int | None]] = []
    parallel = analyze(clip, jobs=3, landmarks_out=tmp_path / "p.landmarks.npz",
                       progress=lambda d, t: seen.append((d, t)))
    assert parallel.video.frame_count == single.video.frame_count == 300
    assert single.tracks, "the clip must have hands for this test to mean anything"
    _assert_same_report(single, parallel)
    assert parallel.settings == single.settings
    assert seen and seen[-1][0] == 300  # progress ends on the frame count
    # Every frame landed once, in order, in the landmark file.
    from vidhand.tracking.cache import read_landmarks

    assert read_landmarks(tmp_path / "p.landmarks.npz").frame_index.tolist() == list(range(300))


@pytest.mark.shared
@pytest.mark.slow
def test_more_segments_than_jobs_reuse_each_threads_landmarker(monkeypatch, landmarkers_made):
    # 3 segments on 2 threads: one thread runs two segments on the same landmarker
    # (what keeps memory flat on long videos); the report is still that of one process.
    import vidhand.parallel as parallel

    clip = shared_clip("natural/sam2_cups_shell_game_two_hands.mp4")
    single = analyze(clip, jobs=1)
    landmarkers_made.clear()  # count only the split run's
    monkeypatch.setattr(parallel, "MAX_SEGMENT_S", 3.0)  # 300 frames -> 3 segments
    with open_video(clip) as src:
        segs = parallel.plan_for(src.info, AnalysisOptions(), 2, 45)
    assert segs is not None and len(segs) == 3
    split = analyze(clip, jobs=2)
    _assert_same_report(single, split)
    assert len(landmarkers_made) == 2, "one landmarker per thread, reused across its segments"
    assert all(t._landmarker is None for t in landmarkers_made), "every landmarker closed"


@pytest.mark.shared
def test_stopping_early_cancels_workers_and_closes_landmarkers(landmarkers_made):
    import vidhand.parallel as parallel

    clip = shared_clip("natural/sam2_cups_shell_game_two_hands.mp4")
    segs = parallel.plan_segments(300, 2, warmup_frames=48)
    run = parallel.SegmentRun(clip, AnalysisOptions(), segs, jobs=2)
    frames = run.hand_frames()
    first = next(frames)
    frames.close()  # what Ctrl-C or an error in the consumer does to the generator
    assert first.frame_index == 0
    assert landmarkers_made and all(t._landmarker is None for t in landmarkers_made)


@pytest.fixture
def landmarkers_made(monkeypatch):
    """Every MediaPipeTracker constructed while the test runs, in order."""
    from vidhand.tracking import mediapipe as mp_tracking

    made = []
    real_init = mp_tracking.MediaPipeTracker.__init__

    def counting_init(self, *a, **kw):
        made.append(self)
        real_init(self, *a, **kw)

    monkeypatch.setattr(mp_tracking.MediaPipeTracker, "__init__", counting_init)
    return made


def test_opencv_runs_single_threaded_only_while_segments_run():
    import cv2

    from vidhand.parallel import single_threaded_opencv

    original = cv2.getNumThreads()
    cv2.setNumThreads(3)  # whatever this machine's default, the change must show
    try:
        with single_threaded_opencv():
            assert cv2.getNumThreads() == 1
            with single_threaded_opencv():  # nested (two analyses at once): restored once
                assert cv2.getNumThreads() == 1
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(original)
