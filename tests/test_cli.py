"""The vidhand command line: exit codes, outputs, errors, help."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from fractions import Fraction

import click
import pytest
from click.testing import CliRunner
from conftest import REPO, shared_clip
from helpers import make_frame, make_hand

from vidhand.cli import cli
from vidhand.evidence.landmarks import landmark_features
from vidhand.tracking.cache import LandmarkRecorder


def run(args, **kw):
    return CliRunner().invoke(cli, args, catch_exceptions=False, **kw)


def mirror_flip_landmarks(path):
    """A landmark file whose hand turns into a mirrored left hand for 20 frames."""
    rec = LandmarkRecorder()
    for i in range(90):
        hand = make_hand((300 + 0.5 * i, 240), size_px=140, handedness="right", score=0.97)
        if 40 <= i <= 59:
            px = hand.landmarks_px.copy()
            px[:, 0] = 2 * px[:, 0].mean() - px[:, 0]
            norm = hand.landmarks_norm.copy()
            norm[:, 0] = px[:, 0] / 640
            hand = dataclasses.replace(hand, landmarks_px=px, landmarks_norm=norm,
                                       handedness="left")
        hand = dataclasses.replace(hand, features=landmark_features(hand))
        rec.add(dataclasses.replace(make_frame(i, [hand]),
                                    features={"scene_diff": 0.01, "ghosts": []}))
    rate = Fraction(30)
    rec.write(path, {"video": {"path": "synthetic.mp4", "width": 640, "height": 480,
                               "frame_rate": rate, "frame_count": 90, "duration_s": 3.0,
                               "sha256": "0" * 64, "decode_error": None}, "detector": {}})
    return path


def test_pass_exit_0_and_outputs(tmp_path):
    clip = shared_clip("natural/dyngest_zoom_two_hands_bbox.gif")
    res = run(["check", str(clip), "--out", str(tmp_path), "--export", "csv,otio"])
    assert res.exit_code == 0, res.output
    assert "dyngest_zoom_two_hands_bbox.gif: PASS" in res.output
    stem = tmp_path / "dyngest_zoom_two_hands_bbox"
    assert stem.with_suffix(".json").exists()
    assert (tmp_path / "dyngest_zoom_two_hands_bbox.landmarks.npz").exists()
    assert stem.with_suffix(".csv").exists() and stem.with_suffix(".otio").exists()


def test_findings_exit_1_and_fail_on_level(tmp_path):
    lm = mirror_flip_landmarks(tmp_path / "flip.landmarks.npz")
    res = run(["check", "--from-landmarks", str(lm), "--out", str(tmp_path), "--json",
               "--fail-on", "warn"])
    assert res.exit_code == 1, res.output
    report = json.loads(res.stdout)
    assert report["summary"]["verdict"] in ("warn", "fail")
    assert report["events"][0]["type"] == "handedness_flip"
    # The same findings under a more lenient gate: exit 0 unless the clip fails.
    res = run(["check", "--from-landmarks", str(lm), "--out", str(tmp_path), "--fail-on",
               "fail", "--profile", "lenient"])
    verdict = json.loads((tmp_path / "flip.json").read_text())["summary"]["verdict"]
    assert res.exit_code == (1 if verdict == "fail" else 0)


def test_bad_file_among_several_exit_2_and_others_run(tmp_path):
    clip = shared_clip("natural/sign_soup_woman_grey_bg.mp4")
    bad = tmp_path / "broken.mp4"
    bad.write_text("this is not a video")
    res = run(["check", str(bad), str(tmp_path / "missing.mp4"), str(clip), "--out",
               str(tmp_path / "out")])
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("vidhand: error")]
    assert len(errors) == 2 and "broken.mp4" in errors[0] and "missing.mp4" in errors[1]
    assert (tmp_path / "out" / "sign_soup_woman_grey_bg.json").exists()
    assert "Traceback" not in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["check"], "give at least one VIDEO"),
    (["check", "x.mp4", "--export", "docx"], "valid formats"),
    (["check", "x.mp4", "--profile", "paranoid"], "paranoid"),
    (["check", "--from-landmarks", "nope.npz"], "no such landmark file"),
])
def test_usage_errors_exit_2(args, message, tmp_path):
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_every_command_has_help_with_example():
    names = cli.list_commands(click.Context(cli))
    assert names == ["batch", "check", "export", "render", "synth", "thumbs"]
    for name in names:
        res = run([name, "--help"])
        assert res.exit_code == 0
        assert "Example:" in res.output, name
    assert "Example:" in run(["--help"]).output


def test_import_and_help_do_not_load_mediapipe():
    code = ("import sys, vidhand, vidhand.cli; "
            "assert 'mediapipe' not in sys.modules, 'mediapipe loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_check_does_not_import_the_other_commands():
    """Each start of `vidhand check` imports its own command only; the others are
    imported when they run."""
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from vidhand.cli import cli\n"
            "assert CliRunner().invoke(cli, ['check', '--help']).exit_code == 0\n"
            "loaded = [m for m in ('vidhand.synth', 'vidhand.export', 'vidhand.batch_cli',\n"
            "                      'vidhand.render_cli') if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "res = CliRunner().invoke(cli, ['synth', '--help'])\n"
            "assert res.exit_code == 0 and 'vidhand.synth' in sys.modules, res.output\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]


def test_console_script_and_module_entry_points():
    exe = REPO / ".venv" / "bin" / "vidhand"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "vidhand"]
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("vidhand, version")
    out = subprocess.run([sys.executable, "-m", "vidhand", "check", "/nonexistent.mp4"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "/nonexistent.mp4" in out.stderr
