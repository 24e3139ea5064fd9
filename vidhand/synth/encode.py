"""H.264 writing in a child process, so that a rerun gives the same file.

x264 gave different bytes for the same frames now and then: five different files for one
38-frame excerpt made by the accuracy benchmark's workers, and 3 or 4 of 32 clips on a
rerun of a placement set. A cause (found 2026-11-27): FFmpeg pads every row of a frame
buffer to an aligned line size (1088 bytes for a 1080-pixel row) and leaves the padding
uninitialised, and x264 read it, so whatever the process's memory held there changed the
encoding (seen on the 1080- and 778-pixel-wide clips; 1280-pixel rows need no padding).
Encoding one 1080x1920 clip four times at once gave two different files in each of three
rounds; with the padding set to zero, twelve identical ones. The child converts each frame
to the encoder's pixel format and zeroes the padding itself (:func:`encoder_frame`). Not
all of it is gone: another 1080x1920 clip still gave one different file in twelve such
encodes (and four of four identical with x264's assembly turned off, which made the
encode about four times slower, so it was not adopted), and a rerun of the benchmark's
first placement set in a fresh folder differed from the run before in that one file of 64.

:class:`H264Writer` pipes raw RGB frames to ``python -m vidhand.synth.encode``, a fresh
interpreter that never loads MediaPipe and encodes with one thread (the first measures
taken against the variation, kept because they cost little and keep a failing encoder out
of the caller's process), and renames the finished file into place only when the child
reports every frame written.

Example:
    >>> with H264Writer(Path("out.mp4"), Fraction(30), 640, 360) as out:
    ...     for image in frames:  # (360, 640, 3) uint8 RGB
    ...         out.write(image)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from vidhand.errors import VideoWriteError

#: x264 settings of synthesized clips: visually lossless, fast.
SYNTH_OPTIONS = {"crf": "17", "preset": "fast"}


class H264Writer:
    """Writes RGB frames as H.264 at constant rate ``rate`` through a child encoder.

    Writes to a temporary file beside ``path`` and renames it on success; on an error
    (here or in the child, which raises :class:`~vidhand.errors.VideoWriteError`) the
    temporary file is removed and nothing is left at ``path``.
    Sizes that 4:2:0 cannot hold (odd width or height) are encoded 4:4:4 rather than
    resized.

    Args:
        path: the output file (container from its suffix, e.g. ``.mp4``).
        rate: frames per second.
        width, height: frame size; every frame written must be (height, width, 3) uint8.
        options: x264 options (default :data:`SYNTH_OPTIONS`).
    """

    def __init__(self, path: Path, rate: Fraction, width: int, height: int,
                 options: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.size = (width, height)
        self.count = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix or '.mp4'}")
        spec = {"path": str(self.tmp), "rate": [rate.numerator, rate.denominator],
                "width": width, "height": height, "options": options or SYNTH_OPTIONS}
        # The child's messages go to a file: a pipe nobody reads while frames are being
        # written could fill up and stall both processes.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()/abort()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vidhand.synth.encode", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)

    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """Append one (height, width, 3) uint8 RGB frame."""
        w, h = self.size
        if image.shape != (h, w, 3) or image.dtype != np.uint8:
            raise ValueError(f"{self.path}: frame of shape {image.shape} {image.dtype}, "
                             f"expected ({h}, {w}, 3) uint8")
        stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        try:
            stdin.write(np.ascontiguousarray(image).data)
        except BrokenPipeError:
            raise VideoWriteError(self._child_error()) from None
        self.count += 1

    def _child_message(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        self._stderr.close()
        return lines[-1] if lines else f"exit code {self.proc.returncode}"

    def _child_error(self) -> str:
        self.proc.wait()  # the pipe broke: the child is gone
        message = self._child_message()
        self.abort()
        return (f"{self.path}: the encoder stopped: {message}; check the output "
                f"folder and free disk space")

    def close(self) -> None:
        """Finish the file and move it into place (raises if the child failed)."""
        out, _ = self.proc.communicate()
        written = out.decode().strip()
        if self.proc.returncode != 0 or written != str(self.count):
            self.tmp.unlink(missing_ok=True)
            raise VideoWriteError(f"{self.path}: the encoder stopped after {written or 0} of "
                                  f"{self.count} frames: {self._child_message()}; check the "
                                  f"output folder and free disk space")
        self._stderr.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Stop the child and remove the partial file (again: nothing happens)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.tmp.unlink(missing_ok=True)
        self._stderr.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def encoder_frame(image: npt.NDArray[np.uint8], pix_fmt: str) -> Any:
    """``image`` (RGB, h x w x 3) as an ``av.VideoFrame`` in ``pix_fmt`` (8-bit planar)
    whose row padding is zero, so the encoder never sees uninitialised memory."""
    import av

    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
    zero_row_padding(frame)
    return frame


def zero_row_padding(frame: Any) -> None:
    """Set the bytes past each row's pixels (up to the plane's line size) to zero, in place
    (8-bit planar frames: a row holds ``plane.width`` bytes of picture)."""
    for plane in frame.planes:
        if plane.line_size > plane.width:
            rows = np.asarray(memoryview(plane)).reshape(-1, plane.line_size)
            rows[:, plane.width:] = 0


def _encode(spec: dict[str, Any], stdin: IO[bytes]) -> int:
    """The child's side: read raw frames from ``stdin`` until it closes, encode them."""
    import av

    w, h = spec["width"], spec["height"]
    rate = Fraction(*spec["rate"])
    nbytes = w * h * 3
    count = 0
    with av.open(spec["path"], mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
        stream.options = dict(spec["options"])
        # One encoder thread (taken against the variation before its cause was found).
        stream.codec_context.thread_count = 1
        stream.codec_context.time_base = Fraction(1, 1) / rate
        while True:
            buf = stdin.read(nbytes)
            if not buf:
                break
            if len(buf) != nbytes:
                raise ValueError(f"a frame ended after {len(buf)} of {nbytes} bytes")
            image = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
            frame = encoder_frame(image, stream.pix_fmt)
            frame.pts = count
            frame.time_base = stream.codec_context.time_base
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode())
    return count


if __name__ == "__main__":  # pragma: no cover - runs in the child
    print(_encode(json.loads(sys.argv[1]), sys.stdin.buffer), flush=True)
