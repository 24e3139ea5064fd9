"""Drawing primitives shared by the preview and the thumbnails (internal).

Images are RGB uint8 arrays drawn in place; colours are RGB tuples. Every function
that draws returns the rectangle(s) it touched as ``(x0, y0, x1, y1)`` with ``x1``/``y1``
exclusive and clipped to the image, so callers (and tests) know exactly which
pixels an overlay may have changed.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from vidhand.hand_model import EDGES, TIPS

Rgb = tuple[int, int, int]
Rect = tuple[int, int, int, int]
Image = npt.NDArray[np.uint8]

FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKING: Rgb = (16, 17, 20)
INK: Rgb = (240, 240, 240)
OUTLINE: Rgb = (0, 0, 0)

#: Per-track colours (track 1 first), chosen to stay apart from the severity colours.
TRACK_COLOURS: tuple[Rgb, ...] = (
    (0, 200, 255),    # sky
    (235, 90, 235),   # magenta
    (70, 225, 120),   # green
    (120, 140, 255),  # periwinkle
    (0, 230, 200),    # teal
    (255, 150, 200),  # pink
    (190, 230, 60),   # lime
    (175, 120, 255),  # violet
)
UNTRACKED: Rgb = (200, 200, 200)

#: Severity level -> colour (levels come from the report's profile thresholds).
SEVERITY_COLOURS: dict[str, Rgb] = {
    "info": (250, 215, 60),
    "warn": (255, 140, 20),
    "fail": (240, 50, 50),
}


def track_colour(track_id: int | None) -> Rgb:
    """The colour of a track, the same in every frame, preview and thumbnail."""
    if track_id is None:
        return UNTRACKED
    return TRACK_COLOURS[(track_id - 1) % len(TRACK_COLOURS)]


def ui_scale(width: int, height: int) -> float:
    """Size factor for lines and text: 1.0 at about 600x600, clamped to [0.75, 3]."""
    return min(3.0, max(0.75, math.sqrt(width * height) / 600.0))


def clip_rect(rect: tuple[float, float, float, float], width: int, height: int) -> Rect | None:
    """``rect`` rounded outward and clipped to the image, or ``None`` when it is outside."""
    x0, y0 = max(0, math.floor(rect[0])), max(0, math.floor(rect[1]))
    x1, y1 = min(width, math.ceil(rect[2])), min(height, math.ceil(rect[3]))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def blend_rect(img: Image, rect: Rect, colour: Rgb, alpha: float) -> Rect | None:
    """Blend a filled rectangle of ``colour`` over ``img`` with opacity ``alpha``."""
    r = clip_rect(rect, img.shape[1], img.shape[0])
    if r is None:
        return None
    x0, y0, x1, y1 = r
    roi = img[y0:y1, x0:x1]
    if alpha >= 1.0:
        roi[:] = colour
    else:
        blended = roi.astype(np.float32) * (1.0 - alpha) + np.float32(colour) * alpha
        roi[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return r


def text_size(text: str, scale: float, thickness: int) -> tuple[int, int, int]:
    """(width, ascent, descent) of ``text`` in pixels."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    return w, h, base


def fit_text(text: str, max_width: int, scale: float, thickness: int) -> str:
    """``text`` shortened with '...' so it is at most ``max_width`` pixels wide."""
    if text_size(text, scale, thickness)[0] <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if text_size(text[:mid].rstrip() + "...", scale, thickness)[0] <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..." if lo else ""


