"""Exceptions raised by vidhand.

Every error a user can cause (bad file, missing model, unknown option) is a
:class:`VidhandError` whose message is one line: what was expected, what was
found, and what to do. The CLI prints ``str(err)`` and exits with code 2.
"""

from __future__ import annotations


class VidhandError(Exception):
    """Base class of every error vidhand raises on purpose."""


class VideoOpenFailure(VidhandError):
    """A video file could not be opened (missing, empty, not a video, no video stream)."""


class VideoDecodeError(VidhandError):
    """A video stream broke while being decoded (truncated or corrupt data)."""


class FrameRateUnavailable(VidhandError):
    """A video stream declares no usable frame rate."""


class TrackerUnavailable(VidhandError):
    """The hand landmark model could not be loaded."""


class LandmarkFileError(VidhandError):
    """A landmark cache file is missing, corrupt or of an unknown version."""


class ReportError(VidhandError):
    """A report file is missing, corrupt or of an unknown schema."""


class OutputInUse(VidhandError):
    """Another ``vidhand batch`` is writing into the same output folder."""


class ExportError(VidhandError):
    """An export could not be written."""


class VideoWriteError(VidhandError):
    """A video could not be written (encoder failure, disk full, unwritable folder)."""
