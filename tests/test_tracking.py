"""MediaPipe hand landmarks through vidhand's tracker: offline model, coordinates,
handedness in the subject's true sense, identities on real two-hand footage."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from fractions import Fraction

import numpy as np
import pytest
from conftest import shared_clip

from vidhand.errors import TrackerUnavailable
from vidhand.tracking import model as model_mod
from vidhand.tracking.identity import IdentityTracker
from vidhand.tracking.mediapipe import MediaPipeTracker
from vidhand.types import Frame
from vidhand.video import open_video


def test_bundle_is_stored_and_4_byte_aligned():
    bundle = model_mod.bundled_model()
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as zf:
        infos = zf.infolist()
        assert sorted(i.filename for i in infos) == ["hand_detector.tflite",
                                                     "hand_landmarks_detector.tflite"]
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            # Data starts after the 30-byte local header, the name and the extra field.
            raw = bundle.data[info.header_offset:info.header_offset + 30]
            name_len = int.from_bytes(raw[26:28], "little")
            extra_len = int.from_bytes(raw[28:30], "little")
            assert (info.header_offset + 30 + name_len + extra_len) % 4 == 0


def test_wrong_model_hash_is_a_clear_error(monkeypatch):
    bad = tuple((p, n, "0" * 64) for p, n, _ in model_mod.BUNDLED_MODELS)
    monkeypatch.setattr(model_mod, "BUNDLED_MODELS", bad)
    with pytest.raises(TrackerUnavailable, match="sha256"):
        model_mod.bundled_model()


@pytest.mark.parametrize(("content", "match"), [
    (None, "cannot read hand model"),
    (b"not a zip", "not a zip"),
    ("empty-zip", "bundle lacks"),
])
def test_user_model_errors(tmp_path, content, match):
    path = tmp_path / "hand.task"
    if content == "empty-zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "x")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(TrackerUnavailable, match=match) as err:
        MediaPipeTracker(model_path=path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_user_task_file_and_env_var(tmp_path, monkeypatch):
    task = tmp_path / "my_hand_landmarker.task"
    task.write_bytes(model_mod.bundled_model().data)
    monkeypatch.setenv(model_mod.ENV_VAR, str(task))
    with MediaPipeTracker() as tracker:
        assert tracker.settings["hand_model"] == str(task)


@pytest.fixture(scope="module")
def zoom_frames():
    clip = shared_clip("natural/dyngest_zoom_two_hands_bbox.gif")
    with open_video(clip) as src, MediaPipeTracker(max_hands=2) as tracker:
        return [tracker.process(f) for f in src]


def test_two_hands_found_with_landmarks_inside_their_box(zoom_frames):
    two = sum(len(hf.hands) == 2 for hf in zoom_frames)
    assert two >= 0.9 * len(zoom_frames)
    for hf in zoom_frames:
        w, h = hf.frame_size_wh
        for hand in hf.hands:
            x0, y0, x1, y1 = hand.bbox_xyxy
            for idx in (0, 4, 8, 12, 16, 20):
                x, y = hand.landmarks_px[idx]
                assert x0 <= x <= x1 and y0 <= y <= y1
            # Landmarks may reach past the border (a hand cut by the frame) but the box
            # must overlap the picture.
            assert x0 < x1 and y0 < y1 and x1 > 0 and y1 > 0 and x0 < w and y0 < h
            assert np.allclose(hand.landmarks_px[:, 0] / w, hand.landmarks_norm[:, 0], atol=1e-4)
            assert hand.world.shape == (21, 3) and np.abs(hand.world).max() < 0.3  # metres
            assert hand.handedness in ("left", "right") and 0.5 <= hand.handedness_score <= 1


def test_identity_on_real_two_hands_clip(zoom_frames):
    ids = IdentityTracker(Fraction(15))
    tracked = [ids.update(hf) for hf in zoom_frames]
    tracks = ids.tracks()
    assert len(tracks) == 2
    assert {t.handedness for t in tracks} == {"left", "right"}
    # No id switch: each id stays on its side of the frame (the hands never cross here).
    side: dict[int, set[bool]] = {}
    for hf in tracked:
        mid = hf.frame_size_wh[0] / 2
        for hand in hf.hands:
            side.setdefault(hand.track_id, set()).add(bool(hand.palm_center_px[0] < mid))
    assert all(len(s) == 1 for s in side.values())
    assert sum(t.frames_observed for t in tracks) >= 1.9 * len(zoom_frames)


def test_handedness_is_the_subjects_true_hand_and_mirrors():
    # Frame 60 of the ASL clip: the signer's RIGHT hand, palm out, on the image's left
    # (checked by eye: thumb towards her body, palm facing the camera).
    clip = shared_clip("natural/asl_fingerspelling_woman_blue_bg.mp4")
    with open_video(clip) as src:
        frames = [f for f in src if f.index <= 60]
    with MediaPipeTracker(max_hands=1) as tracker:
        for f in frames:
            hf = tracker.process(f)
    (hand,) = hf.hands
    assert hand.handedness == "right"
    assert hand.palm_center_px[0] < frames[-1].image.shape[1] / 2
    mirrored = Frame(index=0, pts_s=0.0, image=np.ascontiguousarray(frames[-1].image[:, ::-1]))
    with MediaPipeTracker(max_hands=1) as tracker:
        (flipped,) = tracker.process(mirrored).hands
    assert flipped.handedness == "left"


def test_timestamps_need_not_be_distinct():
    image = np.zeros((120, 160, 3), np.uint8)
    with MediaPipeTracker() as tracker:
        for i in range(3):  # identical pts (e.g. a broken container) must not crash VIDEO mode
            assert tracker.process(Frame(index=i, pts_s=0.0, image=image)).hands == ()
    with pytest.raises(RuntimeError, match="closed"):
        tracker.process(Frame(index=4, pts_s=1.0, image=image))


def test_mediapipe_import_leaves_matplotlib_for_later() -> None:
    """Creating a tracker does not import matplotlib (0.6-0.9 s of every start), and
    pyplot still works afterwards in the same process."""
    code = (
        "import sys\n"
        "from vidhand.tracking.mediapipe import MediaPipeTracker\n"
        "MediaPipeTracker(max_hands=1).close()\n"
        "assert 'matplotlib.figure' not in sys.modules, 'matplotlib was imported'\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "fig = plt.figure()\n"
        "from mediapipe.python.solutions import drawing_utils\n"
        "assert drawing_utils.plt.figure is plt.figure\n"
        "print(type(fig).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "Figure"
