"""Exporters: round trips through the OTIO adapters (or a small parser), goldens, CLI.

Every NLE format is written, read back, and each marker's start and length in frames is
compared with the report's events, at 23.976, 24, 25, 29.97 DF, 30, 50, 59.94 DF and 60 fps.
What an adapter cannot read is checked with a parser here instead:

- cmx_3600 skips ``* LOC:`` lines whose timecode uses ``;`` (its regex wants four ``:``
  fields), so at drop-frame rates LOC lines are parsed here; it also ignores ``FCM:``.
  Locators are point markers, so no adapter (and no parser) gets their duration back.
- fcpx_xml counts frames with ``int(fps)`` (29 at 29.97) and truncates float products
  (``int(29/25*25) == 28``), so its frame numbers are exact only at 24 fps; FCPXML is
  parsed here with exact fractions at every rate.
- No adapter reads the Resolve marker EDL's ``|C: |M: |D:`` lines.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from click.testing import CliRunner
from opentimelineio import opentime

from vidhand.errors import ExportError, ReportError
from vidhand.export import EXPORTERS, SUFFIXES, default_export_path, export_report
from vidhand.export.cli import export_command
from vidhand.export.timecode import frame_to_timecode, is_drop_frame, parse_timecode
from vidhand.report import Report, VideoSummary, summarize, write_report
from vidhand.types import Event, Track

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "fixtures" / "golden"

RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97DF": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94DF": Fraction(60000, 1001),
    "60": Fraction(60),
}
RATE_PARAMS = [pytest.param(r, id=k) for k, r in RATES.items()]
START_TCS = [pytest.param(None, id="tc0"), pytest.param("01:00:00:00", id="tc1h")]
NLE_FORMATS = ("otio", "resolve-edl", "cmx3600", "fcp7xml", "fcpxml")


def make_report(rate: Fraction, frame_count: int, events: list[tuple], *,
                start_tc: str | None = None, is_vfr: bool = False,
                duration_s: float | None = None, profile: str = "balanced") -> Report:
    """Build a report; ``events`` are ``(type, track_id, start, end, severity, message)``."""
    evs = tuple(
        Event(event_id=i, type=t, track_id=tid, start_frame=s, end_frame=e,
              start_s=float(s / rate), end_s=float(e / rate), severity=sev, message=msg,
              evidence={"frames": e - s + 1})
        for i, (t, tid, s, e, sev, msg) in enumerate(events))
    video = VideoSummary(
        path="/clips/hand shot.mp4", sha256="0" * 64, frame_count=frame_count,
        fps=float(rate), fps_rational=f"{rate.numerator}/{rate.denominator}",
        width=1280, height=720,
        duration_s=duration_s if duration_s is not None else float(frame_count / rate),
        start_timecode=start_tc, is_vfr=is_vfr)
    tracks = (Track(1, "left", 0, frame_count - 1, frame_count),
              Track(2, "right", 0, frame_count - 1, frame_count))
    return Report(video=video, settings={"profile": profile}, tracks=tracks, events=evs,
                  summary=summarize(evs, frames_with_hands=frame_count, tracks=2))


def standard_report(rate: Fraction, start_tc: str | None = None) -> Report:
    """Events at frame 0, across the first minute (drop-frame boundary), and the last frame."""
    minute = round(rate) * 60  # frame 1800 at 29.97, 3600 at 59.94: first dropped label
    frames = minute + 240
    return make_report(rate, frames, [
        ("hand_vanish", 1, 0, 0, 0.2, "left hand gone for one frame"),
        ("extra_finger", 2, minute - 5, minute + 5, 0.9, 'six fingers <b>&"bold"</b> | x'),
        ("proportion_drift", 2, 100, 129, 0.45, "3 fingers grow"),
        ("low_confidence", None, frames - 1, frames - 1, 0.05, "last frame"),
    ], start_tc=start_tc)


def expected(report: Report) -> list[tuple[str, int, int]]:
    """``(type, start_frame, duration_frames)`` of each event, in time order."""
    return sorted(((e.type, e.start_frame, e.end_frame - e.start_frame + 1)
                   for e in report.events), key=lambda x: (x[1], x[0]))


def start_frames(report: Report, start_tc: str | None) -> int:
    return parse_timecode(start_tc, report.frame_rate) if start_tc else 0


def frames_of(t: opentime.RationalTime, rate: Fraction) -> int:
    return round(t.value_rescaled_to(float(rate)))


# --------------------------------------------------------------------------- timecode

@pytest.mark.parametrize(("rate", "frame", "tc"), [
    (Fraction(30000, 1001), 1799, "00:00:59;29"),
    (Fraction(30000, 1001), 1800, "00:01:00;02"),
    (Fraction(30000, 1001), 17982, "00:10:00;00"),
    (Fraction(60000, 1001), 3600, "00:01:00;04"),
    (Fraction(24000, 1001), 1800, "00:01:15:00"),
    (Fraction(25), 1800, "00:01:12:00"),
    (Fraction(30), 1800, "00:01:00:00"),
])
def test_timecode_labels(rate, frame, tc):
    assert frame_to_timecode(frame, rate) == tc
    assert parse_timecode(tc, rate) == frame


def test_drop_frame_only_at_2997_and_5994():
    assert [k for k, r in RATES.items() if is_drop_frame(r)] == ["29.97DF", "59.94DF"]


def test_start_tc_separator_follows_the_rate():
    rate = Fraction(30000, 1001)
    assert parse_timecode("01:00:00:00", rate) == parse_timecode("01:00:00;00", rate) == 107892
    assert frame_to_timecode(0, rate, 107892) == "01:00:00;00"
    assert parse_timecode("01:00:00;00", Fraction(25)) == 90000


@pytest.mark.parametrize(("tc", "rate"), [
    ("1:00:00:00", Fraction(25)),
    ("00:00:00:25", Fraction(25)),
    ("00:00:00;30", Fraction(30000, 1001)),
    ("01:00:00:00", Fraction(16)),
])
def test_bad_start_tc_raises_export_error(tc, rate, tmp_path):
    report = make_report(rate, 10, [])
    with pytest.raises(ExportError):
        export_report(report, "cmx3600", tmp_path / "x.edl", start_tc=tc)


def test_timecode_past_24h_raises(tmp_path):
    report = make_report(Fraction(25), 100, [("hand_vanish", 1, 90, 99, 0.5, "m")])
    with pytest.raises(ExportError, match="24:00:00:00"):
        export_report(report, "resolve-edl", tmp_path / "x.edl", start_tc="23:59:59:00")


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_otio_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    path = export_report(report, "otio", tmp_path / "r.otio")
    tl = otio.adapters.read_from_file(str(path), adapter_name="otio_json")
    (clip,) = tl.find_clips()
    origin = start_frames(report, start_tc)
    assert clip.source_range.start_time.rate == pytest.approx(float(rate))
    assert frames_of(clip.source_range.start_time, rate) == origin
    assert frames_of(clip.source_range.duration, rate) == report.video.frame_count
    assert clip.media_reference.available_range == clip.source_range
    assert clip.media_reference.target_url == "file:///clips/hand%20shot.mp4"
    assert frames_of(tl.global_start_time, rate) == origin
    got = [(m.name, frames_of(m.marked_range.start_time, rate) - origin,
            frames_of(m.marked_range.duration, rate)) for m in clip.markers]
    assert got == expected(report)
    by_type = {m.name: m for m in clip.markers}
    assert by_type["extra_finger"].color == otio.schema.MarkerColor.RED
    assert by_type["proportion_drift"].color == otio.schema.MarkerColor.YELLOW
    assert by_type["hand_vanish"].color == otio.schema.MarkerColor.GREEN
    assert by_type["extra_finger"].comment == 'six fingers <b>&"bold"</b> | x'
    meta = by_type["extra_finger"].metadata["vidhand"]
    assert (meta["track_id"], meta["handedness"], meta["evidence"]) == (2, "right", {"frames": 11})
    assert by_type["low_confidence"].metadata["vidhand"]["track_id"] is None


@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_cmx3600_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    path = export_report(report, "cmx3600", tmp_path / "r.edl")
    text = path.read_text()
    df = is_drop_frame(rate)
    assert ("FCM: DROP FRAME" if df else "FCM: NON-DROP FRAME") in text.splitlines()[1]
    origin = start_frames(report, start_tc)

    tl = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=float(rate))
    (clip,) = tl.find_clips()
    # The adapter reads ";" event timecode as drop-frame, so the clip is exact at every rate.
    assert frames_of(clip.source_range.start_time, rate) == origin
    assert frames_of(clip.source_range.duration, rate) == report.video.frame_count
    assert clip.name == "hand shot.mp4"

    want = [(t, s) for t, s, _ in expected(report)]
    locs = [re.match(r"\* LOC: (\S+) +(\w+) +(\w+), (\d+) fr", line).groups()
            for line in text.splitlines() if line.startswith("* LOC:")]
    assert [(t, round(opentime.from_timecode(tc, float(rate)).value) - origin)
            for tc, _, t, _ in locs] == want
    assert [int(n) for *_, n in locs] == [d for *_, d in expected(report)]  # only as text
    assert all((";" in tc) == df for tc, *_ in locs)
    if not df:  # the adapter cannot read ";" LOC lines (see module docstring)
        got = [(m.name.split(",")[0], frames_of(m.marked_range.start_time, rate) - origin)
               for m in clip.markers]
        assert got == want
        assert all(m.marked_range.duration.value == 0 for m in clip.markers)  # point markers
        assert {m.name.split(",")[0]: m.color for m in clip.markers}["extra_finger"] == "RED"


def parse_resolve_edl(text: str, rate: Fraction) -> list[tuple[str, int, int, str, str]]:
    """Read Resolve's marker EDL: ``(name, start_frame_since_midnight, duration, colour, note)``."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\d{3,}\s+001\s+V\s+C\s+(\S+) (\S+) (\S+) (\S+)$", line)
        if not m:
            continue
        src_in, src_out, rec_in, rec_out = (
            round(opentime.from_timecode(tc, float(rate)).value) for tc in m.groups())
        assert (src_in, src_out) == (rec_in, rec_out) and rec_out == rec_in + 1
        note = re.match(r"^(.*?) ?\|C:(ResolveColor\w+) \|M:(.*) \|D:(\d+)$", lines[i + 1])
        assert note, lines[i + 1]
        out.append((note[3], rec_in, int(note[4]), note[2], note[1]))
    return out


