"""Backend conformance tests for vidhand.video (PySceneDetect tests/test_video_stream.py style).

Every test runs on every backend in ``AVAILABLE_BACKENDS``: on the real clips in
``../shared/clips`` (skipped when that folder is absent) and on the synthetic clips
of ``fixtures/make_fixtures.py``, generated once per session into a temp dir.
"""

from __future__ import annotations

import csv
import functools
import gc
import importlib.util
import inspect
import itertools
import subprocess
import sys
import weakref
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from vidhand.errors import VideoOpenFailure
from vidhand.types import VideoInfo
from vidhand.video import AVAILABLE_BACKENDS, open_video

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO.parent / "shared" / "clips"
BACKENDS = sorted(AVAILABLE_BACKENDS)


def _load_make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", REPO / "fixtures" / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mf = _load_make_fixtures()


@pytest.fixture(scope="session")
def synthetic_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Name -> path of every clip of fixtures/make_fixtures.py (see MAKERS there)."""
    return mf.make_all(tmp_path_factory.mktemp("videos"))


# --- real clips in ../shared/clips -----------------------------------------------------

def _shared_params() -> list:
    if not SHARED_CLIPS.is_dir():
        reason = (f"../shared/clips not found: {SHARED_CLIPS} is absent, so the tests on "
                  f"real footage are skipped (clone the shared clips beside the repository)")
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-shared-clips")]
    clips = sorted([*SHARED_CLIPS.glob("**/*.mp4"), *SHARED_CLIPS.glob("**/*.gif")])
    return [pytest.param(p, id=p.name, marks=pytest.mark.shared) for p in clips]


SHARED_PARAMS = _shared_params()


@functools.cache
def _manifest() -> dict[str, dict[str, str]]:
    with open(SHARED_CLIPS / "MANIFEST.tsv", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


@dataclass(frozen=True)
class Decoded:
    """What one full pass of one backend over one clip produced."""

    info: VideoInfo
    count: int
    pts_s: tuple[float, ...]
    indices_ok: bool
    images_ok: bool
    thumb: np.ndarray
    decode_error: str | None


@functools.cache
def _decode(backend: str, path: Path) -> Decoded:
    """Decode every frame of ``path`` at full size, checking each image on the way."""
    pts, indices_ok, images_ok, thumb = [], True, True, None
    with open_video(path, backend=backend) as src:
        info = src.info
        for n, frame in enumerate(src):
            img = frame.image
            indices_ok &= frame.index == n
            images_ok &= (img.shape == (info.height, info.width, 3) and img.dtype == np.uint8
                          and img.flags.c_contiguous and frame.scale == 1.0)
            if thumb is None:
                thumb = cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA)
            pts.append(frame.pts_s)
        assert thumb is not None
        return Decoded(src.info, len(pts), tuple(pts), indices_ok, images_ok, thumb,
                       src.decode_error)


@pytest.mark.parametrize("clip", SHARED_PARAMS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_shared_clip_conformance(backend: str, clip: Path) -> None:
    d = _decode(backend, clip)
    row = _manifest()[clip.relative_to(SHARED_CLIPS).as_posix()]
    assert d.decode_error is None
    assert d.indices_ok and d.images_ok
    assert isinstance(d.info.frame_rate, Fraction)
    assert abs(float(d.info.frame_rate) - float(row["fps"])) <= 0.1
    assert (d.info.width, d.info.height) == (int(row["width"]), int(row["height"]))
    # All shared clips carry an exact frame count (mp4 sample table, GIF frame count).
    assert d.count == d.info.frame_count
    assert abs(d.count - float(row["duration_s"]) * float(row["fps"])) <= 2
    assert d.pts_s[0] == pytest.approx(0.0, abs=1e-6)
    assert all(b > a for a, b in itertools.pairwise(d.pts_s)), "timestamps not increasing"
    assert d.info.is_vfr is False  # none of the shared clips has irregular timestamps


@pytest.mark.parametrize("clip", SHARED_PARAMS)
def test_shared_backends_agree(clip: Path) -> None:
    results = {b: _decode(b, clip) for b in BACKENDS}
    ref_name, ref = next(iter(results.items()))
    for name, d in results.items():
        assert d.count == ref.count, f"{name} vs {ref_name}"
        np.testing.assert_allclose(d.pts_s, ref.pts_s, atol=1e-3)
        # Same orientation and channel order: the thumbnails differ only by colour
        # conversion (OpenCV always uses BT.601, PyAV honours BT.709 tags: up to ~5
        # levels on the HD clips), and much less than with the channels swapped.
        a, b = d.thumb.astype(int), ref.thumb.astype(int)
        diff, swapped = np.abs(a - b).mean(), np.abs(a - b[..., ::-1]).mean()
        assert diff < 8.0 and diff < 0.5 * swapped, (
            f"{name} vs {ref_name}: first frames differ by {diff:.1f} levels "
            f"({swapped:.1f} with R and B swapped)")


def test_shared_timecode_tag() -> None:
    clip = SHARED_CLIPS / "natural" / "sam2_cups_shell_game_two_hands.mp4"
    if not clip.exists():
        pytest.skip(f"../shared/clips not found: {clip} is absent")
    with open_video(clip) as src:
        assert src.info.start_timecode == "00:00:00:00"


# --- synthetic clips --------------------------------------------------------------------

def _frames(path: Path, backend: str, **kwargs) -> tuple[list, VideoInfo, str | None]:
    with open_video(path, backend=backend, **kwargs) as src:
        frames = list(src)
        assert src.read() is None  # stays exhausted
        return frames, src.info, src.decode_error


@pytest.mark.parametrize("backend", BACKENDS)
def test_cfr(backend: str, synthetic_videos: dict[str, Path]) -> None:
    frames, info, err = _frames(synthetic_videos["cfr"], backend)
    assert err is None
    assert info.frame_rate == Fraction(24000, 1001)
    assert (info.frame_count, info.width, info.height, info.is_vfr) == (48, 160, 120, False)
    assert info.backend == backend
    assert [f.index for f in frames] == list(range(48))
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(48))
    tol = 1e-9 if backend == "pyav" else 1e-3  # OpenCV reports milliseconds
    np.testing.assert_allclose([f.pts_s for f in frames],
                               [i * 1001 / 24000 for i in range(48)], atol=tol)


@pytest.mark.parametrize("name", ["vfr_mp4", "vfr_mkv"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_vfr_keeps_irregular_pts(backend: str, name: str,
                                 synthetic_videos: dict[str, Path]) -> None:
    frames, info, err = _frames(synthetic_videos[name], backend)
    assert err is None
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(len(mf.VFR_PTS_MS)))
    np.testing.assert_allclose([f.pts_s for f in frames],
                               [t / 1000 for t in mf.VFR_PTS_MS], atol=1e-6)
    assert info.is_vfr is True


def test_vfr_detected_at_open_from_mp4_index(synthetic_videos: dict[str, Path]) -> None:
    with open_video(synthetic_videos["vfr_mp4"]) as src:
        assert src.info.is_vfr is True
        assert src.info.frame_rate == Fraction(24, Fraction(1480, 1000))  # mean rate


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_pts_are_derived_from_rate(backend: str,
                                           synthetic_videos: dict[str, Path]) -> None:
    frames, info, err = _frames(synthetic_videos["raw_h264"], backend)
    assert err is None and info.frame_rate == 25
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(20))
    np.testing.assert_allclose([f.pts_s for f in frames], np.arange(20) / 25, atol=1e-6)


@pytest.mark.parametrize("max_side", [None, 80])
@pytest.mark.parametrize("backend", BACKENDS)
def test_rotated_clip_is_upright(backend: str, max_side: int | None,
                                 synthetic_videos: dict[str, Path]) -> None:
    frames, info, _ = _frames(synthetic_videos["rotated"], backend, max_side=max_side)
    assert (info.width, info.height, info.rotation_deg) == (120, 160, mf.ROTATED_CW_DEG)
    expected_hw = (160, 120) if max_side is None else (80, 60)
    img = frames[0].image
    assert img.shape == (*expected_hw, 3) and img.flags.c_contiguous
    # The red marker drawn top-left of the stored picture is top-right once turned 90 cw.
    h, w = expected_hw
    corners = {"tl": img[: h // 10, : w // 10], "tr": img[: h // 10, -(w // 10):],
               "bl": img[-(h // 5): -(h // 6), : w // 10]}
    red = {k: c[..., 0].mean() - c[..., 1].mean() for k, c in corners.items()}
    assert red["tr"] > 100 and red["tl"] < 30 and red["bl"] < 30, red
    assert [mf.read_frame_number(np.rot90(f.image)) for f in frames] == list(range(12))


@pytest.mark.parametrize(("name", "size_wh", "pix_fmt"), [
    ("odd_size", (321, 241), "yuv420p"),
    ("10bit", (160, 120), "yuv420p10le"),
    ("yuv444", (160, 120), "yuv444p"),
    ("gif", (160, 120), "bgra"),
])
@pytest.mark.parametrize("backend", BACKENDS)
def test_formats_decode(backend: str, name: str, size_wh: tuple[int, int], pix_fmt: str,
                        synthetic_videos: dict[str, Path]) -> None:
    frames, info, err = _frames(synthetic_videos[name], backend)
    assert err is None
    assert (info.width, info.height) == size_wh
    assert all(f.image.shape == (size_wh[1], size_wh[0], 3) for f in frames)
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(12))
    if backend == "pyav":  # OpenCV reports a FOURCC instead (I420, BGRA, ...)
        assert info.pix_fmt == pix_fmt
    if name == "gif":
        assert info.frame_rate == 10
        np.testing.assert_allclose([f.pts_s for f in frames], np.arange(12) / 10, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_side_downscales_with_scale_factor(backend: str,
                                               synthetic_videos: dict[str, Path]) -> None:
    frames, info, _ = _frames(synthetic_videos["odd_size"], backend, max_side=160)
    assert (info.width, info.height) == (321, 241)  # info stays in source pixels
    for f in frames:
        assert f.image.shape == (120, 160, 3)
        assert f.scale == pytest.approx(321 / 160)
        assert f.source_size_wh == (321, 241)
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(12))
    frames, _, _ = _frames(synthetic_videos["odd_size"], backend, max_side=1000)
    assert frames[0].scale == 1.0 and frames[0].image.shape == (241, 321, 3)
    with pytest.raises(ValueError, match="max_side"):
        open_video(synthetic_videos["odd_size"], backend=backend, max_side=8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_timecode(backend: str, synthetic_videos: dict[str, Path]) -> None:
    with open_video(synthetic_videos["timecode"], backend=backend) as src:
        expected = "01:00:00:00" if backend == "pyav" else None  # OpenCV cannot read tags
        assert src.info.start_timecode == expected


@pytest.mark.parametrize("name", [
    "missing", "directory", "zero_byte", "not_a_video", "audio_only", "truncated"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_raises_one_line_error(backend: str, name: str, tmp_path: Path,
                                         synthetic_videos: dict[str, Path]) -> None:
    if name == "missing":
        path = tmp_path / "no_such_clip.mp4"
    elif name == "directory":
        path = tmp_path / "a_folder.mp4"
        path.mkdir()
    else:
        path = synthetic_videos[name]
    with pytest.raises(VideoOpenFailure) as excinfo:
        open_video(path, backend=backend)
    message = str(excinfo.value)
    assert path.name in message
    assert "\n" not in message and message == message.strip()


@pytest.mark.parametrize(("name", "max_good"), [("truncated_faststart", 20),
                                                ("corrupt_midstream", 24)])
@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_break_yields_frames_then_records_error(
        backend: str, name: str, max_good: int, synthetic_videos: dict[str, Path]) -> None:
    path = synthetic_videos[name]
    frames, _, err = _frames(path, backend)
    assert 5 <= len(frames) <= max_good
    # The frames before the break are the right ones, in order.
    assert [mf.read_frame_number(f.image) for f in frames] == list(range(len(frames)))
    assert err is not None and path.name in err and "\n" not in err


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_are_streamed_not_held(backend: str, synthetic_videos: dict[str, Path]) -> None:
    with open_video(synthetic_videos["cfr"], backend=backend) as src:
        iterator = iter(src)
        assert inspect.isgenerator(iterator)
        alive = []
        refs = []
        for frame in iterator:
            refs.append(weakref.ref(frame.image))
            del frame
            gc.collect()
            alive.append(sum(r() is not None for r in refs))
        assert len(refs) == 48
        assert max(alive) <= 2, alive  # the source keeps at most the frame it buffers


def test_unknown_backend_lists_valid_names(synthetic_videos: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="pyav") as excinfo:
        open_video(synthetic_videos["cfr"], backend="gstreamer")
    assert all(name in str(excinfo.value) for name in AVAILABLE_BACKENDS)
    assert {"pyav", "opencv"} <= set(AVAILABLE_BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_close_twice_then_read_returns_none(backend: str,
                                            synthetic_videos: dict[str, Path]) -> None:
    src = open_video(synthetic_videos["cfr"], backend=backend)
    assert src.read() is not None
    src.close()
    src.close()
    assert src.read() is None


def test_ffmpeg_does_not_write_to_stderr(synthetic_videos: dict[str, Path]) -> None:
    """Decoding corrupt data with either backend leaves stderr clean (fresh process)."""
    code = (
        "import logging, sys\n"
        "logging.getLogger('vidhand').addHandler(logging.NullHandler())\n"
        "from vidhand.video import AVAILABLE_BACKENDS, open_video\n"
        "for b in AVAILABLE_BACKENDS:\n"
        "    for p in sys.argv[1:]:\n"
        "        try:\n"
        "            with open_video(p, backend=b) as s:\n"
        "                n = sum(1 for _ in s)\n"
        "        except Exception as e:\n"
        "            print(type(e).__name__)\n"
    )
    paths = [str(synthetic_videos[n]) for n in ("corrupt_midstream", "not_a_video", "audio_only")]
    proc = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True,
                          text=True, timeout=60, check=True)
    assert proc.stderr == ""
    assert proc.stdout.split() == ["VideoOpenFailure"] * 2 * len(AVAILABLE_BACKENDS)


def test_decode_threads_changes_threads_not_frames():
    from conftest import shared_clip

    path = shared_clip("natural/sign_soup_woman_grey_bg.mp4")
    with open_video(path) as src:
        ref = [(f.index, f.pts_s, f.image[::17, ::13].copy()) for f in src]
    with open_video(path, decode_threads=1) as src:
        assert src._stream.thread_count == 1
        got = [(f.index, f.pts_s, f.image[::17, ::13].copy()) for f in src]
    assert [g[:2] for g in got] == [r[:2] for r in ref]
    assert all(np.array_equal(g[2], r[2]) for g, r in zip(got, ref, strict=True))
    with open_video(path, backend="opencv", decode_threads=1) as src:  # ignored there
        assert sum(1 for _ in src) == len(ref)
