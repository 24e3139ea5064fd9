"""MediaPipe Tasks ``HandLandmarker`` in VIDEO mode, behind :class:`HandTracker`.

MediaPipe is imported only when a tracker is created. One landmarker per process:
MediaPipe graphs are not shareable across threads.

Example:
    >>> from vidhand.tracking.mediapipe import MediaPipeTracker
    >>> with MediaPipeTracker(max_hands=2) as tracker:
    ...     hands = tracker.process(frame).hands
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from vidhand.errors import TrackerUnavailable
from vidhand.tracking.base import HandTracker
from vidhand.tracking.model import ModelBundle, load_model
from vidhand.types import Frame, Hand, HandFrame

logger = logging.getLogger(__name__)

# NOTE: the Tasks API labels hands for an unmirrored image in the subject's true sense
# (a right hand is "Right"); the legacy mp.solutions.hands assumes a mirrored selfie image
# and gives the opposite label for the same hand. vidhand reports the subject's true hand,
# so Tasks labels pass through. tests/test_tracking.py proves it on a frame whose
# handedness was checked by eye (ASL signer's right hand, palm out) and on its mirror.
_TASKS_LABEL_TO_TRUE = {"left": "left", "right": "right"}


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module not imported yet; the first attribute asked
    of it imports the real module (which then replaces it) and answers from that."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def import_mediapipe() -> Any:
    """Import and return ``mediapipe``, without importing matplotlib on the way.

    ``import mediapipe`` imports its legacy solutions, whose drawing helpers import
    ``matplotlib.pyplot`` for one 3D plotting function vidhand never calls: 0.6-0.9 s of
    every start here, a fifth of checking a 1.4 s clip. When matplotlib is not imported
    yet, ``matplotlib`` and ``matplotlib.pyplot`` are registered as :class:`_Deferred`
    stand-ins first, so code that uses them later in the same process still gets the
    real modules, imported on first use.
    """
    names = ("matplotlib", "matplotlib.pyplot")
    if ("mediapipe" not in sys.modules and not any(n in sys.modules for n in names)
            and importlib.util.find_spec(names[0]) is not None):
        parent, pyplot = _Deferred(names[0]), _Deferred(names[1])
        parent.pyplot = pyplot  # ``import matplotlib.pyplot as plt`` asks the parent
        sys.modules.update(zip(names, (parent, pyplot), strict=True))
    import mediapipe

    return mediapipe


_QUIET_LOCK = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence C++ log lines (absl/glog/TFLite) written straight to fd 2 during set-up.

    MediaPipe prints several warnings when a graph starts that mean nothing to users
    (no GPU, XNNPACK delegate). ``VIDHAND_DEBUG=1`` keeps them. Safe across threads:
    segment workers start their landmarkers at the same time, and fd 2 is redirected
    by the first one in and restored by the last one out.
    """
    global _quiet_depth, _quiet_saved
    if os.environ.get("VIDHAND_DEBUG", "") not in ("", "0"):
        yield
        return
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):  # no real fd 2 (embedded interpreters)
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _quiet_saved = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None


def hand_from_mediapipe(
    norm: Any, world: Any, handedness: Any, source_wh: tuple[int, int]
) -> Hand:
    """Convert one hand of a ``HandLandmarkerResult`` into a :class:`Hand`.

    Args:
        norm: the hand's 21 ``NormalizedLandmark``.
        world: the hand's 21 world ``Landmark`` (metres).
        handedness: the hand's list of ``Category`` (best first).
        source_wh: source frame size, to turn normalised x/y into source pixels.
    """
    lm = np.array([(p.x, p.y, p.z) for p in norm], dtype=np.float32)
    wl = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)
    w, h = source_wh
    px = lm[:, :2] * np.array([w, h], dtype=np.float32)
    cat = handedness[0] if handedness else None
    label = "unknown"
    score = 0.0
    if cat is not None:
        label = _TASKS_LABEL_TO_TRUE.get(str(cat.category_name).lower(), "unknown")
        score = float(cat.score)
    return Hand(landmarks_px=px, landmarks_norm=lm, world=wl, handedness=label,  # type: ignore[arg-type]
                handedness_score=score)