@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_resolve_edl_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    text = export_report(report, "resolve-edl", tmp_path / "r.edl").read_text()
    origin = start_frames(report, start_tc)
    assert text.startswith("TITLE: hand shot\nFCM: ")
    assert ("FCM: DROP FRAME" in text) == is_drop_frame(rate)
    markers = parse_resolve_edl(text, rate)
    assert [(n, s - origin, d) for n, s, d, _, _ in markers] == expected(report)
    colours = {n: c for n, _, _, c, _ in markers}
    assert colours == {"hand_vanish": "ResolveColorGreen", "extra_finger": "ResolveColorRed",
                       "proportion_drift": "ResolveColorYellow",
                       "low_confidence": "ResolveColorGreen"}
    notes = {n: note for n, _, _, _, note in markers}
    assert notes["extra_finger"] == 'six fingers <b>&"bold"</b> / x [track 2 (right)]'
    assert notes["proportion_drift"].startswith("- 3 fingers")  # no digit at line start


@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_fcp7xml_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    path = export_report(report, "fcp7xml", tmp_path / "r.xml")
    tl = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    origin = start_frames(report, start_tc)
    (clip,) = tl.find_clips()
    assert clip.source_range.start_time.rate == pytest.approx(float(rate))
    assert frames_of(clip.source_range.start_time, rate) == origin
    assert frames_of(clip.source_range.duration, rate) == report.video.frame_count
    assert frames_of(clip.media_reference.available_range.start_time, rate) == origin
    assert clip.media_reference.target_url == "file://localhost/clips/hand%20shot.mp4"
    markers = tl.tracks.markers  # sequence markers, counted from the sequence's first frame
    got = [(m.name, frames_of(m.marked_range.start_time, rate),
            frames_of(m.marked_range.duration, rate)) for m in markers]
    assert got == expected(report)
    meta = {m.name: m.metadata["fcp_xml"] for m in markers}
    assert meta["extra_finger"]["comment"] == 'six fingers <b>&"bold"</b> | x [track 2 (right)]'
    assert meta["extra_finger"]["pproColor"] == "4281740498"
    assert "pproColor" not in meta["hand_vanish"]  # Premiere's default green


