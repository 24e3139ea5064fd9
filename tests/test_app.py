"""The Streamlit dashboard (app.py) in-process with ``streamlit.testing.v1.AppTest``.

AppTest has no file uploader, so the tests open clips through the server-folder picker
(``VIDHAND_CLIPS_DIR`` pointing at a temp folder that links a shared clip). MediaPipe
runs for real; a counter on ``MediaPipeTracker.__init__`` proves that changing the
profile re-runs only the checks over the cached landmarks.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, shared_clip

from vidhand import dashboard as dash

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

APP = str(REPO / "app.py")
CLIP = "generated/mimicmotion_halfbody_gestures_hb0.mp4"  # 2.4 s, large hands: fast


@pytest.fixture
def tracker_count(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count MediaPipe tracker constructions (one per detection run)."""
    from vidhand.tracking import mediapipe as mp_tracking

    calls = [0]
    original = mp_tracking.MediaPipeTracker.__init__

    def counting_init(self, *args, **kwargs):
        calls[0] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(mp_tracking.MediaPipeTracker, "__init__", counting_init)
    return calls


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clip folder and an empty cache for one test; a fresh job runner."""
    import streamlit as st

    clips = tmp_path / "clips"
    clips.mkdir()
    monkeypatch.setenv("VIDHAND_CLIPS_DIR", str(clips))
    monkeypatch.setenv("VIDHAND_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield clips
    st.cache_resource.clear()


def open_clip(at: AppTest, name: str, timeout_s: float = 50.0) -> AppTest:
    """Pick ``name`` in the server-folder picker and rerun until the analysis finished."""
    at.radio(key="source").set_value("Server folder").run()
    at.multiselect(key="server_clips").set_value([name]).run()
    return wait_done(at, timeout_s)


def wait_done(at: AppTest, timeout_s: float = 50.0) -> AppTest:
    deadline = time.monotonic() + timeout_s
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception
    assert not at.get("progress"), "analysis did not finish in time"
    return at


def verdict_html(at: AppTest) -> str:
    found = [m.value for m in at.markdown if 'data-testid="vh-verdict"' in m.value]
    assert found, "no verdict block on the page"
    return found[0]


def player_time(at: AppTest) -> float:
    """The start time (s) the page tells the browser's <video> to seek to."""
    import re

    scripts = [h.proto.body for h in at.get("html") if "st-key-player" in h.proto.body]
    assert len(scripts) == 1, "expected one player seek script"
    return float(re.search(r"t = ([0-9.]+)", scripts[0]).group(1))


def caption_texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_folder_clip_shows_results_and_profile_change_does_not_redetect(
        app_env: Path, tracker_count: list[int]):
    (app_env / "hb0.mp4").symlink_to(shared_clip(CLIP))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    at = open_clip(at, "hb0.mp4")
    assert tracker_count[0] == 1

    html = verdict_html(at)
    assert any(v in html for v in ("PASS", "WARN", "FAIL"))
    assert "profile balanced" in html
    assert [m.label for m in at.metric] == ["Score", "Events", "Hands tracked",
                                            "Frames with hands"]
    assert "analysed in" in caption_texts(at)
    assert at.get("vega_lite_chart"), "the drift timeline is missing"
    inspect_key = next(k for k in at.session_state.filtered_state if k.startswith("inspect::"))
    options = at.selectbox(key=inspect_key).options
    assert options, "the inspector lists nothing"
    assert at.get("video"), "the player is missing"

    # Picking another target moves the player (the seek script carries the exact time).
    first = player_time(at)
    at.selectbox(key=inspect_key).set_value(options[-1]).run()
    assert player_time(at) != first or len(options) == 1
    assert f"{player_time(at):.2f} s" in " ".join(c.value for c in at.caption)

    # Strict profile: only the checks re-run, on the cached landmarks.
    at.button_group(key="profile").set_value("strict").run()
    wait_done(at)
    assert "profile strict" in verdict_html(at)
    assert "checks re-run on cached landmarks" in caption_texts(at)
    assert tracker_count[0] == 1, "changing the profile re-ran MediaPipe"

    # A threshold of the identity stage: still no detection.
    at.slider(key="max_gap_s").set_value(0.5).run()
    wait_done(at)
    assert tracker_count[0] == 1

    # A new session after a server restart (memory caches cleared) reads the disk cache.
    import streamlit as st

    st.cache_resource.clear()
    again = open_clip(AppTest.from_file(APP, default_timeout=30).run(), "hb0.mp4")
    assert "from cache" in caption_texts(again)
    assert tracker_count[0] == 1


