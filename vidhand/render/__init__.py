"""Pictures of a report: the annotated preview video and per-event thumbnails (issue #4).

:func:`render_preview` writes the source video with every hand's skeleton, flagged
hands outlined with their event, and an event timeline below the picture.
:func:`render_thumbs` writes one PNG per event (the hand before, during and after it)
and a contact sheet. :func:`event_crops` and :class:`OverlayPainter` do the same
drawing without files, for the dashboard.

Example:
    >>> from vidhand.report import read_report
    >>> from vidhand.render import render_preview, render_thumbs
    >>> report = read_report("out/clip.json")
    >>> render_preview(report, "out/clip.preview.mp4")
    >>> render_thumbs(report, "out/clip_thumbs/")
"""

from __future__ import annotations

from ._common import resolve_video
from .preview import OverlayPainter, render_preview
from .thumbs import (
    CONTACT_SHEET,
    ROLES,
    CropPlan,
    compose_contact_sheet,
    compose_event_thumb,
    event_crops,
    plan_event_crops,
    render_thumbs,
    thumb_name,
)

__all__ = [
    "CONTACT_SHEET",
    "ROLES",
    "CropPlan",
    "OverlayPainter",
    "compose_contact_sheet",
    "compose_event_thumb",
    "event_crops",
    "plan_event_crops",
    "render_preview",
    "render_thumbs",
    "resolve_video",
    "thumb_name",
]