FcpxMarker = tuple[str, Fraction, Fraction, "str | None"]


def parse_fcpxml(text: str) -> tuple[Fraction, Fraction, list[FcpxMarker]]:
    """Return (frame duration, clip start, markers as (value, start, duration, completed))."""
    def sec(s: str) -> Fraction:
        return Fraction(s[:-1])

    root = ET.fromstring(text)
    fmt = root.find("./resources/format")
    clip = root.find("./library/event/project/sequence/spine/asset-clip")
    marks = [(m.get("value"), sec(m.get("start")), sec(m.get("duration")), m.get("completed"))
             for m in clip.iter("marker")]
    return sec(fmt.get("frameDuration")), sec(clip.get("start")), marks


@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_fcpxml_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    path = export_report(report, "fcpxml", tmp_path / "r.fcpxml")
    text = path.read_text()
    origin = start_frames(report, start_tc)
    root = ET.fromstring(text)
    assert root.tag == "fcpxml" and tuple(map(int, root.get("version").split("."))) >= (1, 9)
    seq = root.find("./library/event/project/sequence")
    assert seq.get("tcFormat") == ("DF" if is_drop_frame(rate) else "NDF")

    frame_s, clip_start, marks = parse_fcpxml(text)
    assert frame_s == 1 / rate
    assert clip_start / frame_s == origin
    got = [(v, (s - clip_start) / frame_s, d / frame_s) for v, s, d, _ in marks]
    assert got == expected(report)  # exact: every time is a whole number of frames
    assert {v: c for v, _, _, c in marks} == {
        "hand_vanish": None, "proportion_drift": None, "low_confidence": None,
        "extra_finger": "0"}  # to-do marker for the severe event
    note = root.find(".//marker[@value='extra_finger']").get("note")
    assert note == 'six fingers <b>&"bold"</b> | x [track 2 (right)]'

    # The adapter reads names and to-do state at every rate, frame numbers only at 24 fps.
    (tl,) = otio.adapters.read_from_file(str(path), adapter_name="fcpx_xml")
    (clip,) = tl.find_clips()
    assert [m.name for m in clip.markers] == [t for t, _, _ in expected(report)]
    assert [m.color for m in clip.markers] == [
        "RED" if t == "extra_finger" else "PURPLE" for t, _, _ in expected(report)]
    if rate == 24:
        src = clip.source_range.start_time.value
        assert [(m.name, m.marked_range.start_time.value - src, m.marked_range.duration.value)
                for m in clip.markers] == expected(report)


