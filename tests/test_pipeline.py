"""analyze(), the report schema and the landmark cache on real clips."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from conftest import FIXTURES, shared_clip

import vidhand
from vidhand.errors import LandmarkFileError, ReportError, VideoOpenFailure
from vidhand.pipeline import AnalysisOptions, analyze, tracked_hand_frames
from vidhand.report import SCHEMA, Report, read_report, summarize, write_report
from vidhand.tracking.cache import read_landmarks
from vidhand.types import Event


@pytest.fixture(scope="module")
def soup(tmp_path_factory):
    clip = shared_clip("natural/sign_soup_woman_grey_bg.mp4")
    out = tmp_path_factory.mktemp("soup")
    lm = out / "soup.landmarks.npz"
    report = vidhand.analyze(clip, landmarks_out=lm)
    write_report(report, out / "soup.json")
    return clip, out, report


def test_schema_fields_and_types(soup):
    _, out, report = soup
    data = json.loads((out / "soup.json").read_text())
    assert data["schema"] == SCHEMA and isinstance(data["vidhand_version"], str)
    video = data["video"]
    for key, typ in [("path", str), ("sha256", str), ("frame_count", int), ("fps", float),
                     ("fps_rational", str), ("width", int), ("height", int),
                     ("duration_s", float)]:
        assert isinstance(video[key], typ), key
    assert video["decode_error"] is None and len(video["sha256"]) == 64
    assert video["frame_count"] == 41
    assert abs(float(Fraction(video["fps_rational"])) - 29.97) < 0.01
    assert isinstance(data["settings"], dict) and data["settings"]["detector"]["max_hands"] == 2
    for t in data["tracks"]:
        assert set(t) >= {"track_id", "handedness", "first_frame", "last_frame",
                          "frames_observed"}
        assert t["handedness"] in ("left", "right", "unknown")
    s = data["summary"]
    assert s["verdict"] in ("pass", "warn", "fail") and isinstance(s["score"], float)
    assert isinstance(s["event_counts"], dict) and isinstance(s["frames_with_hands"], int)
    assert Report.from_dict(data) == report


def test_landmark_cache_round_trip_gives_identical_report(soup):
    _, out, report = soup
    replay = analyze(from_landmarks=out / "soup.landmarks.npz")
    a, b = report.to_dict(), replay.to_dict()
    assert a == b
    rec = read_landmarks(out / "soup.landmarks.npz")
    assert len(rec.frame_index) == report.video.frame_count
    assert all("px_digits" in f for f in rec.features)  # pixel evidence is cached
    assert all("scene_diff" in f for f in rec.frame_features)


def test_settings_change_reruns_checks_without_video(soup, tmp_path):
    _, out, report = soup
    lm = tmp_path / "copy.landmarks.npz"
    lm.write_bytes((out / "soup.landmarks.npz").read_bytes())
    strict = analyze(from_landmarks=lm, options=AnalysisOptions(profile="strict"))
    assert strict.settings["profile"] == "strict"
    assert strict.tracks == report.tracks


def test_tracked_hand_frames_use_report_ids(soup):
    _, _, report = soup
    frames = tracked_hand_frames(report)
    ids = {h.track_id for hf in frames for h in hf.hands}
    assert ids == {t.track_id for t in report.tracks}


def test_bad_inputs(tmp_path):
    with pytest.raises(VideoOpenFailure):
        analyze(tmp_path / "missing.mp4")
    bad = tmp_path / "x.landmarks.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(LandmarkFileError, match=r"x\.landmarks\.npz"):
        analyze(from_landmarks=bad)
    with pytest.raises(ReportError, match="no such report"):
        read_report(tmp_path / "nope.json")
    (tmp_path / "r.json").write_text('{"schema": "other/9"}')
    with pytest.raises(ReportError, match=r"vidhand\.report/1"):
        read_report(tmp_path / "r.json")
    with pytest.raises(ValueError, match="valid profiles"):
        AnalysisOptions(profile="paranoid")


@pytest.mark.parametrize(("severities", "profile", "verdict"), [
    ([], "balanced", "pass"),
    ([0.2], "balanced", "pass"),
    ([0.2], "strict", "warn"),
    ([0.4], "balanced", "warn"),
    ([0.4, 0.7], "balanced", "fail"),
    ([0.7], "lenient", "warn"),
])
def test_verdict_from_severities(severities, profile, verdict):
    events = [Event(event_id=i, type="hand_vanish", track_id=1, start_frame=0, end_frame=1,
                    start_s=0, end_s=0.1, severity=s, message="m")
              for i, s in enumerate(severities)]
    summary = summarize(events, frames_with_hands=1, tracks=1, profile=profile)
    assert summary.verdict == verdict
    assert summary.score == pytest.approx(float(np.prod([1 - s for s in severities])), abs=1e-4)


def test_write_report_is_atomic(soup, tmp_path, monkeypatch):
    _, _, report = soup
    path = tmp_path / "r.json"
    write_report(report, path)
    before = path.read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_report(report, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("name", ["zoom_two_hands", "sign_soup", "coffee_pour",
                                  "asl_fingerspelling"])
def test_recorded_fixtures_replay_without_mediapipe(name):
    lm = FIXTURES / "landmarks" / f"{name}.landmarks.npz"
    if not lm.exists():
        pytest.skip(f"{lm} missing: run python fixtures/make_landmark_fixtures.py")
    report = analyze(from_landmarks=lm)
    assert report.tracks and report.video.frame_count > 0
    # Real footage without defects: no severe event.
    assert all(e.severity < 0.6 for e in report.events), [e.message for e in report.events]


def test_timeline_series_carry_what_the_checks_compare():
    from vidhand.timeline import hand_series

    lm = FIXTURES / "landmarks" / "asl_fingerspelling.landmarks.npz"
    if not lm.exists():
        pytest.skip(f"{lm} missing: run python fixtures/make_landmark_fixtures.py")
    report = analyze(from_landmarks=lm)
    series = hand_series(report)
    assert set(series) == {t.track_id for t in report.tracks}
    for s in series.values():
        n = len(s.frames)
        assert n == len(s.digits_px) == len(s.digits_lm) == len(s.proportion_drift)
        assert n == len(s.coverage_lost)
        assert all(d >= 0 for d in s.proportion_drift)
        assert all(0 <= v <= 1 for v in s.coverage_lost)
    # The skeleton's prediction is there wherever the pixels were judged.
    judged = [(p, q) for s in series.values() for p, q in zip(s.digits_px, s.digits_lm,
                                                              strict=True) if p >= 0]
    assert judged and all(q >= 0 for _, q in judged)
    assert any(d > 0 for s in series.values() for d in s.proportion_drift)