class MediaPipeTracker(HandTracker):
    """Hand landmarks from MediaPipe's ``HandLandmarker`` (Tasks API, VIDEO mode).

    Args:
        max_hands: the most hands reported per frame.
        model_path: a user ``hand_landmarker.task``; default: ``$VIDHAND_HAND_MODEL`` or
            the models bundled in mediapipe 0.10.21.
        min_detection_confidence: palm detector threshold.
        min_presence_confidence: landmark model hand-presence threshold.
        min_tracking_confidence: threshold for following a hand without re-detecting it.

    Raises:
        TrackerUnavailable: MediaPipe or the model cannot be loaded.
    """

    TRACKER_NAME = "mediapipe"

    def __init__(
        self,
        max_hands: int = 2,
        model_path: str | os.PathLike[str] | None = None,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        if max_hands < 1:
            raise ValueError(f"max_hands must be >= 1, got {max_hands}")
        self._bundle: ModelBundle = load_model(model_path)
        self._max_hands = max_hands
        self._conf = (min_detection_confidence, min_presence_confidence, min_tracking_confidence)
        # Quiet MediaPipe's C++ logging (glog/absl) unless the user asked for it.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            mp = import_mediapipe()
            from mediapipe.tasks.python.core.base_options import BaseOptions
            from mediapipe.tasks.python.vision import HandLandmarker, HandLandmarkerOptions
            from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
                VisionTaskRunningMode,
            )
        except ImportError as exc:
            raise TrackerUnavailable(
                f"cannot import mediapipe ({exc}); install with: pip install -e .") from None
        self._mp = mp
        options = HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=self._bundle.data),
            running_mode=VisionTaskRunningMode.VIDEO,
            num_hands=max_hands,
            min_hand_detection_confidence=min_detection_confidence,
            min_hand_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        try:
            with quiet_native_stderr():
                self._landmarker: Any = HandLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise TrackerUnavailable(
                f"{self._bundle.source}: MediaPipe could not load the hand model ({exc}); "
                f"pass a valid hand_landmarker.task with --hand-model") from None
        self._last_ts_ms = -1
        self._calls = 0

    @property
    def settings(self) -> dict[str, Any]:
        """Detector parameters recorded in every report."""
        return {
            "tracker": self.TRACKER_NAME,
            "max_hands": self._max_hands,
            "hand_model": self._bundle.source,
            "hand_model_sha256": self._bundle.sha256,
            "min_detection_confidence": self._conf[0],
            "min_presence_confidence": self._conf[1],
            "min_tracking_confidence": self._conf[2],
        }

    def process(self, frame: Frame) -> HandFrame:
        """Run the landmarker on ``frame``; raises ``RuntimeError`` after :meth:`close`."""
        if self._landmarker is None:
            raise RuntimeError("MediaPipeTracker is closed")
        # VIDEO mode needs strictly increasing integer ms timestamps.
        ts = round(frame.pts_s * 1000.0)
        if ts <= self._last_ts_ms:
            ts = self._last_ts_ms + 1
        self._last_ts_ms = ts
        image = frame.image
        if not image.flags.c_contiguous:
            image = np.ascontiguousarray(image)
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=image)
        if self._calls < 2:  # MediaPipe logs its set-up warnings on the first calls
            with quiet_native_stderr():
                result = self._landmarker.detect_for_video(mp_image, ts)
        else:
            result = self._landmarker.detect_for_video(mp_image, ts)
        self._calls += 1
        source_wh = frame.source_size_wh
        hands = tuple(
            hand_from_mediapipe(n, w, h, source_wh)
            for n, w, h in zip(result.hand_landmarks, result.hand_world_landmarks,
                               result.handedness, strict=True)
        )
        return HandFrame(frame_index=frame.index, pts_s=frame.pts_s, hands=hands,
                         frame_size_wh=source_wh)

    def close(self) -> None:
        """Close the landmarker (deterministic release of the MediaPipe graph)."""
        lm = getattr(self, "_landmarker", None)
        if lm is not None:
            self._landmarker = None
            lm.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()