@pytest.mark.parametrize("start_tc", START_TCS)
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_csv_round_trip(rate, start_tc, tmp_path):
    report = standard_report(rate, start_tc)
    path = export_report(report, "csv", tmp_path / "r.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    origin = start_frames(report, start_tc)
    events = {e.event_id: e for e in report.events}
    assert len(rows) == len(events)
    for row in rows:
        ev = events[int(row["event_id"])]
        assert (row["type"], row["message"]) == (ev.type, ev.message)
        assert (int(row["start_frame"]), int(row["end_frame"])) == (ev.start_frame, ev.end_frame)
        assert int(row["duration_frames"]) == ev.end_frame - ev.start_frame + 1
        for key, frame in (("start", ev.start_frame), ("end", ev.end_frame)):
            tc_frames = round(opentime.from_timecode(row[f"{key}_tc"], float(rate)).value)
            assert tc_frames - origin == frame
            assert float(row[f"{key}_s"]) == pytest.approx(float(frame / rate), abs=5e-4)
        track = row["track_id"]
        assert track == ("" if ev.track_id is None else str(ev.track_id))
        assert row["handedness"] == {"1": "left", "2": "right", "": ""}[track]
        assert float(row["severity"]) == pytest.approx(ev.severity, abs=5e-4)


def parse_cues(text: str, sep: str) -> list[tuple[str, int, int, list[str]]]:
    """Return ``(id, start_ms, end_ms, text lines)`` for each cue block."""
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = re.match(rf"^(\d\d):(\d\d):(\d\d){re.escape(sep)}(\d{{3}}) --> "
                         rf"(\d\d):(\d\d):(\d\d){re.escape(sep)}(\d{{3}})$", line)
            if m:
                h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, m.groups())
                cues.append((lines[i - 1] if i else "",
                             ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1,
                             ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2, lines[i + 1:]))
    return cues