def wrap_text(text: str, max_width: int, scale: float, thickness: int,
              max_lines: int = 3) -> list[str]:
    """Split ``text`` into lines at most ``max_width`` wide (the last one ellipsised)."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for i, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if text_size(trial, scale, thickness)[0] <= max_width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
    if current:
        lines.append(current)
    return [fit_text(line, max_width, scale, thickness) for line in lines[:max_lines]]


def label(
    img: Image,
    text: str,
    xy: tuple[int, int],
    *,
    scale: float,
    fg: Rgb = INK,
    bg: Rgb = BACKING,
    alpha: float = 0.78,
    accent: Rgb | None = None,
    anchor: str = "top",
) -> Rect | None:
    """Draw ``text`` on a (semi-transparent) backing box, kept inside the image.

    Args:
        xy: top-left corner of the box (``anchor="top"``) or bottom-left (``"bottom"``).
        scale: the :func:`ui_scale` factor; font size and padding follow it.
        accent: colour of a bar on the box's left edge (e.g. the track colour).

    Returns:
        The box drawn, or ``None`` when the image is too small to hold it.
    """
    h_img, w_img = img.shape[:2]
    fs, th = 0.48 * scale, max(1, round(scale))
    pad = max(2, round(4 * scale))
    bar = max(3, round(4 * scale)) if accent is not None else 0
    tw, asc, desc = text_size(text, fs, th)
    box_w, box_h = tw + 2 * pad + bar, asc + desc + 2 * pad
    if box_w > w_img:
        text = fit_text(text, w_img - 2 * pad - bar, fs, th)
        tw = text_size(text, fs, th)[0]
        box_w = tw + 2 * pad + bar
    x = min(max(0, xy[0]), w_img - box_w)
    y = xy[1] if anchor == "top" else xy[1] - box_h
    y = min(max(0, y), h_img - box_h)
    if not text or x < 0 or y < 0:
        return None
    rect = blend_rect(img, (x, y, x + box_w, y + box_h), bg, alpha)
    if accent is not None:
        blend_rect(img, (x, y, x + bar, y + box_h), accent, 1.0)
    cv2.putText(img, text, (x + bar + pad, y + pad + asc), FONT, fs, fg, th, cv2.LINE_AA)
    return rect


def draw_skeleton(img: Image, landmarks_xy: npt.NDArray[np.floating], colour: Rgb,
                  scale: float) -> Rect | None:
    """Draw the 21-landmark hand skeleton: dark-edged lines and joints, white fingertips.

    Args:
        landmarks_xy: (21, 2) pixel coordinates in ``img``.

    Returns:
        The rectangle bounding everything drawn (clipped), or ``None`` if off-image.
    """
    h_img, w_img = img.shape[:2]
    shift = 4  # sub-pixel precision for anti-aliased drawing
    pts = np.round(np.asarray(landmarks_xy, np.float64) * (1 << shift)).astype(np.int64)
    if not np.isfinite(landmarks_xy).all():
        return None
    t = max(1, round(1.6 * scale))
    r = max(2, round(2.2 * scale))
    for a, b in EDGES:
        cv2.line(img, tuple(pts[a]), tuple(pts[b]), OUTLINE, t + 2, cv2.LINE_AA, shift)
    for a, b in EDGES:
        cv2.line(img, tuple(pts[a]), tuple(pts[b]), colour, t, cv2.LINE_AA, shift)
    for i, p in enumerate(pts):
        fill = INK if i in TIPS else colour
        cv2.circle(img, tuple(p), (r + 1) << shift, OUTLINE, -1, cv2.LINE_AA, shift)
        cv2.circle(img, tuple(p), r << shift, fill, -1, cv2.LINE_AA, shift)
    reach = r + t + 3  # joint radius + outline + anti-aliasing fringe
    xy = np.asarray(landmarks_xy, np.float64)
    return clip_rect((xy[:, 0].min() - reach, xy[:, 1].min() - reach,
                      xy[:, 0].max() + reach + 1, xy[:, 1].max() + reach + 1), w_img, h_img)


def draw_box(img: Image, rect: tuple[float, float, float, float], colour: Rgb, thickness: int,
             *, dashed: bool = False) -> Rect | None:
    """Outline ``rect`` (with a thin dark edge for contrast), optionally dashed.

    Returns:
        The rectangle touched (``rect`` grown by the line width), clipped.
    """
    h_img, w_img = img.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in rect)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    segments: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        if not dashed:
            segments.append(((ax, ay), (bx, by)))
            continue
        length = math.hypot(bx - ax, by - ay)
        dash = max(6, 4 * thickness)
        steps = max(1, int(length // (2 * dash)))
        for k in range(steps + 1):
            s0, s1 = 2 * k * dash / max(length, 1), min(1.0, (2 * k + 1) * dash / max(length, 1))
            if s0 >= 1.0:
                break
            segments.append(((round(ax + (bx - ax) * s0), round(ay + (by - ay) * s0)),
                             (round(ax + (bx - ax) * s1), round(ay + (by - ay) * s1))))
    for a, b in segments:
        cv2.line(img, a, b, OUTLINE, thickness + 2, cv2.LINE_AA)
    for a, b in segments:
        cv2.line(img, a, b, colour, thickness, cv2.LINE_AA)
    g = thickness // 2 + 3
    return clip_rect((x0 - g, y0 - g, x1 + g + 1, y1 + g + 1), w_img, h_img)


def draw_corners(img: Image, rect: tuple[float, float, float, float], colour: Rgb,
                 thickness: int) -> Rect | None:
    """Mark ``rect`` with corner brackets (a quarter of the shorter side long)."""
    h_img, w_img = img.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in rect)
    arm = max(4, round(0.25 * min(x1 - x0, y1 - y0)))
    polys = [np.array(p, np.int32).reshape(-1, 1, 2) for p in (
        [(x0, y0 + arm), (x0, y0), (x0 + arm, y0)], [(x1 - arm, y0), (x1, y0), (x1, y0 + arm)],
        [(x1, y1 - arm), (x1, y1), (x1 - arm, y1)], [(x0 + arm, y1), (x0, y1), (x0, y1 - arm)])]
    cv2.polylines(img, polys, False, OUTLINE, thickness + 2, cv2.LINE_AA)
    cv2.polylines(img, polys, False, colour, thickness, cv2.LINE_AA)
    g = thickness // 2 + 3
    return clip_rect((x0 - g, y0 - g, x1 + g + 1, y1 + g + 1), w_img, h_img)


def drawn(rects: list[Rect | None]) -> list[Rect]:
    """The rectangles actually drawn (``None`` entries dropped; not merged)."""
    return [r for r in rects if r is not None]


def to_bgr(img: Image) -> Image:
    """RGB -> BGR for cv2 writers."""
    return np.ascontiguousarray(img[:, :, ::-1])
