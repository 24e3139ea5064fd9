"""The annotated preview: the source video with skeletons, flags and an event timeline.

Each output frame is the decoded source picture with the overlay drawn on it, and a
timeline strip appended *below* it (the picture is never covered by the strip):

- every hand: its skeleton and a ``#id left/right`` tag above its box, in the track's colour;
- every hand inside an event's frame range: an outline around its box and a caption
  (event type, severity, message) in the severity colour; a hand that is not detected
  during its event is outlined dashed where it was last seen; an event without a track
  outlines the whole picture;
- the strip: one lane per track (where the track was seen, and its events as bands
  coloured by severity), a lane for events without a track, a playhead and the frame
  number.

Nothing else in the picture changes, so an unflagged frame differs from the source
only inside the rectangles :meth:`OverlayPainter.draw` returns.

Example:
    >>> from vidhand.report import read_report
    >>> from vidhand.render import render_preview
    >>> render_preview(read_report("out/clip.json"), "out/clip.preview.mp4")
    PosixPath('out/clip.preview.mp4')
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from vidhand.report import Report
from vidhand.types import Event, HandFrame

from . import _draw as d
from ._common import (
    TrackBoxes,
    by_index,
    check_same_video,
    event_label,
    resolve_video,
    severity_level,
)

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, "int | None"], None]

#: Output container suffix -> FFmpeg muxer.
_MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


class OverlayPainter:
    """Draws a report's overlay and timeline on decoded frames (no I/O).

    Args:
        report: the report whose events are drawn.
        hand_frames: every frame's hands with the report's track ids
            (:func:`vidhand.pipeline.tracked_hand_frames`).
        picture_wh: size of the images that will be drawn on.
        coord_scale: image pixels per source pixel (``1 / Frame.scale`` when decoding
            with ``max_side``).
        out_width: width of the timeline strip (at least ``picture_wh[0]``; the output
            may be one pixel wider than the picture to make it even).
    """

    def __init__(self, report: Report, hand_frames: list[HandFrame], picture_wh: tuple[int, int],
                 coord_scale: float = 1.0, out_width: int | None = None) -> None:
        self.report = report
        self.width, self.height = picture_wh
        self.k = coord_scale
        self.ui = d.ui_scale(self.width, self.height)
        self.out_width = max(out_width or self.width, self.width)
        self._hands = by_index(hand_frames)
        self._boxes = TrackBoxes(hand_frames)
        self._events = sorted(report.events, key=lambda e: (e.severity, e.event_id))
        self._lane_ids = self._lanes()
        self._lane_h = max(11, round(14 * self.ui))
        self._margin = max(3, round(4 * self.ui))
        strip = 2 * self._margin + len(self._lane_ids) * self._lane_h
        self.strip_height = max(strip + strip % 2, 2 * round(16 * self.ui))
        self._frame_count = max(report.video.frame_count, 1)
        self._strip = self._build_strip()

    # --- picture overlay -----------------------------------------------------------

    def active_events(self, frame_index: int) -> list[Event]:
        """Events whose inclusive frame range holds ``frame_index``, least severe first."""
        return [e for e in self._events if e.start_frame <= frame_index <= e.end_frame]

    def draw(self, image: d.Image, frame_index: int) -> list[d.Rect]:
        """Draw the overlay of ``frame_index`` on ``image`` in place.

        Returns:
            Every rectangle drawn into; pixels outside them are unchanged.
        """
        ui, k = self.ui, self.k
        dirty: list[d.Rect | None] = []
        hf = self._hands.get(frame_index)
        hands = hf.hands if hf is not None else ()
        pad = max(3, round(5 * ui))
        for hand in hands:
            colour = d.track_colour(hand.track_id)
            dirty.append(d.draw_skeleton(image, hand.landmarks_px * k, colour, ui))

        # Where each flagged track is drawn: its box now, else where it was last seen.
        flagged: dict[int | None, list[Event]] = {}
        for ev in self.active_events(frame_index):
            flagged.setdefault(ev.track_id, []).append(ev)
        outlines: dict[int, tuple[np.ndarray, int | None]] = {}
        for track_id in flagged:
            if track_id is None:
                continue
            here = next((h for h in hands if h.track_id == track_id), None)
            if here is not None:
                outlines[track_id] = (here.bbox_xyxy * k, None)
            else:
                seen = self._boxes.nearest(track_id, frame_index)
                if seen is not None:
                    outlines[track_id] = (seen[1] * k, seen[0])

        thick = max(2, round(2.5 * ui))
        outline_rects: dict[int, d.Rect] = {}
        for track_id, (box, seen_at) in outlines.items():
            worst = flagged[track_id][-1]
            colour = d.SEVERITY_COLOURS[severity_level(self.report, worst.severity)]
            g = pad + 0.08 * max(box[2] - box[0], box[3] - box[1])
            rect = (box[0] - g, box[1] - g, box[2] + g, box[3] + g)
            dirty.append(d.draw_box(image, rect, colour, thick, dashed=seen_at is not None))
            outline_rects[track_id] = (round(rect[0]), round(rect[1]), round(rect[2]),
                                       round(rect[3]))
        if None in flagged:
            worst = flagged[None][-1]
            colour = d.SEVERITY_COLOURS[severity_level(self.report, worst.severity)]
            inset = thick // 2 + 2
            dirty.append(d.draw_box(image, (inset, inset, self.width - 1 - inset,
                                            self.height - 1 - inset), colour, thick))

        # Text last so it sits on top: hand tags, then event captions.
        for hand in hands:
            tid = hand.track_id
            box = outline_rects[tid] if tid in outline_rects else hand.bbox_xyxy * k
            text = f"#{tid} {hand.handedness}" if tid is not None else hand.handedness
            dirty.append(d.label(image, text, (round(box[0]), round(box[1]) - 1), scale=ui,
                                 accent=d.track_colour(tid), anchor="bottom"))
        for tid, rect in outline_rects.items():
            y = rect[3] + 1
            seen_at = outlines[tid][1]
            if seen_at is not None:
                r = d.label(image, f"#{tid} not detected; last seen f{seen_at}", (rect[0], y),
                            scale=ui, accent=d.track_colour(tid))
                dirty.append(r)
                y = r[3] if r else y
            for ev in reversed(flagged[tid]):  # most severe first
                y = self._caption(image, ev, (rect[0], y), dirty)
        if None in flagged:
            y = thick + 4
            for ev in reversed(flagged[None]):
                y = self._caption(image, ev, (thick + 4, y), dirty)
        return d.drawn(dirty)

    def _caption(self, image: d.Image, ev: Event, xy: tuple[int, int],
                 dirty: list[d.Rect | None]) -> int:
        """Severity tag then message under it, starting at ``xy``; returns the next free y."""
        level = severity_level(self.report, ev.severity)
        tag = f"{event_label(ev).upper()}  {ev.severity:.2f}"
        r1 = d.label(image, tag, xy, scale=self.ui, fg=(12, 12, 12),
                     bg=d.SEVERITY_COLOURS[level], alpha=0.92)
        dirty.append(r1)
        y = r1[3] if r1 else xy[1]
        if ev.message:
            fs, th = 0.48 * self.ui, max(1, round(self.ui))
            width = max(round(0.55 * self.width), 160)
            text = d.fit_text(ev.message, width, fs, th)
            r2 = d.label(image, text, (xy[0], y), scale=self.ui)
            dirty.append(r2)
            y = r2[3] if r2 else y
        return y

    # --- timeline strip ---------------------------------------------------------------

    def _lanes(self) -> list[int | None]:
        lanes: list[int | None] = [t.track_id for t in self.report.tracks]
        if any(e.track_id is None for e in self._events) or not lanes:
            lanes.append(None)
        return lanes if len(lanes) <= 4 else [None]  # many tracks: one shared lane

    def _x(self, frame: float) -> int:
        return round(self._xa + (self._xb - self._xa) * frame / self._frame_count)

    def _build_strip(self) -> d.Image:
        ui, w, h = self.ui, self.out_width, self.strip_height
        strip = np.empty((h, w, 3), np.uint8)
        strip[:] = d.BACKING
        fs, th = 0.42 * ui, max(1, round(ui))
        last = self._frame_count - 1
        self._counter_w = d.text_size(f"f{last}/{last}", fs, th)[0] + round(10 * ui)
        lanes = self._lane_ids
        names = ["all" if t is None else f"#{t}" for t in lanes]
        fs_lane = min(fs, 0.034 * self._lane_h)
        label_w = max(d.text_size(n, fs_lane, th)[0] for n in names) + round(10 * ui)
        self._xa, self._xb = label_w, max(label_w + 10, w - self._counter_w)
        lane_h = self._lane_h
        top = (h - lane_h * len(lanes)) // 2
        bottom = top + lane_h * len(lanes)
        shared = lanes == [None] and len(self.report.tracks) > 0
        # Frame grid: a faint tick every second.
        rate = float(self.report.frame_rate) or 1.0
        step = max(1, round(rate))
        for f in range(0, self._frame_count + 1, step):
            x = self._x(f)
            strip[top:bottom, x:x + 1] = (48, 50, 56)
        for n, lane in enumerate(lanes):
            y0, y1 = round(top + n * lane_h), round(top + (n + 1) * lane_h) - 1
            colour = d.track_colour(lane) if not shared else d.UNTRACKED
            ty = round((y0 + y1) / 2 + d.text_size(names[n], fs_lane, th)[1] / 2)
            cv2.putText(strip, names[n], (round(4 * ui), ty), d.FONT, fs_lane, colour, th,
                        cv2.LINE_AA)
            if lane is not None:  # where the track was seen: a thin line in its colour
                mid = (y0 + y1) // 2
                tl = max(1, round(1.5 * ui))
                for a, b in _runs(self._boxes.present(lane)):
                    d.blend_rect(strip, (self._x(a), mid - tl, max(self._x(b + 1), self._x(a) + 1),
                                         mid + tl), colour, 0.55)
            for ev in self._events:  # least severe first, so the worst stays on top
                if not shared and ev.track_id != lane:
                    continue
                colour_ev = d.SEVERITY_COLOURS[severity_level(self.report, ev.severity)]
                xa, xb = self._x(ev.start_frame), self._x(ev.end_frame + 1)
                d.blend_rect(strip, (xa, y0 + 1, max(xb, xa + 2), y1), colour_ev, 0.9)
        return strip

    def timeline(self, frame_index: int) -> d.Image:
        """The timeline strip (``strip_height`` x ``out_width``) with the playhead at a frame."""
        strip = self._strip.copy()
        ui = self.ui
        f = min(max(frame_index, 0), self._frame_count - 1)
        x = round((self._x(f) + self._x(f + 1)) / 2)
        events = self.active_events(frame_index)
        colour = (d.SEVERITY_COLOURS[severity_level(self.report, events[-1].severity)]
                  if events else d.INK)
        half = max(1, round(ui))
        d.blend_rect(strip, (x - half - 1, 0, x + half + 1, self.strip_height), d.OUTLINE, 1.0)
        d.blend_rect(strip, (x - half, 0, x + half, self.strip_height), colour, 1.0)
        fs, th = 0.42 * ui, max(1, round(ui))
        text = f"f{frame_index}/{self._frame_count - 1}"
        tw, asc, _ = d.text_size(text, fs, th)
        cv2.putText(strip, text, (self.out_width - tw - round(5 * ui),
                                  (self.strip_height + asc) // 2),
                    d.FONT, fs, colour, th, cv2.LINE_AA)
        return strip

    def compose(self, image: d.Image, frame_index: int) -> d.Image:
        """A full output frame: ``image`` with the overlay, padded even, strip below.

        ``image`` is drawn on in place and also copied into the result.
        """
        self.draw(image, frame_index)
        out = np.zeros((self.height + self.strip_height + (self.height % 2), self.out_width, 3),
                       np.uint8)
        out[:self.height, :self.width] = image
        out[out.shape[0] - self.strip_height:] = self.timeline(frame_index)
        return out


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of sorted frame indices."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def render_preview(
    report: Report,
    out_path: str | os.PathLike[str],
    *,
    video_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    max_side: int | None = None,
    crf: int = 20,
    preset: str = "veryfast",
) -> Path:
    """Write the annotated preview of ``report`` as an H.264 video.

    The output has the source's frame rate (exact fraction) and one frame per decoded
    source frame, in order, with ``pts = frame index`` in a ``1/rate`` time base. It is
    yuv420p, so an odd-sized picture gets one black column/row. Frames stream through
    decode -> draw -> encode; the file appears atomically when complete.

    Args:
        report: a report with a landmark file (``report.landmarks_file``).
        out_path: ``.mp4`` (also ``.m4v``, ``.mov``, ``.mkv``).
        video_path: the source video when it is no longer where the report says.
        progress: called as ``progress(done, total)`` after each frame.
        max_side: downscale the picture so its longer side is at most this.
        crf: x264 quality (lower is better and bigger).
        preset: x264 speed preset.

    Returns:
        ``out_path`` as a Path.

    Raises:
        ValueError: unsupported output suffix.
        VideoOpenFailure: the video is missing or is not the report's video.
        LandmarkFileError: the report's landmark file is missing or unreadable.
    """
    from vidhand.pipeline import tracked_hand_frames
    from vidhand.video import open_video

    out = Path(out_path)
    muxer = _MUXERS.get(out.suffix.lower())
    if muxer is None:
        raise ValueError(f"preview must be {', '.join(_MUXERS)}, got '{out.name}'")
    video = resolve_video(report, video_path)
    hand_frames = tracked_hand_frames(report)
    rate = report.frame_rate
    total = report.video.frame_count or None

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".tmp{out.suffix}",
                                    dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    written = 0
    try:
        with open_video(video, max_side=max_side) as src:
            check_same_video(report, src.info)
            container = av.open(str(tmp), mode="w", format=muxer,
                                options={"movflags": "+faststart"} if muxer != "matroska" else {})
            try:
                painter: OverlayPainter | None = None
                stream = None
                time_base = Fraction(rate.denominator, rate.numerator)
                for frame in src:
                    if painter is None:
                        h, w = frame.image.shape[:2]
                        painter = OverlayPainter(report, hand_frames, (w, h),
                                                 coord_scale=1.0 / frame.scale,
                                                 out_width=w + w % 2)
                        stream = container.add_stream("libx264", rate=rate)
                        stream.width = painter.out_width
                        stream.height = h + h % 2 + painter.strip_height
                        stream.pix_fmt = "yuv420p"
                        stream.time_base = time_base
                        stream.codec_context.time_base = time_base
                        stream.options = {"crf": str(crf), "preset": preset}
                        # Frame threads: x264 runs ~1.3x faster than with FFmpeg's default
                        # sliced threads on 2 cores.
                        stream.codec_context.thread_type = "FRAME"
                    picture = painter.compose(frame.image.copy(), frame.index)
                    vf = av.VideoFrame.from_ndarray(picture, format="rgb24")
                    vf.pts = written
                    vf.time_base = time_base
                    for packet in stream.encode(vf):
                        container.mux(packet)
                    written += 1
                    if progress is not None:
                        progress(written, total)
                if stream is not None:
                    for packet in stream.encode(None):
                        container.mux(packet)
            finally:
                container.close()
        if report.video.frame_count and written != report.video.frame_count:
            logger.warning("%s: decoded %d frames but the report has %d; the overlay may not "
                           "line up", video, written, report.video.frame_count)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