@pytest.mark.parametrize(("fmt", "sep"), [("vtt", "."), ("srt", ",")])
@pytest.mark.parametrize("rate", RATE_PARAMS)
def test_subtitle_round_trip(fmt, sep, rate, tmp_path):
    report = standard_report(rate, "01:00:00:00")  # cues ignore the start timecode
    text = export_report(report, fmt, tmp_path / f"r.{fmt}").read_text()
    cues = parse_cues(text, sep)
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n\n")
        assert [c[0] for c in cues] == [
            f"event-{e.event_id}" for e in sorted(report.events, key=lambda e: e.start_frame)]
    else:
        assert [c[0] for c in cues] == [str(i) for i in range(1, len(report.events) + 1)]
    got = []
    for _, start_ms, end_ms, lines in cues:
        assert len(lines) == 2
        got.append((lines[0].split(" - ")[0], round(start_ms / 1000 * rate),
                    round(end_ms / 1000 * rate) - round(start_ms / 1000 * rate)))
    assert got == expected(report)
    for (_, start_ms, end_ms, _), (_, start, dur) in zip(cues, expected(report), strict=True):
        assert abs(start_ms - float(start / rate) * 1000) <= 0.5 + 1e-6
        assert abs(end_ms - float((start + dur) / rate) * 1000) <= 0.5 + 1e-6
    body = {c[3][0].split(" - ")[0]: c[3][1] for c in cues}
    if fmt == "vtt":
        assert body["extra_finger"] == "six fingers &lt;b&gt;&amp;\"bold\"&lt;/b&gt; | x"
    else:
        assert body["extra_finger"] == 'six fingers <b>&"bold"</b> | x'


# --------------------------------------------------------------------------- edge cases

def test_empty_event_list_gives_valid_files(tmp_path):
    report = make_report(Fraction(25), 50, [])
    paths = {fmt: export_report(report, fmt, tmp_path) for fmt in EXPORTERS}
    for fmt, adapter in (("otio", "otio_json"), ("cmx3600", "cmx_3600"),
                         ("fcp7xml", "fcp_xml"), ("fcpxml", "fcpx_xml")):
        tl = otio.adapters.read_from_file(str(paths[fmt]), adapter_name=adapter)
        clips = list(tl.find_clips())
        assert len(clips) == 1 and not clips[0].markers, fmt
    assert parse_resolve_edl(paths["resolve-edl"].read_text(), Fraction(25)) == []
    assert paths["csv"].read_text().count("\n") == 1  # header only
    assert paths["vtt"].read_text() == "WEBVTT\n"
    assert paths["srt"].read_text() == ""


def test_severity_bands_follow_report_profile(tmp_path):
    events = [("hand_vanish", 1, 5, 6, 0.5, "m")]
    strict = make_report(Fraction(25), 50, events, profile="strict")
    lenient = make_report(Fraction(25), 50, events, profile="lenient")
    assert "ResolveColorRed" in export_report(strict, "resolve-edl", tmp_path / "s.edl").read_text()
    assert "ResolveColorYellow" in export_report(lenient, "resolve-edl",
                                                 tmp_path / "l.edl").read_text()


def test_vfr_markers_snap_to_nearest_nominal_frame(tmp_path):
    rate = Fraction(30)
    # Frame 10 of this VFR file was shown at 0.49 s: frame 14.7 of the 30 fps timeline.
    ev = Event(event_id=0, type="hand_vanish", track_id=1, start_frame=10, end_frame=12,
               start_s=0.49, end_s=0.56, severity=0.5, message="m")
    base = make_report(rate, 40, [], is_vfr=True, duration_s=1.5)
    report = Report(video=base.video, settings={}, tracks=base.tracks, events=(ev,),
                    summary=base.summary)
    path = export_report(report, "otio", tmp_path / "v.otio")
    (clip,) = otio.adapters.read_from_file(str(path)).find_clips()
    (marker,) = clip.markers
    assert marker.marked_range.start_time.value == 15  # round(0.49 * 30) = round(14.7)
    assert marker.marked_range.duration.value == 3     # frames 15..17 (0.56 * 30 = 16.8)
    assert clip.source_range.duration.value == 45       # 1.5 s at the nominal 30 fps


def test_non_smpte_rate_skips_timecode_formats(tmp_path):
    report = make_report(Fraction(16), 64, [("hand_vanish", 1, 16, 31, 0.7, "m")])
    for fmt in ("resolve-edl", "cmx3600"):
        with pytest.raises(ExportError, match="no SMPTE timecode"):
            export_report(report, fmt, tmp_path)
    for fmt in ("otio", "fcpxml", "fcp7xml", "csv", "vtt", "srt"):
        assert export_report(report, fmt, tmp_path).stat().st_size > 0
    (row,) = csv.DictReader(default_export_path(tmp_path / "hand shot.json", "csv").open())
    assert (row["start_frame"], row["start_tc"], row["start_s"]) == ("16", "", "1.000")


