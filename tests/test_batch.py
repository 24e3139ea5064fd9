"""``vidhand batch`` (issue #6): errors recorded, resume, summaries, the Ray engine."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_clip

from vidhand.batch import CSV_FIELDS, ClipOutcome, collect_clips, run_batch, settings_key
from vidhand.batch_cli import batch_command
from vidhand.pipeline import AnalysisOptions
from vidhand.report import read_report
from vidhand.tracking.model import bundled_model

GOOD = ("natural/sign_soup_woman_grey_bg.mp4", "natural/asl_webcam_fast_motion_blur.mp4")


@pytest.fixture
def clip_dir(tmp_path: Path) -> Path:
    """Two real clips (symlinked, not copied), a truncated MP4 and a text file."""
    d = tmp_path / "renders"
    d.mkdir()
    for rel in GOOD:
        src = shared_clip(rel)
        (d / src.name).symlink_to(src)
    (d / "corrupt.mp4").write_bytes(shared_clip(GOOD[0]).read_bytes()[:3000])
    (d / "notes.txt").write_text("not a video\n")
    (d / ".hidden.mp4").write_text("ignored: hidden\n")
    return d


def _rows(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]
    return {Path(r["clip"]).name: r for r in rows}


def _comparable(rows: dict[str, dict]) -> dict[str, dict]:
    return {k: {f: v for f, v in r.items() if f != "elapsed_s"} for k, r in rows.items()}


def test_collect_clips_expands_dirs_and_globs_and_skips_output(clip_dir: Path) -> None:
    out = clip_dir / "qa"
    out.mkdir()
    (out / "old.json").write_text("{}")
    names = [p.name for p in collect_clips([clip_dir], exclude=out)]
    assert names == ["asl_webcam_fast_motion_blur.mp4", "corrupt.mp4", "notes.txt",
                     "sign_soup_woman_grey_bg.mp4"]
    assert [p.name for p in collect_clips([str(clip_dir / "*.txt")])] == ["notes.txt"]
    with pytest.raises(ValueError, match="no file matches"):
        collect_clips([str(clip_dir / "*.mov")])


def test_a_second_batch_into_the_same_folder_stops_at_once(tmp_path: Path) -> None:
    import fcntl

    from vidhand.batch import LOCK_FILE
    from vidhand.errors import OutputInUse

    renders = tmp_path / "in"
    renders.mkdir()
    (renders / "a.mp4").write_text("not a video\n")
    out = tmp_path / "qa"
    out.mkdir()
    with open(out / LOCK_FILE, "a+") as fh:  # a batch that is still running holds it
        fh.write("4242\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(OutputInUse, match=r"pid 4242.*another --out"):
            run_batch([renders], out, jobs=1)
        res = CliRunner().invoke(batch_command, [str(renders), "--out", str(out)])
        assert res.exit_code == 2 and "another vidhand batch (pid 4242)" in res.output
        assert len(res.output.strip().splitlines()) == 1
        assert not (out / "summary.jsonl").exists()  # nothing of the first one touched
    # The holder ended (its lock went with it): the next batch runs.
    assert run_batch([renders], out, jobs=1).errors == 1


def test_auto_jobs_never_start_more_workers_than_memory_holds(tmp_path: Path,
                                                              monkeypatch) -> None:
    import vidhand.batch as batch

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    1500000 kB\n")
    assert batch.workers_for_memory(meminfo) == 2  # 1464 MB // 600 MB
    meminfo.write_text("MemAvailable:     300000 kB\n")
    assert batch.workers_for_memory(meminfo) == 1  # never none
    assert batch.workers_for_memory(tmp_path / "absent") >= 1 << 16  # unknown: no limit

    seen: list[int] = []

    def record_jobs(todo, options, jobs, on_frames, timeout_s=None):
        seen.append(jobs)
        yield from ()

    monkeypatch.setattr(batch, "_run_local", record_jobs)
    monkeypatch.setattr(batch, "workers_for_memory", lambda: 1)
    monkeypatch.setattr("vidhand.parallel.available_cpus", lambda: 8)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.mp4").write_text("x")
    run_batch([tmp_path / "in"], tmp_path / "qa", jobs=0)
    run_batch([tmp_path / "in"], tmp_path / "qa", jobs=3)
    assert seen == [1, 3]  # --jobs 0 is capped by memory; an explicit --jobs is not


def test_a_rerun_removes_the_temp_files_a_killed_batch_left(tmp_path: Path) -> None:
    import tempfile

    out = tmp_path / "qa"
    out.mkdir()
    # What write_text_atomic leaves when its process is killed before the rename.
    _, stale = tempfile.mkstemp(prefix=".summary.jsonl.", suffix=".tmp", dir=out)
    _, fresh = tempfile.mkstemp(prefix=".clip.json.", suffix=".tmp", dir=out)
    os.utime(stale, (time.time() - 3600,) * 2)
    mine = out / ".notes.tmp"  # not an atomic write's name: not ours to delete
    mine.write_text("keep")
    os.utime(mine, (time.time() - 3600,) * 2)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.mp4").write_text("not a video\n")
    run_batch([tmp_path / "in"], out, jobs=1)
    assert not Path(stale).exists()
    assert Path(fresh).exists(), "a temp file younger than a minute may be a live write"
    assert mine.read_text() == "keep"


def test_report_stems_of_same_named_clips() -> None:
    from vidhand.batch import assign_stems

    clips = [Path("/r/a/render.mp4"), Path("/r/b/render-2.mp4"), Path("/r/c/render.mp4"),
             Path("/r/d/render.mp4")]
    assert list(assign_stems(clips).values()) == ["render", "render-2", "render-3",
                                                  "render-4"]
    # A stem an earlier run recorded stays with its clip and is taken by no other.
    assert list(assign_stems(clips, {"/r/d/render.mp4": "render-3"}).values()) == [
        "render", "render-2", "render-4", "render-3"]
    many = [Path(f"/farm/shot{i:04d}/render.mp4") for i in range(3000)]
    stems = assign_stems(many)
    assert len(set(stems.values())) == 3000 and stems[many[-1]] == "render-3000"


def test_batch_starts_the_largest_clips_first(tmp_path: Path) -> None:
    from vidhand.batch import largest_first

    for name, size in (("a.mp4", 10), ("b.mp4", 300), ("c.mp4", 10), ("d.mp4", 20)):
        (tmp_path / name).write_bytes(b"x" * size)
    order = largest_first([tmp_path / n for n in ("a.mp4", "gone.mp4", "b.mp4", "c.mp4",
                                                   "d.mp4")])
    assert [Path(p).name for p in order] == ["b.mp4", "d.mp4", "a.mp4", "c.mp4", "gone.mp4"]


def test_settings_key_ignores_nothing_that_matters() -> None:
    base = settings_key(AnalysisOptions())
    assert base == settings_key(AnalysisOptions())
    assert base != settings_key(AnalysisOptions(profile="strict"))
    assert base != settings_key(AnalysisOptions(), ["csv"])
    # The hand model counts by its content, not by where the file is.
    a = settings_key(AnalysisOptions(hand_model="/models/a.task"), model_sha256="1" * 64)
    assert a == settings_key(AnalysisOptions(hand_model="/elsewhere/a.task"),
                             model_sha256="1" * 64)
    assert a != settings_key(AnalysisOptions(hand_model="/models/a.task"),
                             model_sha256="2" * 64)


@pytest.mark.shared
@pytest.mark.slow
def test_batch_records_errors_then_resumes(clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "qa"
    res = CliRunner().invoke(batch_command, [str(clip_dir), "--out", str(out), "--jobs", "2",
                                             "--export", "csv"])
    assert res.exit_code == 2, res.output  # clips failed to open -> 2
    rows = _rows(out)
    assert set(rows) == {"asl_webcam_fast_motion_blur.mp4", "corrupt.mp4", "notes.txt",
                         "sign_soup_woman_grey_bg.mp4"}
    for name in ("corrupt.mp4", "notes.txt"):
        assert rows[name]["status"] == "error" and "Cannot open" in rows[name]["error"]
        assert not (out / f"{Path(name).stem}.json").exists()
    for rel in GOOD:
        stem = Path(rel).stem
        row = rows[Path(rel).name]
        report = read_report(out / f"{stem}.json")
        assert row["status"] == "ok" and row["verdict"] == report.summary.verdict
        assert row["frames"] == report.video.frame_count > 0
        assert row["sha256"] == report.video.sha256
        assert Path(report.landmarks_file) == out / f"{stem}.landmarks.npz"
        assert (out / f"{stem}.landmarks.npz").is_file() and (out / f"{stem}.csv").is_file()
    with open(out / "summary.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert tuple(table[0]) == CSV_FIELDS and len(table) == 4
    assert not list(out.glob(".*.tmp"))  # no half-written file left behind

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    again = run_batch([clip_dir], out, jobs=2, formats=["csv"])
    assert (again.skipped, again.done, again.errors) == (2, 0, 2)  # errors are retried
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")} == mtimes
    assert _comparable(_rows(out)) == _comparable(rows)

    # A changed clip or changed settings is analysed again.
    changed = run_batch([clip_dir / Path(GOOD[0]).name], out, jobs=1, formats=[])
    assert (changed.skipped, changed.done) == (0, 1)


def test_batch_cli_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(batch_command, [str(tmp_path / "nothing*.mp4"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no file matches" in res.output
    res = runner.invoke(batch_command, [str(tmp_path), "--out", str(tmp_path / "o"),
                                        "--address", "auto"])
    assert res.exit_code == 2 and "--engine ray" in res.output
    res = runner.invoke(batch_command, [str(tmp_path), "--out", str(tmp_path / "o"),
                                        "--hand-model", str(tmp_path / "missing.task")])
    assert res.exit_code == 2 and "missing.task: cannot read hand model" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    res = runner.invoke(batch_command, ["--help"])
    assert res.exit_code == 0 and "Example:" in res.output


def test_summary_rewrites_wait_in_proportion_to_their_cost(tmp_path: Path) -> None:
    # A clock that moves 0.5 s per reading: a write (two readings) "takes" 0.5 s, so the
    # next may start 10 s after it; rows in between wait and are all there after flush().
    from vidhand.batch import _Summary

    now = [0.0]

    def clock() -> float:
        now[0] += 0.5
        return now[0]

    (tmp_path / "summary.jsonl").write_text(json.dumps({"clip": "/old/run.mp4"}) + "\n")
    clips = [Path(f"/r/c{i}.mp4") for i in range(5)]
    summary = _Summary(tmp_path, clips, clock=clock)
    summary.put({"clip": "/r/c3.mp4", "status": "ok"})
    assert summary.writes == 1  # the first row shows at once
    for i in (0, 4, 1):
        summary.put({"clip": f"/r/c{i}.mp4", "status": "error"})
    assert summary.writes == 1 and len(_rows(tmp_path)) == 2  # waiting for the next write
    now[0] += 20.0
    summary.put({"clip": "/r/c2.mp4", "status": "ok"})
    assert summary.writes == 2
    summary.flush()
    assert summary.writes == 2  # nothing was waiting
    lines = [json.loads(x)["clip"] for x in (tmp_path / "summary.jsonl").read_text().splitlines()]
    # This run's clips in their order, then rows of earlier runs over other clips.
    assert lines == [f"/r/c{i}.mp4" for i in range(5)] + ["/old/run.mp4"]
    assert len((tmp_path / "summary.csv").read_text().splitlines()) == 7


def test_an_interrupted_batch_keeps_every_finished_row(tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C after three clips finished: their rows are in both summaries, even those
    # that were waiting for the next (throttled) write, and no temp file is left.
    import vidhand.batch as batch

    clips = tmp_path / "in"
    clips.mkdir()
    for i in range(5):
        (clips / f"c{i}.mp4").write_text("not a video\n")

    def three_then_ctrl_c(todo, options, jobs, on_frames, timeout_s=None):
        for clip in todo[:3]:
            yield batch.ClipOutcome(clip=str(clip), error="cannot open")
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_run_local", three_then_ctrl_c)
    monkeypatch.setattr(batch._Summary, "WRITE_GAP", 1e9)  # only the first row is written
    out = tmp_path / "qa"
    result = run_batch([clips], out, jobs=1)
    assert result.interrupted and result.errors == 3
    assert sorted(_rows(out)) == ["c0.mp4", "c1.mp4", "c2.mp4"]
    with open(out / "summary.csv", newline="") as fh:
        assert [Path(r["clip"]).name for r in csv.DictReader(fh)] == ["c0.mp4", "c1.mp4",
                                                                      "c2.mp4"]
    assert not list(out.glob(".*.tmp"))


def test_clips_of_one_name_in_many_folders_keep_their_own_reports(tmp_path: Path,
                                                                   monkeypatch) -> None:
    # Render farms name every shot's file alike (shot_a/render.mp4, shot_c/render.mp4).
    # A later run that adds shot_b must not hand shot_b the report shot_c already has,
    # nor may a clip of another folder overwrite a report an earlier run recorded.
    import copy

    import vidhand.batch as batch
    from vidhand.pipeline import file_sha256

    golden = json.loads((Path(__file__).parents[1] / "fixtures" / "golden" /
                         "report.json").read_text())

    def analysed(todo, options, jobs, on_frames, timeout_s=None):
        for clip in todo:
            report = copy.deepcopy(golden)
            report["video"]["path"] = str(clip)
            yield batch.ClipOutcome(clip=str(clip), sha256=file_sha256(clip), report=report)

    monkeypatch.setattr(batch, "_run_local", analysed)
    renders = tmp_path / "renders"
    for shot in ("shot_a", "shot_c"):
        (renders / shot).mkdir(parents=True)
        (renders / shot / "render.mp4").write_text(shot)
    out = tmp_path / "qa"
    run_batch([renders], out, jobs=1)
    (renders / "shot_b").mkdir()
    (renders / "shot_b" / "render.mp4").write_text("shot_b")
    again = run_batch([renders], out, jobs=1)
    assert (again.skipped, again.done) == (2, 1)
    other = tmp_path / "elsewhere" / "render.mp4"
    other.parent.mkdir()
    other.write_text("another folder, the same --out")
    run_batch([other], out, jobs=1)

    def rows() -> list[dict]:
        return [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]

    assert len(rows()) == 4
    assert len({r["report"] for r in rows()}) == 4, "every clip has a report of its own"
    for row in rows():
        assert read_report(row["report"]).video.path == row["clip"]

    # A summary where two clips share one report (as the old naming left it): both run
    # again and each gets its own.
    old = {Path(r["clip"]).parent.name: r for r in rows()}
    old["shot_c"]["report"] = old["shot_a"]["report"]
    (out / "summary.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old.values()))
    healed = run_batch([renders], out, jobs=1)
    assert (healed.skipped, healed.done) == (1, 2)
    assert len({r["report"] for r in rows()}) == 4
    for row in rows():
        assert read_report(row["report"]).video.path == row["clip"]


@contextlib.contextmanager
def _fails_if_it_hangs(seconds: int = 120) -> Iterator[None]:
    """Fail the test, rather than hang the suite, if the block takes ``seconds``."""
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the batch hung"))
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _die_on_bomb(args: tuple[str, AnalysisOptions]) -> ClipOutcome:
    """Per-clip work for the crash test (runs in spawned workers, so it lives at module
    level): a clip named ``bomb`` kills its own process as a native crash would."""
    clip = args[0]
    if "bomb" in Path(clip).name:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)  # long enough that other clips are running when the bomb goes off
    return ClipOutcome(clip=clip, error="analysed")


def test_a_clip_that_kills_its_worker_is_an_error_row_and_the_rest_go_on(tmp_path: Path,
                                                                         ) -> None:
    from vidhand.batch import CRASH_ERROR, _run_local

    names = ["a.mp4", "b.mp4", "bomb.mp4", "c.mp4", "d.mp4", "e.mp4"]
    with _fails_if_it_hangs():
        outcomes = {Path(o.clip).name: o.error
                    for o in _run_local([str(tmp_path / n) for n in names], AnalysisOptions(),
                                        2, None, work=_die_on_bomb)}
    assert sorted(outcomes) == names  # every clip once, none lost with the dead worker
    assert outcomes.pop("bomb.mp4") == CRASH_ERROR
    assert set(outcomes.values()) == {"analysed"}  # its neighbours were retried, not blamed


@pytest.mark.shared
@pytest.mark.slow
def test_a_changed_hand_model_is_analysed_again(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    clip = shared_clip(GOOD[0])
    out = tmp_path / "qa"
    bundled = bundled_model()
    same = tmp_path / "same.task"  # the bundled model's bytes, saved by the user
    same.write_bytes(bundled.data)
    retrained = tmp_path / "retrained.task"  # other bytes (a zip comment), still valid
    buf = io.BytesIO(bundled.data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"retrained"
    retrained.write_bytes(buf.getvalue())
    retrained_sha = hashlib.sha256(retrained.read_bytes()).hexdigest()

    def run(**kw: object) -> tuple[int, int]:
        res = run_batch([clip], out, jobs=1, **kw)  # type: ignore[arg-type]
        return res.done, res.skipped

    assert run() == (1, 0)
    assert run(options=AnalysisOptions(hand_model=str(same))) == (0, 1)  # same content
    monkeypatch.setenv("VIDHAND_HAND_MODEL", str(retrained))
    assert run() == (1, 0)  # the model changed: the report is stale
    detector = read_report(out / f"{clip.stem}.json").settings["detector"]
    assert detector["hand_model_sha256"] == retrained_sha
    monkeypatch.delenv("VIDHAND_HAND_MODEL")
    res = CliRunner().invoke(batch_command, [str(clip), "--out", str(out), "--jobs", "1",
                                             "--hand-model", str(retrained)])
    assert res.exit_code == 0 and "0 analysed, 1 skipped" in res.output


@pytest.mark.shared
@pytest.mark.slow
def test_ray_engine_writes_the_same_summaries_as_local(clip_dir: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed: pip install 'vidhand[ray]' to test --engine ray")
    local = run_batch([clip_dir], tmp_path / "local", jobs=2)
    assert not ray.is_initialized()
    remote = run_batch([clip_dir], tmp_path / "ray", jobs=2, engine="ray")
    assert not ray.is_initialized()  # the engine shuts down the Ray it started
    assert (remote.done, remote.errors) == (local.done, local.errors) == (2, 2)

    def norm(rows: dict[str, dict], root: Path) -> dict[str, dict]:
        return {k: {f: (v.replace(str(root), "OUT") if isinstance(v, str) else v)
                    for f, v in r.items()} for k, r in _comparable(rows).items()}

    assert norm(_rows(tmp_path / "ray"), tmp_path / "ray") == \
        norm(_rows(tmp_path / "local"), tmp_path / "local")
    for rel in GOOD:
        stem = Path(rel).stem
        a = read_report(tmp_path / "local" / f"{stem}.json").to_dict()
        b = read_report(tmp_path / "ray" / f"{stem}.json").to_dict()
        a.pop("landmarks_file"), b.pop("landmarks_file")
        assert a == b


def _hang_on_hang(args: tuple[str, AnalysisOptions]) -> ClipOutcome:
    """Per-clip work for the timeout test: a clip named ``hang`` never finishes."""
    clip = args[0]
    time.sleep(3600 if "hang" in Path(clip).name else 0.2)
    return ClipOutcome(clip=clip, error="analysed")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_clip_past_its_timeout_is_stopped_and_the_rest_go_on(tmp_path: Path,
                                                                jobs: int) -> None:
    from vidhand.batch import _run_local, timeout_error

    names = ["a.mp4", "hang.mp4", "b.mp4", "c.mp4"]
    with _fails_if_it_hangs():  # the hung worker sleeps an hour: it must be killed
        outcomes = {Path(o.clip).name: o.error
                    for o in _run_local([str(tmp_path / n) for n in names], AnalysisOptions(),
                                        jobs, None, work=_hang_on_hang, timeout_s=3.0)}
    assert sorted(outcomes) == sorted(names)
    assert outcomes.pop("hang.mp4") == timeout_error(3.0)
    assert set(outcomes.values()) == {"analysed"}


def test_clip_timeout_must_be_positive(tmp_path: Path) -> None:
    res = CliRunner().invoke(batch_command, [str(tmp_path), "--out", str(tmp_path / "o"),
                                             "--clip-timeout", "0"])
    assert res.exit_code == 2 and "--clip-timeout" in res.output
    with pytest.raises(ValueError, match="positive"):
        run_batch([tmp_path], tmp_path / "o", clip_timeout_s=0)


def test_ray_engine_stops_a_clip_past_its_timeout_and_goes_on(tmp_path: Path) -> None:
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed: pip install 'vidhand[ray]' to test --engine ray")
    from vidhand.batch import timeout_error
    from vidhand.ray_engine import run_ray

    def hang_on_hang(clip: str, options: AnalysisOptions, progress) -> ClipOutcome:
        import time  # shipped by value to Ray's workers

        time.sleep(3600 if "hang" in clip else 0.2)
        return ClipOutcome(clip=clip, error="analysed")

    # One CPU: the clips after the hung one only run once its worker is killed, and the
    # time they wait in Ray's queue must not count against them (a 3 s timeout, and the
    # last one starts after the hung one's 3 s).
    names = ["hang.mp4", "a.mp4", "b.mp4"]
    got: dict[str, str | None] = {}
    with _fails_if_it_hangs():
        run_ray([str(tmp_path / n) for n in names], AnalysisOptions(),
                lambda o: got.__setitem__(Path(o.clip).name, o.error), num_cpus=1,
                task=hang_on_hang, timeout_s=3.0)
    assert not ray.is_initialized()
    assert sorted(got) == sorted(names)
    assert got.pop("hang.mp4") == timeout_error(3.0)
    assert set(got.values()) == {"analysed"}


def test_ray_engine_records_a_clip_that_kills_its_worker_and_goes_on(tmp_path: Path) -> None:
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed: pip install 'vidhand[ray]' to test --engine ray")
    from vidhand.batch import CRASH_ERROR
    from vidhand.ray_engine import run_ray

    def die_on_bomb(clip: str, options: AnalysisOptions, progress) -> ClipOutcome:
        # Defined here so that Ray ships it by value to its workers.
        import os
        import signal

        if "bomb" in clip:
            os.kill(os.getpid(), signal.SIGKILL)
        return ClipOutcome(clip=clip, error="analysed")

    names = ["a.mp4", "bomb.mp4", "b.mp4"]
    got: dict[str, str | None] = {}
    run_ray([str(tmp_path / n) for n in names], AnalysisOptions(),
            lambda o: got.__setitem__(Path(o.clip).name, o.error), num_cpus=2,
            task=die_on_bomb)
    assert not ray.is_initialized()
    assert sorted(got) == sorted(names)
    assert got.pop("bomb.mp4").startswith(CRASH_ERROR)
    assert set(got.values()) == {"analysed"}


def test_ray_engine_reports_frames_as_the_workers_analyse_them(tmp_path: Path) -> None:
    pytest.importorskip(
        "ray", reason="Ray is not installed: pip install 'vidhand[ray]' to test --engine ray")
    from vidhand.ray_engine import run_ray

    def count_frames(clip: str, options: AnalysisOptions, progress) -> ClipOutcome:
        import time  # shipped by value to Ray's workers

        for done in (10, 20, 30):
            progress(done, 30)
            time.sleep(0.7)  # longer than the workers' reporting interval
        return ClipOutcome(clip=clip, error="analysed")

    seen: list[int] = []
    got: list[str | None] = []
    run_ray([str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")], AnalysisOptions(),
            lambda o: got.append(o.error), num_cpus=2, task=count_frames,
            on_frames=seen.append)
    assert got == ["analysed", "analysed"]
    assert seen == sorted(seen) and seen[-1] == 60  # both clips' 30 frames, never back
    assert len(seen) >= 3  # reported while the clips ran, not only at their end
