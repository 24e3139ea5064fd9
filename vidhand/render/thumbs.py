"""Event thumbnails: the flagged hand before, during and after each event, plus a contact sheet.

For every event, three frames are cropped around the event's hand: a few frames
*before* the event starts, the *middle* of the event, and a few frames *after* it ends.
The three windows have one size (the largest of the hand's boxes in those frames,
padded) and each is centred on the hand in its frame, or where the hand was last seen
when it is not detected there; an event without a track, or whose track was never
seen, shows the whole frame. The video is decoded once, up to the last frame needed.

Example:
    >>> from vidhand.report import read_report
    >>> from vidhand.render import render_thumbs
    >>> render_thumbs(read_report("out/clip.json"), "out/clip_thumbs/")[-1]
    PosixPath('out/clip_thumbs/contact_sheet.png')
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidhand.report import Report, write_bytes_atomic
from vidhand.types import Event, HandFrame

from . import _draw as d
from ._common import TrackBoxes, check_same_video, event_label, resolve_video, severity_level

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, "int | None"], None]

#: The three moments of an event, in display order.
ROLES: tuple[str, ...] = ("before", "during", "after")
#: File name of the sheet tiling every event's thumbnail.
CONTACT_SHEET = "contact_sheet.png"

#: Size of one before/during/after picture in a thumbnail (crops are letterboxed into it).
_PANEL_WH = (320, 240)
_MAX_SHEET_TILES = 60


@dataclass(frozen=True)
class CropPlan:
    """Which frames and which window show one event.

    Attributes:
        event_id: the event's id.
        frames: role (``before``/``during``/``after``) -> 0-based frame index.
        windows: role -> crop window in source pixels (x1/y1 exclusive), ``None`` for
            the whole frame.
        hand_boxes: role -> the event hand's box in source pixels in that frame, or
            ``None`` where the hand was not detected.
    """

    event_id: int
    frames: dict[str, int]
    windows: dict[str, tuple[int, int, int, int] | None]
    hand_boxes: dict[str, tuple[float, float, float, float] | None]


def plan_event_crops(report: Report, event: Event, hand_frames: list[HandFrame] | TrackBoxes
                     ) -> CropPlan:
    """Choose the before/during/after frames and the crop window of ``event``.

    Args:
        report: the event's report (frame count, frame rate, frame size).
        event: one of ``report.events``.
        hand_frames: every frame's hands with report track ids (or a prebuilt index).
    """
    boxes = hand_frames if isinstance(hand_frames, TrackBoxes) else TrackBoxes(hand_frames)
    last = max(report.video.frame_count - 1, event.end_frame)
    context = max(2, min(8, round(0.25 * float(report.frame_rate))))
    frames = {"before": max(0, event.start_frame - context),
              "during": (event.start_frame + event.end_frame) // 2,
              "after": min(last, event.end_frame + context)}
    hand_boxes: dict[str, tuple[float, float, float, float] | None] = dict.fromkeys(ROLES)
    windows: dict[str, tuple[int, int, int, int] | None] = dict.fromkeys(ROLES)
    if event.track_id is None:
        return CropPlan(event.event_id, frames, windows, hand_boxes)
    # Before and after show the hand where it was detected: the context frame, or where
    # the detector missed it there, the detection between it and the event nearest to
    # it (a vanished hand's last sighting, not an empty place).
    seen_at = boxes.present(event.track_id)
    i = bisect.bisect_left(seen_at, frames["before"])
    if i < len(seen_at) and seen_at[i] < event.start_frame:
        frames["before"] = seen_at[i]
    j = bisect.bisect_right(seen_at, frames["after"])
    if j > 0 and seen_at[j - 1] > event.end_frame:
        frames["after"] = seen_at[j - 1]
    centres: dict[str, np.ndarray] = {}
    for role, f in frames.items():
        b = boxes.union(event.track_id, f, f)
        if b is not None:
            hand_boxes[role] = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        seen = boxes.nearest(event.track_id, f) if b is None else (f, b)
        if seen is not None:
            centres[role] = seen[1]
    if centres:
        stack = np.stack(list(centres.values()))
        size_wh = (float((stack[:, 2] - stack[:, 0]).max()),
                   float((stack[:, 3] - stack[:, 1]).max()))
        for role, b in centres.items():
            windows[role] = _window(b, size_wh, report.video.width, report.video.height)
    return CropPlan(event.event_id, frames, windows, hand_boxes)


def _window(box: np.ndarray, size_wh: tuple[float, float], width: int,
            height: int) -> tuple[int, int, int, int]:
    """A crop window centred on ``box``: ``size_wh`` plus a 35 % margin, aspect within
    3:4..4:3, at least 96 px, shifted to stay inside the frame."""
    cx, cy = float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
    w, h = max(size_wh[0], 1.0), max(size_wh[1], 1.0)
    side = max(w, h)
    w, h = w + 0.7 * side, h + 0.7 * side
    w, h = max(w, 0.75 * h, 96.0), max(h, 0.75 * w, 96.0)
    wi, hi = min(math.ceil(w), width), min(math.ceil(h), height)
    x0 = min(max(0, round(cx - wi / 2)), width - wi)
    y0 = min(max(0, round(cy - hi / 2)), height - hi)
    return x0, y0, x0 + wi, y0 + hi


def event_crops(report: Report, event: Event, hand_frames: list[HandFrame] | TrackBoxes,
                frames: Mapping[int, np.ndarray]) -> dict[str, np.ndarray]:
    """Crop ``event``'s hand before, during and after it, without touching files.

    Args:
        report: the event's report.
        event: one of ``report.events``.
        hand_frames: every frame's hands with report track ids.
        frames: frame index -> RGB image in source pixels (at least the planned frames;
            see :func:`plan_event_crops`).

    Returns:
        Role (``before``/``during``/``after``) -> RGB crop (a copy); a role whose frame
        is not in ``frames`` is left out.
    """
    plan = plan_event_crops(report, event, hand_frames)
    return {role: _crop(frames[f], plan.windows[role])
            for role, f in plan.frames.items() if f in frames}


def _crop(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    if box is None:
        return image.copy()
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1].copy()


# --- composing the PNGs ----------------------------------------------------------------

def compose_event_thumb(report: Report, event: Event, plan: CropPlan,
                        crops: Mapping[str, np.ndarray]) -> np.ndarray:
    """Lay out one event's labelled before/during/after panels as an RGB image."""
    margin, gap = 14, 10
    level = severity_level(report, event.severity)
    sev_colour = d.SEVERITY_COLOURS[level]
    panels = [_panel(report, event, plan, role, crops.get(role), sev_colour) for role in ROLES]
    body_w = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    width = max(body_w + 2 * margin, 560)

    fs_title, fs, th = 0.7, 0.5, 1
    title = f"#{event.event_id}  {event_label(event).upper()}"
    sev = f"severity {event.severity:.2f} ({level})"
    if event.track_id is not None:
        who = f"track #{event.track_id}"
        hand = _track_handedness(report, event.track_id)
        who += f" ({hand})" if hand else ""
    else:
        who = "whole frame"
    where = (f"{who}  |  frames {event.start_frame}-{event.end_frame}  |  "
             f"{event.start_s:.2f}-{event.end_s:.2f} s")
    msg_lines = d.wrap_text(event.message, width - 2 * margin, fs, th, max_lines=3)
    line_h = d.text_size("Ag", fs, th)[1] + 10
    title_h = d.text_size("Ag", fs_title, 2)[1] + 14
    header_h = margin + title_h + line_h * (1 + len(msg_lines)) + 6
    height = header_h + panels[0].shape[0] + margin

    img = np.empty((height, width, 3), np.uint8)
    img[:] = (28, 29, 34)
    img[:, :6] = sev_colour  # severity edge
    y = margin + d.text_size("Ag", fs_title, 2)[1]
    cv2.putText(img, title, (margin + 6, y), d.FONT, fs_title, sev_colour, 2, cv2.LINE_AA)
    tw = d.text_size(title, fs_title, 2)[0]
    cv2.putText(img, sev, (margin + 6 + tw + 16, y), d.FONT, fs, d.INK, th, cv2.LINE_AA)
    y += title_h - 4
    cv2.putText(img, d.fit_text(where, width - 2 * margin, fs, th), (margin + 6, y), d.FONT, fs,
                (190, 192, 198), th, cv2.LINE_AA)
    for line in msg_lines:
        y += line_h
        cv2.putText(img, line, (margin + 6, y), d.FONT, fs, d.INK, th, cv2.LINE_AA)
    x = margin + max(0, (width - 2 * margin - body_w) // 2)
    for p in panels:
        img[header_h:header_h + p.shape[0], x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return img


def _panel(report: Report, event: Event, plan: CropPlan, role: str, crop: np.ndarray | None,
           sev_colour: d.Rgb) -> np.ndarray:
    """One labelled crop, letterboxed into a fixed panel, with a caption bar below."""
    cap_h, border = 30, 3
    pw, ph = _PANEL_WH
    f = plan.frames[role]
    pic = np.empty((ph, pw, 3), np.uint8)
    pic[:] = (40, 41, 46)
    if crop is None or crop.size == 0:
        cv2.putText(pic, f"frame {f} not decoded", (12, ph // 2), d.FONT, 0.5, d.INK, 1,
                    cv2.LINE_AA)
    else:
        ch, cw = crop.shape[:2]
        s = min(ph / ch, pw / cw)
        size = (max(1, round(cw * s)), max(1, round(ch * s)))
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        xo, yo = (pw - size[0]) // 2, (ph - size[1]) // 2
        view = pic[yo:yo + size[1], xo:xo + size[0]]
        view[:] = cv2.resize(crop, size, interpolation=interp)
        hb, win = plan.hand_boxes.get(role), plan.windows.get(role)
        if hb is not None:  # mark the event's hand among other hands, in its track colour
            ox, oy = (win[0], win[1]) if win is not None else (0, 0)
            g = 5
            d.draw_corners(view, ((hb[0] - ox) * s - g, (hb[1] - oy) * s - g,
                                  (hb[2] - ox) * s + g, (hb[3] - oy) * s + g),
                           d.track_colour(event.track_id), 2)
    panel = np.empty((ph + cap_h + 2 * border, pw + 2 * border, 3), np.uint8)
    panel[:] = sev_colour if role == "during" else (70, 72, 80)
    panel[border:border + ph + cap_h, border:-border] = (18, 19, 22)
    panel[border:border + ph, border:border + pw] = pic
    rate = float(report.frame_rate) or 1.0
    text = f"{role.upper()}  f{f}  {f / rate:.2f} s"
    if role != "during" and event.start_frame <= f <= event.end_frame:
        text += "  (in event)"  # clipped at the video's start or end
    if event.track_id is not None and plan.hand_boxes[role] is None:
        text += "  (no hand)"
    colour = sev_colour if role == "during" else d.INK
    text = d.fit_text(text, pw - 12, 0.48, 1)
    cv2.putText(panel, text, (border + 8, border + ph + 21), d.FONT, 0.48, colour, 1, cv2.LINE_AA)
    return panel


def _track_handedness(report: Report, track_id: int) -> str:
    for t in report.tracks:
        if t.track_id == track_id:
            return t.handedness
    return ""


def compose_contact_sheet(report: Report, thumbs: list[np.ndarray]) -> np.ndarray:
    """Tile event thumbnails (RGB) under a title line; a short notice when there are none."""
    name = Path(report.video.path).name
    s = report.summary
    title = (f"{name}  |  {s.verdict.upper()}  score {s.score:.2f}  |  {len(report.events)} "
             f"event(s)  |  {report.video.frame_count} frames @ {report.video.fps:.3g} fps")
    margin, gap, title_h = 16, 12, 44
    shown = thumbs[:_MAX_SHEET_TILES]
    if not shown:
        img = np.full((title_h + 60, 720, 3), (28, 29, 34), np.uint8)
        cv2.putText(img, d.fit_text(title, 720 - 2 * margin, 0.55, 1), (margin, 30), d.FONT,
                    0.55, d.INK, 1, cv2.LINE_AA)
        cv2.putText(img, "No events: nothing was flagged.", (margin, title_h + 32), d.FONT,
                    0.55, (170, 220, 170), 1, cv2.LINE_AA)
        return img
    cols = 1 if len(shown) == 1 else 2 if len(shown) <= 6 else 3
    tile_w = min(max(t.shape[1] for t in shown), (1920 - 2 * margin) // cols - gap)
    tiles = [cv2.resize(t, (tile_w, max(1, round(t.shape[0] * tile_w / t.shape[1]))),
                        interpolation=cv2.INTER_AREA) if t.shape[1] != tile_w else t
             for t in shown]
    rows = [tiles[i:i + cols] for i in range(0, len(tiles), cols)]
    row_h = [max(t.shape[0] for t in row) for row in rows]
    width = 2 * margin + cols * tile_w + (cols - 1) * gap
    more = len(thumbs) - len(shown)
    footer = 36 if more else 0
    height = title_h + sum(row_h) + gap * (len(rows) - 1) + margin + footer
    img = np.full((height, width, 3), (14, 15, 18), np.uint8)
    cv2.putText(img, d.fit_text(title, width - 2 * margin, 0.6, 1), (margin, 30), d.FONT, 0.6,
                d.INK, 1, cv2.LINE_AA)
    y = title_h
    for row, rh in zip(rows, row_h, strict=True):
        x = margin
        for t in row:
            img[y:y + t.shape[0], x:x + tile_w] = t
            x += tile_w + gap
        y += rh + gap
    if more:
        cv2.putText(img, f"... and {more} more event(s): see the event PNGs", (margin, y + 12),
                    d.FONT, 0.55, d.INK, 1, cv2.LINE_AA)
    return img


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", d.to_bgr(img))
    if not ok:  # pragma: no cover - cv2 encodes any uint8 RGB image
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def thumb_name(event: Event) -> str:
    """File name of an event's thumbnail: ``event_003_missing_finger.png``."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", event.type)
    return f"event_{event.event_id:03d}_{safe}.png"


def render_thumbs(
    report: Report,
    out_dir: str | os.PathLike[str],
    *,
    video_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Write one labelled PNG per event and ``contact_sheet.png`` into ``out_dir``.

    Args:
        report: a report with a landmark file.
        out_dir: folder for ``event_<id>_<type>.png`` files and the contact sheet
            (created if needed; files are written atomically).
        video_path: the source video when it is no longer where the report says.
        progress: called as ``progress(done, total)`` while frames are decoded.

    Returns:
        The event PNGs in event order, then the contact sheet.

    Raises:
        VideoOpenFailure: the video is missing or is not the report's video.
        LandmarkFileError: the report's landmark file is missing or unreadable.
    """
    from vidhand.pipeline import tracked_hand_frames
    from vidhand.video import open_video

    out = Path(out_dir)
    video = resolve_video(report, video_path)
    boxes = TrackBoxes(tracked_hand_frames(report))
    plans = {ev.event_id: plan_event_crops(report, ev, boxes) for ev in report.events}
    wanted: dict[int, list[tuple[int, str]]] = {}
    for plan in plans.values():
        for role, f in plan.frames.items():
            wanted.setdefault(f, []).append((plan.event_id, role))
    crops: dict[int, dict[str, np.ndarray]] = {eid: {} for eid in plans}
    if wanted:
        stop = max(wanted)
        with open_video(video) as src:
            check_same_video(report, src.info)
            for frame in src:
                for eid, role in wanted.get(frame.index, ()):
                    crops[eid][role] = _crop(frame.image, plans[eid].windows[role])
                if progress is not None:
                    progress(frame.index + 1, stop + 1)
                if frame.index >= stop:
                    break

    paths: list[Path] = []
    thumbs: list[np.ndarray] = []
    for ev in report.events:
        img = compose_event_thumb(report, ev, plans[ev.event_id], crops[ev.event_id])
        thumbs.append(img)
        paths.append(write_bytes_atomic(out / thumb_name(ev), _png(img)))
    sheet = compose_contact_sheet(report, thumbs)
    paths.append(write_bytes_atomic(out / CONTACT_SHEET, _png(sheet)))
    return paths