def test_video_without_frames_is_an_export_error(tmp_path):
    report = make_report(Fraction(25), 0, [])
    with pytest.raises(ExportError, match="no decoded frames"):
        export_report(report, "otio", tmp_path / "x.otio")
    assert export_report(report, "csv", tmp_path / "x.csv").exists()


def test_unknown_format_lists_valid_names(tmp_path):
    with pytest.raises(ValueError, match="valid formats: otio, resolve-edl, cmx3600"):
        export_report(make_report(Fraction(25), 5, []), "aaf", tmp_path / "x")


def test_default_paths_are_distinct_and_next_to_the_report(tmp_path):
    report_path = write_report(standard_report(Fraction(25)), tmp_path / "clip.json")
    outs = [export_report(report_path, fmt) for fmt in EXPORTERS]
    assert [p.name for p in outs] == [f"clip{SUFFIXES[f]}" for f in EXPORTERS]
    assert len(set(outs)) == len(EXPORTERS) and all(p.parent == tmp_path for p in outs)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_export_report_from_missing_path_is_report_error(tmp_path):
    with pytest.raises(ReportError):
        export_report(tmp_path / "nope.json", "csv")


# --------------------------------------------------------------------------- golden files

def _load_make_golden():
    spec = importlib.util.spec_from_file_location("make_golden",
                                                  ROOT / "fixtures" / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_files_match(tmp_path):
    written = _load_make_golden().make_golden(tmp_path)
    assert {p.name for p in written} == {"report.json"} | {f"report{s}" for s in SUFFIXES.values()}
    for p in written:
        golden = GOLDEN / p.name
        assert golden.exists(), f"missing {golden}; run python fixtures/make_golden.py"
        assert p.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8"), p.name


def test_golden_report_exports_equal_exports_of_the_committed_report(tmp_path):
    for fmt in EXPORTERS:
        out = export_report(GOLDEN / "report.json", fmt, tmp_path)
        assert out.read_text() == (GOLDEN / out.name).read_text(), fmt


# --------------------------------------------------------------------------- CLI

def test_cli_writes_each_format_and_prints_paths(tmp_path):
    report_path = write_report(standard_report(Fraction(30000, 1001)), tmp_path / "clip.json")
    out_dir = tmp_path / "exports"
    result = CliRunner().invoke(export_command, [
        str(report_path), "--format", "resolve-edl,csv", "--out", str(out_dir),
        "--start-tc", "01:00:00:00"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(out_dir / "clip.resolve.edl"), str(out_dir / "clip.csv")]
    assert "01:00:00;00" in (out_dir / "clip.resolve.edl").read_text()


def test_cli_single_format_to_file_and_all(tmp_path):
    report_path = write_report(standard_report(Fraction(25)), tmp_path / "clip.json")
    runner = CliRunner()
    result = runner.invoke(export_command, [str(report_path), "-f", "otio", "-o",
                                            str(tmp_path / "x.otio")])
    assert result.exit_code == 0 and (tmp_path / "x.otio").exists()
    result = runner.invoke(export_command, [str(report_path), "-f", "all"])
    assert result.exit_code == 0
    assert len(result.output.split()) == len(EXPORTERS)


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "otio,aaf"], "valid formats: otio, resolve-edl"),
    (["--format", "otio", "--start-tc", "1h"], "HH:MM:SS:FF"),
    (["--format", "otio,csv", "--out", "{report}"], "must be a directory"),
])
def test_cli_usage_errors_exit_2(args, message, tmp_path):
    report_path = write_report(standard_report(Fraction(25)), tmp_path / "clip.json")
    args = [a.replace("{report}", str(report_path)) for a in args]
    result = CliRunner().invoke(export_command, [str(report_path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_input_errors_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    runner = CliRunner()
    for path in (tmp_path / "missing.json", bad):
        result = runner.invoke(export_command, [str(path), "-f", "csv"])
        assert result.exit_code == 2
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    report_path = write_report(make_report(Fraction(16), 10, []), tmp_path / "c16.json")
    result = runner.invoke(export_command, [str(report_path), "-f", "cmx3600"])
    assert result.exit_code == 2 and "no SMPTE timecode" in result.output


def test_cli_help_has_example():
    result = CliRunner().invoke(export_command, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert "vidhand export out/clip.json --format resolve-edl" in result.output