def test_several_clips_give_a_verdict_table(app_env: Path, tracker_count: list[int]):
    (app_env / "a.mp4").symlink_to(shared_clip(CLIP))
    (app_env / "b.mp4").symlink_to(shared_clip(CLIP))  # same bytes: one detection
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.radio(key="source").set_value("Server folder").run()
    at.multiselect(key="server_clips").set_value(["a.mp4", "b.mp4"]).run()
    wait_done(at)
    assert tracker_count[0] == 1
    open_buttons = [b for b in at.button if b.key and b.key.startswith("open::")]
    assert len(open_buttons) == 2
    assert "#### Clips" in caption_texts(at)
    open_buttons[1].click().run()
    assert at.markdown and "### b.mp4" in caption_texts(at)


def test_clip_without_hands_says_so(app_env: Path):
    import av

    path = app_env / "empty.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(10):
            img = np.full((120, 160, 3), 90 + i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    at = open_clip(AppTest.from_file(APP, default_timeout=30).run(), "empty.mp4")
    assert any("No hands found" in w.value for w in at.warning)
    assert not at.get("video"), "nothing to inspect, so no player"


def test_landing_page_without_clips(app_env: Path):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("Find where the hands break" in m.value for m in at.markdown)


# --- the UI-agnostic rules behind the page -------------------------------------------


@pytest.mark.parametrize(("name", "size", "message"), [
    ("clip.mp4", 10, None),
    ("CLIP.MOV", 10, None),
    ("notes.txt", 10, "not a supported video"),
    ("clip", 10, "no extension"),
    ("clip.webm", 0, "empty"),
    ("big.mp4", 3 * 1024 * 1024, "over the 2 MB limit"),
])
def test_check_upload(name: str, size: int, message: str | None):
    if message is None:
        dash.check_upload(name, size, limit_mb=2)
    else:
        with pytest.raises(dash.InputRejected, match=message):
            dash.check_upload(name, size, limit_mb=2)


def test_upload_limit_from_env_is_capped_by_streamlit(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VIDHAND_MAX_UPLOAD_MB", "50")
    assert dash.max_upload_mb(None) == 50
    assert dash.max_upload_mb(20) == 20
    monkeypatch.delenv("VIDHAND_MAX_UPLOAD_MB")
    assert dash.max_upload_mb(None) == dash.DEFAULT_MAX_UPLOAD_MB


def test_not_a_video_is_rejected_with_a_message(tmp_path: Path):
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is not a video" * 100)
    with pytest.raises(dash.InputRejected, match="could not be read as a video"):
        dash.probe_video(fake)


def test_server_folder_never_opens_a_path_outside(tmp_path: Path):
    root = tmp_path / "clips"
    (root / "sub").mkdir(parents=True)
    (root / "a.mp4").write_bytes(b"x")
    (root / "sub" / "b.webm").write_bytes(b"x")
    (root / "readme.txt").write_bytes(b"x")
    (root / ".hidden.mp4").write_bytes(b"x")
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (root / "escape").symlink_to(tmp_path, target_is_directory=True)
    assert dash.list_clips(root) == ["a.mp4", "sub/b.webm"]
    assert dash.resolve_clip(root, "sub/b.webm") == root / "sub" / "b.webm"
    for bad in ["../secret.mp4", str(outside), "escape/secret.mp4", ".hidden.mp4",
                "readme.txt", "missing.mp4", "sub/../../secret.mp4", ""]:
        with pytest.raises(dash.InputRejected):
            dash.resolve_clip(root, bad)


def test_cache_keys_split_detection_from_checks():
    from vidhand.pipeline import AnalysisOptions

    base = AnalysisOptions()
    strict = AnalysisOptions(profile="strict", max_gap_s=0.5, check_options={"x": 1})
    assert dash.detection_key(base) == dash.detection_key(strict)
    assert dash.checks_key(base) != dash.checks_key(strict)
    assert dash.detection_key(base) != dash.detection_key(AnalysisOptions(max_side=640))
