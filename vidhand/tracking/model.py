"""Locate or build the ``hand_landmarker.task`` bundle, fully offline.

``mediapipe==0.10.21`` ships the palm detector and the hand landmark model inside
its wheel. A Tasks bundle is a zip of those two files stored uncompressed and
4-byte aligned under the names MediaPipe expects; we build it in memory and
check the models' sha256 so a different mediapipe build fails clearly instead
of silently changing results.

A user's own bundle is taken from ``--hand-model PATH`` or ``$VIDHAND_HAND_MODEL``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vidhand.errors import TrackerUnavailable

ENV_VAR = "VIDHAND_HAND_MODEL"

#: (path inside the mediapipe package, name inside the bundle, sha256) of mediapipe 0.10.21.
BUNDLED_MODELS: tuple[tuple[str, str, str], ...] = (
    ("modules/palm_detection/palm_detection_full.tflite", "hand_detector.tflite",
     "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54"),
    ("modules/hand_landmark/hand_landmark_full.tflite", "hand_landmarks_detector.tflite",
     "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"),
)


@dataclass(frozen=True)
class ModelBundle:
    """A hand landmarker bundle ready for ``BaseOptions(model_asset_buffer=...)``."""

    data: bytes
    source: str  # "mediapipe-0.10.21 (bundled)" or the user's path
    sha256: str


def _mediapipe_dir() -> Path:
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise TrackerUnavailable(
            "mediapipe is not installed; install vidhand's dependencies: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations)))


def _aligned_zip(members: list[tuple[str, bytes]]) -> bytes:
    """Zip ``members`` stored (no compression) with each file's data 4-byte aligned."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            # Local header is 30 bytes + name + extra; pad "extra" so data starts aligned.
            header_end = buf.tell() + 30 + len(name.encode())
            pad = (-header_end) % 4
            info.extra = b"\x00" * pad if pad == 0 else _padding_extra(pad)
            zf.writestr(info, data)
    return buf.getvalue()


def _padding_extra(pad: int) -> bytes:
    # An extra field needs a 4-byte header (id, size); pad with an unknown id 0xFFFF.
    while pad < 4:
        pad += 4
    return (0xFFFF).to_bytes(2, "little") + (pad - 4).to_bytes(2, "little") + b"\x00" * (pad - 4)


def bundled_model() -> ModelBundle:
    """Build the hand landmarker bundle from the models inside the installed mediapipe.

    Raises:
        TrackerUnavailable: a model file is missing or not the expected one.
    """
    root = _mediapipe_dir()
    members = []
    for rel, name, want in BUNDLED_MODELS:
        path = root / rel
        try:
            data = path.read_bytes()
        except OSError:
            raise TrackerUnavailable(
                f"{path}: hand model missing from the mediapipe package; install "
                f"mediapipe==0.10.21 (the last release that ships it) or pass "
                f"--hand-model PATH to a hand_landmarker.task") from None
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            raise TrackerUnavailable(
                f"{path}: sha256 {got[:12]}... is not the expected {want[:12]}... of "
                f"mediapipe 0.10.21; reinstall mediapipe==0.10.21 or pass --hand-model PATH")
        members.append((name, data))
    data = _aligned_zip(members)
    return ModelBundle(data=data, source="mediapipe-0.10.21 (bundled)",
                       sha256=hashlib.sha256(data).hexdigest())


def load_model(path: str | os.PathLike[str] | None = None) -> ModelBundle:
    """Return the user's bundle at ``path`` (or ``$VIDHAND_HAND_MODEL``), else the bundled one.

    Raises:
        TrackerUnavailable: the given file is missing or not a hand landmarker bundle.
    """
    chosen = path if path is not None else (os.environ.get(ENV_VAR) or None)
    if chosen is None:
        return bundled_model()
    p = Path(chosen)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise TrackerUnavailable(
            f"{p}: cannot read hand model ({exc.strerror or exc}); pass the path of a "
            f"hand_landmarker.task file") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise TrackerUnavailable(
            f"{p}: not a hand_landmarker.task bundle (not a zip); pass a MediaPipe "
            f"hand landmarker .task file") from None
    need = {"hand_detector.tflite", "hand_landmarks_detector.tflite"}
    if not need <= names:
        raise TrackerUnavailable(
            f"{p}: bundle lacks {', '.join(sorted(need - names))}; pass a MediaPipe "
            f"hand landmarker .task file")
    return ModelBundle(data=data, source=str(p), sha256=hashlib.sha256(data).hexdigest())
