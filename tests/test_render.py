"""Preview video and event thumbnails (issue #4) on a real two-hand clip.

One MediaPipe run over a 41-frame shared clip (320x240, 2997/100 fps) gives real
landmarks; the report then gets hand-made events (the temporal model is still being
built), so the overlay, the strip and the thumbnails are checked against known frame
ranges:

- event 0 ``missing_finger`` on track 1, frames 10-14 (the hand is detected there);
- event 1 ``hand_vanish`` on track 2, frames 0-1 (track 2 is first seen at frame 2, so
  the hand is drawn dashed where it was first seen);
- event 2 ``low_confidence`` without a track, frames 30-31 (the whole frame is outlined).

Frame 20 is inside no event: the preview may differ from the source there only inside
the rectangles the painter reports drawing, all of which hug a detected hand. "The
source" is the source frames encoded with the preview's encoder settings and decoded
again, so yuv420p and x264 losses cancel and the tolerances can be tight.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_clip

from vidhand.render import (
    CONTACT_SHEET,
    ROLES,
    OverlayPainter,
    event_crops,
    plan_event_crops,
    render_preview,
    render_thumbs,
)
from vidhand.render_cli import render_command, thumbs_command
from vidhand.report import Report, read_report, summarize, write_report
from vidhand.types import Event, HandFrame

CLIP = "natural/sign_soup_woman_grey_bg.mp4"
FLAGGED, UNFLAGGED, FRAMELESS = 12, 20, 30

ENCODER = {"crf": 20, "preset": "veryfast"}  # the preview's and the reference's settings
# Encoder noise allowances (measured on this clip: mean <= 0.7, worst block <= 6.5).
MEAN_TOL = 1.5  # mean abs difference per channel value, outside the overlay
BLOCK_TOL = 12.0  # worst 16x16 block's mean abs difference, outside the overlay


@dataclasses.dataclass
class Rendered:
    report: Report
    report_path: Path
    hand_frames: list[HandFrame]
    preview: Path
    thumbs: list[Path]
    source: dict[int, np.ndarray]
    reference: Path


def _event(i: int, type_: str, track: int | None, a: int, b: int, sev: float, msg: str,
           fps: float) -> Event:
    return Event(event_id=i, type=type_, track_id=track, start_frame=a, end_frame=b,
                 start_s=a / fps, end_s=(b + 1) / fps, severity=sev, message=msg)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    clip = shared_clip(CLIP)
    from vidhand.pipeline import analyze, tracked_hand_frames
    from vidhand.video import open_video

    tmp = tmp_path_factory.mktemp("render")
    base = analyze(clip, landmarks_out=tmp / "clip.landmarks.npz", pixel_evidence=False)
    assert [t.track_id for t in base.tracks] == [1, 2], "clip should give two hand tracks"
    fps = float(base.frame_rate)
    events = (
        _event(0, "missing_finger", 1, 10, 14, 0.72, "right hand shows 4 fingers", fps),
        _event(1, "hand_vanish", 2, 0, 1, 0.5, "left hand missing for 2 frames", fps),
        _event(2, "low_confidence", None, 30, 31, 0.2, "whole frame unreliable", fps),
    )
    report = dataclasses.replace(base, events=events, summary=summarize(
        events, frames_with_hands=base.summary.frames_with_hands, tracks=2))
    report_path = write_report(report, tmp / "clip.json")
    preview = render_preview(report, tmp / "clip.preview.mp4", **ENCODER)
    thumbs = render_thumbs(report, tmp / "thumbs")
    with open_video(clip) as src:
        images = [f.image for f in src]
    reference = _encode_plain(images, base.frame_rate, tmp / "reference.mp4")
    source = {i: images[i] for i in (FLAGGED, UNFLAGGED, FRAMELESS)}
    return Rendered(report, report_path, tracked_hand_frames(report), preview, thumbs, source,
                    reference)


def _encode_plain(images: list[np.ndarray], rate: Fraction, path: Path) -> Path:
    """The source frames through the preview's encoder settings, without any overlay."""
    h, w = images[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w + w % 2, h + h % 2, "yuv420p"
        stream.options = {k: str(v) for k, v in ENCODER.items()}
        stream.codec_context.thread_type = "FRAME"
        for i, image in enumerate(images):
            padded = np.zeros((stream.height, stream.width, 3), np.uint8)
            padded[:h, :w] = image
            frame = av.VideoFrame.from_ndarray(padded, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _decode_preview(path: Path, indices: set[int]) -> tuple[list[float], dict[int, np.ndarray]]:
    """All frame times of the preview, and RGB images of the frames asked for."""
    times, images = [], {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            times.append(frame.time)
            if i in indices:
                images[i] = frame.to_ndarray(format="rgb24")
    return times, images


def _diff_stats(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> tuple[float, float]:
    """(mean abs diff over ``keep``, worst 16x16 block mean abs diff over ``keep``)."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).mean(axis=2)
    mean = float(diff[keep].mean())
    worst = 0.0
    h, w = diff.shape
    for y in range(0, h - 15, 16):
        for x in range(0, w - 15, 16):
            k = keep[y:y + 16, x:x + 16]
            if k.mean() > 0.5:  # blocks mostly outside the overlay
                worst = max(worst, float(diff[y:y + 16, x:x + 16][k].mean()))
    return mean, worst


def _mask(rects: list[tuple[int, int, int, int]], shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape[:2], bool)
    for x0, y0, x1, y1 in rects:
        mask[y0:y1, x0:x1] = True
    return mask


def test_preview_has_source_rate_count_and_exact_pts(rendered: Rendered) -> None:
    video = rendered.report.video
    rate = Fraction(video.fps_rational)
    with av.open(str(rendered.preview)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert Fraction(stream.average_rate) == rate
        assert stream.width % 2 == 0 and stream.height % 2 == 0
        assert stream.width == video.width + video.width % 2
        assert stream.height > video.height  # the timeline strip is appended below
    times, _ = _decode_preview(rendered.preview, set())
    assert len(times) == video.frame_count == 41
    assert times == [float(i / rate) for i in range(len(times))]


def test_painter_changes_only_the_pixels_it_reports(rendered: Rendered) -> None:
    """Exact, no encoder: outside the returned rectangles the picture is untouched."""
    painter = OverlayPainter(rendered.report, rendered.hand_frames,
                             (rendered.report.video.width, rendered.report.video.height))
    for index in (FLAGGED, UNFLAGGED, FRAMELESS):
        src = rendered.source[index]
        drawn = src.copy()
        rects = painter.draw(drawn, index)
        changed = (drawn != src).any(axis=2)
        assert changed.any(), f"frame {index}: nothing drawn"
        assert not (changed & ~_mask(rects, src.shape)).any(), f"frame {index}: leak"


def test_flagged_frame_carries_overlay_and_unflagged_frame_does_not(rendered: Rendered) -> None:
    h, w = rendered.report.video.height, rendered.report.video.width
    _, out = _decode_preview(rendered.preview, {FLAGGED, UNFLAGGED})
    _, ref = _decode_preview(rendered.reference, {FLAGGED, UNFLAGGED})
    painter = OverlayPainter(rendered.report, rendered.hand_frames, (w, h))

    # Flagged frame: track 1's box (event 0) shows the outline/caption overlay.
    hand = next(x for x in rendered.hand_frames[FLAGGED].hands if x.track_id == 1)
    x0, y0, x1, y1 = (int(v) for v in hand.bbox_xyxy)
    ring = np.zeros((h, w), bool)  # the outline runs just outside the landmark box
    g = 30
    ring[max(0, y0 - g):y1 + g, max(0, x0 - g):x1 + g] = True
    ring[y0 + 4:y1 - 4, x0 + 4:x1 - 4] = False
    flagged_mean = _diff_stats(out[FLAGGED][:h, :w], ref[FLAGGED][:h, :w], ring)[0]
    assert flagged_mean > 10 * MEAN_TOL, flagged_mean

    # Unflagged frame: the painter's rectangles hug the detected hands ...
    src = rendered.source[UNFLAGGED]
    rects = painter.draw(src.copy(), UNFLAGGED)
    boxes = [x.bbox_xyxy for x in rendered.hand_frames[UNFLAGGED].hands]
    assert len(boxes) == 2
    for rx0, ry0, rx1, ry1 in rects:  # within 40 px of some hand box (labels sit above it)
        assert any(rx0 >= b[0] - 40 and ry0 >= b[1] - 40 and rx1 <= b[2] + 40
                   and ry1 <= b[3] + 40 for b in boxes), (rx0, ry0, rx1, ry1)
    mask = _mask(rects, src.shape)
    assert mask.mean() < 0.4, "overlay mask too large for a meaningful comparison"
    # ... no event outline or caption exists (nothing drawn off the hands), and
    # everything outside them matches the source up to encoder noise.
    keep = ~mask
    picture, plain = out[UNFLAGGED][:h, :w], ref[UNFLAGGED][:h, :w]
    mean, worst = _diff_stats(picture, plain, keep)
    assert mean < MEAN_TOL and worst < BLOCK_TOL, (mean, worst)
    # The skeleton itself is in the preview (the comparison sees overlays).
    assert _diff_stats(picture, plain, mask)[0] > 10 * MEAN_TOL

    # Negative control: a caption leaking outside the hands breaks the same check.
    leaked = picture.copy()
    lx, ly = next((x, y) for y in range(0, h - 24, 8) for x in range(0, w - 130, 8)
                  if keep[y:y + 24, x:x + 130].all())
    cv2.rectangle(leaked, (lx, ly), (lx + 120, ly + 18), (16, 17, 20), -1)
    cv2.putText(leaked, "MISSING FINGER", (lx + 3, ly + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36,
                (240, 240, 240), 1, cv2.LINE_AA)
    assert _diff_stats(leaked, plain, keep)[1] >= BLOCK_TOL


def test_unflagged_frame_has_no_event_overlay_in_the_strip(rendered: Rendered) -> None:
    """The playhead is drawn in the severity colour only inside an event."""
    painter = OverlayPainter(rendered.report, rendered.hand_frames,
                             (rendered.report.video.width, rendered.report.video.height))
    assert painter.active_events(UNFLAGGED) == []
    assert [e.event_id for e in painter.active_events(FLAGGED)] == [0]
    strip_in, strip_out = painter.timeline(FLAGGED), painter.timeline(UNFLAGGED)
    assert strip_in.shape == strip_out.shape == (painter.strip_height, painter.out_width, 3)
    red = np.all(strip_in == (240, 50, 50), axis=2).sum()
    assert red > np.all(strip_out == (240, 50, 50), axis=2).sum()


def test_thumbs_one_png_per_event_and_contact_sheet(rendered: Rendered) -> None:
    paths = rendered.thumbs
    events = rendered.report.events
    assert len(paths) == len(events) + 1
    assert paths[-1].name == CONTACT_SHEET
    assert [p.name for p in paths[:-1]] == [
        "event_000_missing_finger.png", "event_001_hand_vanish.png",
        "event_002_low_confidence.png"]
    sizes = []
    for p in paths:
        img = cv2.imread(str(p))
        assert img is not None, p
        sizes.append(img.shape[:2])
        assert 200 <= img.shape[0] <= 2000 and 500 <= img.shape[1] <= 2000, (p, img.shape)
        assert img.std() > 20, f"{p.name} looks blank"
    sheet_h, sheet_w = sizes[-1]
    assert sheet_w >= max(w for _, w in sizes[:-1])
    assert sheet_h >= max(h for h, _ in sizes[:-1])


def test_event_crops_before_during_after(rendered: Rendered) -> None:
    report, hand_frames = rendered.report, rendered.hand_frames
    ev = report.events[0]  # missing_finger, track 1, frames 10-14
    plan = plan_event_crops(report, ev, hand_frames)
    before, during, after = (plan.frames[r] for r in ROLES)
    assert before < ev.start_frame <= during <= ev.end_frame < after
    frames = {}
    from vidhand.video import open_video

    with open_video(report.video.path) as src:
        for f in src:
            if f.index in plan.frames.values():
                frames[f.index] = f.image
    crops = event_crops(report, ev, hand_frames, frames)
    assert list(crops) == list(ROLES)
    shapes = {c.shape for c in crops.values()}
    assert len(shapes) == 1, "before/during/after crops share one size"
    for role, crop in crops.items():
        x0, y0, x1, y1 = plan.windows[role]
        np.testing.assert_array_equal(crop, frames[plan.frames[role]][y0:y1, x0:x1])
        hb = plan.hand_boxes[role]
        assert hb is not None  # track 1 is detected in all three frames
        assert x0 <= hb[0] and y0 <= hb[1] and hb[2] <= x1 + 1 and hb[3] <= y1 + 1
        assert crop.shape[0] * crop.shape[1] < 0.5 * report.video.width * report.video.height

    frameless = plan_event_crops(report, report.events[2], hand_frames)
    assert frameless.windows == dict.fromkeys(ROLES)  # no track: the whole frame
    whole = event_crops(report, report.events[2], hand_frames,
                        {i: rendered.source[FRAMELESS] for i in frameless.frames.values()})
    assert all(c.shape == rendered.source[FRAMELESS].shape for c in whole.values())


def test_event_crops_show_the_hand_where_it_was_detected(rendered: Rendered) -> None:
    """Where the detector missed the hand at the context frame, before/after move to the
    detection nearest to it (between it and the event), not to an empty place."""
    report, hand_frames = rendered.report, rendered.hand_frames
    ev = report.events[0]  # missing_finger, track 1, frames 10-14
    plan = plan_event_crops(report, ev, hand_frames)
    before, after = plan.frames["before"], plan.frames["after"]
    assert before + 1 < ev.start_frame and after - 1 > ev.end_frame

    def drop(frames: set[int]) -> list:
        return [dataclasses.replace(hf, hands=tuple(
            h for h in hf.hands if not (h.track_id == ev.track_id and hf.frame_index in frames)))
            for hf in hand_frames]

    missed = plan_event_crops(report, ev, drop({before, after}))
    assert missed.frames["before"] == before + 1 and missed.frames["after"] == after - 1
    assert missed.hand_boxes["before"] is not None and missed.hand_boxes["after"] is not None
    # No detection between the context frame and the event: the context frame stays.
    gone = plan_event_crops(report, ev, drop(set(range(before, ev.start_frame))))
    assert gone.frames["before"] == before and gone.hand_boxes["before"] is None


# --- CLI -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [render_command, thumbs_command])
def test_cli_help_has_example(command) -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def _broken_report(rendered: Rendered, tmp_path: Path, **changes: str) -> Path:
    report = read_report(rendered.report_path)
    video = dataclasses.replace(report.video, **{k: v for k, v in changes.items()
                                                 if k == "path"})
    lm = changes.get("landmarks_file", report.landmarks_file)
    return write_report(dataclasses.replace(report, video=video, landmarks_file=lm),
                        tmp_path / "broken.json")


@pytest.mark.parametrize("command", [render_command, thumbs_command])
def test_cli_errors_are_one_line_exit_2(rendered: Rendered, tmp_path: Path, command) -> None:
    runner = CliRunner()
    out_args = ["--out", str(tmp_path / ("p.mp4" if command is render_command else "t"))]

    missing = runner.invoke(command, [str(tmp_path / "nope.json"), *out_args])
    assert missing.exit_code == 2 and "no such report" in missing.output

    moved = _broken_report(rendered, tmp_path, path=str(tmp_path / "moved.gif"))
    result = runner.invoke(command, [str(moved), *out_args])
    assert result.exit_code == 2 and "--video" in result.output
    assert len(result.output.strip().splitlines()) == 1

    no_lm = _broken_report(rendered, tmp_path, landmarks_file=str(tmp_path / "gone.npz"))
    result = runner.invoke(command, [str(no_lm), *out_args])
    assert result.exit_code == 2 and "landmark file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_thumbs_with_moved_video(rendered: Rendered, tmp_path: Path) -> None:
    moved = _broken_report(rendered, tmp_path, path=str(tmp_path / "moved.gif"))
    result = CliRunner().invoke(thumbs_command, [
        str(moved), "--out", str(tmp_path / "t"), "--video", str(shared_clip(CLIP))])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t" / CONTACT_SHEET).is_file()
    assert len(list((tmp_path / "t").glob("event_*.png"))) == 3
