"""``analyze()``: the one place that wires decode -> track -> identity -> checks -> report.

Example:
    >>> import vidhand
    >>> report = vidhand.analyze("clip.mp4", landmarks_out="clip.landmarks.npz")
    >>> again = vidhand.analyze(from_landmarks="clip.landmarks.npz")  # no MediaPipe
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidhand._version import __version__
from vidhand.checks import Check, default_checks
from vidhand.evidence.frame import GHOST_WINDOW, EvidenceExtractor
from vidhand.report import Report, VideoSummary, get_profile, summarize
from vidhand.tracking.base import HandTracker
from vidhand.tracking.cache import LandmarkRecorder, read_landmarks
from vidhand.tracking.identity import IdentityTracker
from vidhand.types import Event, Finding, HandFrame, Track, VideoInfo

logger = logging.getLogger(__name__)

#: ``progress(done_frames, total_frames_or_None)``
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class AnalysisOptions:
    """Every parameter of an analysis that can change its result.

    Attributes:
        backend: decoder backend name (see ``vidhand.video.AVAILABLE_BACKENDS``).
        max_hands: most hands MediaPipe reports per frame.
        max_side: analyse frames downscaled so their longest side is at most this.
        hand_model: path of a user ``hand_landmarker.task`` (default: bundled model).
        profile: verdict thresholds: ``strict``, ``balanced`` or ``lenient``.
        max_gap_s: how long a hand may go undetected and keep its identity frame to frame.
        link_gap_s: longest detector gap across which a hand found again near where it
            was lost (same size and label, no scene cut) keeps its identity (0: never).
        min_track_frames: tracks seen in fewer frames are detector noise, not hands.
        pixel_evidence: measure digits, finger gaps and mask quality in each hand's pixels
            (off: landmark evidence only, faster).
        check_options: keyword options passed to the checks.
    """

    backend: str = "pyav"
    max_hands: int = 2
    max_side: int | None = None
    hand_model: str | None = None
    profile: str = "balanced"
    max_gap_s: float = 0.3
    link_gap_s: float = 1.5
    min_track_frames: int = 3
    pixel_evidence: bool = True
    check_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        get_profile(self.profile)  # raises ValueError listing valid names
        if self.max_hands < 1:
            raise ValueError(f"max_hands must be >= 1, got {self.max_hands}")
        if self.min_track_frames < 1:
            raise ValueError(f"min_track_frames must be >= 1, got {self.min_track_frames}")


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def default_landmarks_path(report_path: str | os.PathLike[str]) -> Path:
    """Where the landmark cache of ``report_path`` lives: ``<stem>.landmarks.npz`` beside it."""
    p = Path(report_path)
    return p.with_name(p.stem + ".landmarks.npz")


def analyze(
    path: str | os.PathLike[str] | None = None,
    *,
    options: AnalysisOptions | None = None,
    from_landmarks: str | os.PathLike[str] | None = None,
    landmarks_out: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    checks: list[Check] | None = None,
    jobs: int = 1,
    tracker: HandTracker | None = None,
    **option_kwargs: Any,
) -> Report:
    """Analyse one video and return its :class:`~vidhand.report.Report`.

    Args:
        path: the video file. Optional when ``from_landmarks`` is given.
        options: an :class:`AnalysisOptions`; or pass its fields as keyword arguments.
        from_landmarks: replay a landmark file instead of running MediaPipe.
        landmarks_out: where to save this run's landmark file (``None``: not saved).
        progress: called as ``progress(done, total)`` while frames are processed.
        checks: the checks to run (default: every registered check).
        jobs: worker threads for decode, MediaPipe and pixel evidence (0: one per CPU).
            With more than one, a long enough video is cut into segments analysed in
            parallel threads of this process (:mod:`vidhand.parallel`); tracks and
            events are those of ``jobs=1``.
        tracker: detect hands with this tracker instead of MediaPipe (the caller opens
            and closes it; the video then runs in one pass, whatever ``jobs`` says).

    Raises:
        VidhandError: the video, model or landmark file cannot be used (one-line message).
    """
    opts = options or AnalysisOptions(**option_kwargs)
    if options is not None and option_kwargs:
        raise TypeError("pass either options= or option keyword arguments, not both")
    checks = default_checks(**opts.check_options) if checks is None else checks

    recorder = LandmarkRecorder() if landmarks_out is not None else None
    if from_landmarks is not None:
        rec = read_landmarks(from_landmarks)
        meta = rec.meta
        info = _info_from_meta(meta["video"])
        video_meta = meta["video"]
        detector_settings = meta.get("detector", {})
        frames: Iterable[HandFrame] = rec.hand_frames()
        decode_error = video_meta.get("decode_error")
        sha256 = video_meta.get("sha256", "")
        total = len(rec.frame_index)
        result = _run_stages(frames, info, opts, checks, recorder, progress, total)
    else:
        if path is None:
            raise TypeError("analyze() needs a video path or from_landmarks=")
        from vidhand.video import open_video

        source = open_video(path, backend=opts.backend, max_side=opts.max_side)
        segments = None
        if jobs != 1 and tracker is None:
            from vidhand.parallel import plan_for, resolve_jobs

            jobs = resolve_jobs(jobs)
            segments = plan_for(source.info, opts, jobs, GHOST_WINDOW)
        with source:
            info = source.info
            sha256 = file_sha256(path)
            if segments is None:
                with contextlib.ExitStack() as stack:
                    if tracker is None:
                        from vidhand.tracking.mediapipe import MediaPipeTracker

                        tracker = stack.enter_context(MediaPipeTracker(
                            max_hands=opts.max_hands, model_path=opts.hand_model))
                    evidence = EvidenceExtractor(pixels=opts.pixel_evidence)
                    detector_settings = {**tracker.settings, "evidence": evidence.settings}
                    frames = (evidence.process(frame, tracker.process(frame))
                              for frame in source)
                    result = _run_stages(frames, info, opts, checks, recorder, progress,
                                         info.frame_count)
                decode_error = source.decode_error
                info = source.info  # some facts (VFR) are only known once the stream was read
        if segments is not None:
            # NOTE(#6): workers decode, track and measure; identity and checks run here once.
            from vidhand.parallel import SegmentRun, merged_info

            run = SegmentRun(path, opts, segments, jobs, progress, info.frame_count)
            result = _run_stages(run.hand_frames(), info, opts, checks, recorder, None,
                                 info.frame_count)
            detector_settings = run.detector_settings
            decode_error = run.decode_error
            info = merged_info(info, run)

    frame_count = result.frame_count
    rate = info.frame_rate
    duration = result.duration_s if frame_count else 0.0
    video = VideoSummary(
        path=str(info.path), sha256=sha256, frame_count=frame_count, fps=float(rate),
        fps_rational=f"{rate.numerator}/{rate.denominator}", width=info.width,
        height=info.height, duration_s=round(duration, 6), decode_error=decode_error,
        start_timecode=info.start_timecode, rotation_deg=info.rotation_deg,
        is_vfr=info.is_vfr, codec=info.codec, backend=info.backend,
    )
    settings = {
        "backend": opts.backend, "max_side": opts.max_side, "profile": opts.profile,
        "min_track_frames": opts.min_track_frames, "detector": detector_settings,
        "identity": result.identity_settings,
        "checks": {c.CHECK_NAME: c.settings for c in checks},
    }
    summary = summarize(result.events, frames_with_hands=result.frames_with_hands,
                        tracks=len(result.tracks), profile=opts.profile, notes=result.notes)
    landmarks_file = None
    if recorder is not None and landmarks_out is not None:
        meta_out = {"video": {**_video_meta(info), "sha256": sha256,
                              "decode_error": decode_error},
                    "detector": detector_settings, "vidhand_version": __version__}
        landmarks_file = str(recorder.write(landmarks_out, meta_out))
    elif from_landmarks is not None:
        landmarks_file = str(from_landmarks)
    return Report(video=video, settings=settings, tracks=tuple(result.tracks),
                  events=tuple(result.events), summary=summary, vidhand_version=__version__,
                  landmarks_file=landmarks_file)


@dataclass
class _StageResult:
    frame_count: int
    duration_s: float
    frames_with_hands: int
    tracks: list[Track]
    events: list[Event]
    notes: tuple[str, ...]
    identity_settings: dict[str, Any]


def _run_stages(
    frames: Iterable[HandFrame],
    info: VideoInfo,
    opts: AnalysisOptions,
    checks: list[Check],
    recorder: LandmarkRecorder | None,
    progress: ProgressCallback | None,
    total: int | None,
) -> _StageResult:
    identity = IdentityTracker(frame_rate=info.frame_rate, max_gap_s=opts.max_gap_s,
                               link_gap_s=opts.link_gap_s)
    for check in checks:
        check.begin(info)
    findings: list[Finding] = []
    pts: dict[int, float] = {}
    count = 0
    with_hands = 0
    first_pts = last_pts = 0.0
    for hf in frames:
        if recorder is not None:
            recorder.add(hf)
        tracked = identity.update(hf)
        for check in checks:
            findings.extend(check.process(tracked))
        pts[hf.frame_index] = hf.pts_s
        if count == 0:
            first_pts = hf.pts_s
        last_pts = hf.pts_s
        count += 1
        with_hands += bool(hf.hands)
        if progress is not None:
            progress(count, total)
    all_tracks = identity.tracks()
    # Confirmed tracks, joined across longer detector gaps, renumbered 1..n by first
    # appearance; noise tracks drop out.
    tracks, id_map = identity.linked(opts.min_track_frames)
    findings = [dataclasses.replace(f, track_id=id_map[f.track_id]) for f in findings
                if f.track_id is None or f.track_id in id_map]
    for check in checks:
        check.remap_tracks(id_map)
        findings.extend(check.finalize())
    dur = (last_pts - first_pts) + 1.0 / float(info.frame_rate) if count else 0.0
    events = _number_events(findings, pts, info.frame_rate)
    notes: list[str] = [n for c in checks for n in getattr(c, "notes", [])]
    dropped = len(all_tracks) - len(id_map)
    if dropped:
        notes.append(f"{dropped} detection(s) lasting under {opts.min_track_frames} frames "
                     f"ignored as detector noise")
    if identity.links:
        notes.append(f"{identity.links} detector gap(s) of up to {opts.link_gap_s:g} s bridged: "
                     f"the hand found again near where it was lost keeps its track")
    if identity.duplicates_dropped:
        notes.append(f"{identity.duplicates_dropped} duplicate detection(s) of one hand merged")
    return _StageResult(frame_count=count, duration_s=dur, frames_with_hands=with_hands,
                        tracks=tracks, events=events, notes=tuple(notes),
                        identity_settings=identity.settings)


def _number_events(findings: list[Finding], pts: dict[int, float], rate: Fraction) -> list[Event]:
    """Turn findings into events numbered in time order, with seconds."""
    events = []
    frame_s = 1.0 / float(rate)
    ordered = sorted(findings, key=lambda f: (f.start_frame, f.end_frame, f.type,
                                              f.track_id if f.track_id is not None else -1))
    for f in ordered:
        start_s = pts.get(f.start_frame, f.start_frame * frame_s)
        end_s = pts.get(f.end_frame, f.end_frame * frame_s) + frame_s
        events.append(Event(event_id=len(events), type=f.type, track_id=f.track_id,
                            start_frame=f.start_frame, end_frame=f.end_frame,
                            start_s=round(start_s, 6), end_s=round(end_s, 6),
                            severity=round(f.severity, 4), message=f.message,
                            evidence=dict(f.evidence)))
    return events


def _video_meta(info: VideoInfo) -> dict[str, Any]:
    rate = info.frame_rate
    return {"path": str(info.path), "width": info.width, "height": info.height,
            "frame_rate": f"{rate.numerator}/{rate.denominator}",
            "frame_count": info.frame_count, "duration_s": info.duration_s,
            "rotation_deg": info.rotation_deg, "codec": info.codec, "pix_fmt": info.pix_fmt,
            "is_vfr": info.is_vfr, "start_timecode": info.start_timecode,
            "backend": info.backend}


def _info_from_meta(v: dict[str, Any]) -> VideoInfo:
    return VideoInfo(path=v["path"], width=int(v["width"]), height=int(v["height"]),
                     frame_rate=Fraction(v["frame_rate"]), frame_count=v.get("frame_count"),
                     duration_s=v.get("duration_s"), rotation_deg=int(v.get("rotation_deg", 0)),
                     codec=v.get("codec", ""), pix_fmt=v.get("pix_fmt", ""),
                     is_vfr=bool(v.get("is_vfr", False)),
                     start_timecode=v.get("start_timecode"), backend=v.get("backend", ""))


def tracked_hand_frames(report: Report) -> list[HandFrame]:
    """Replay a report's landmark file and return every frame's hands with the report's ids.

    Hands of tracks the report dropped as detector noise are left out. Used by the
    preview renderer, thumbnails and the dashboard.

    Raises:
        LandmarkFileError: the report has no landmark file or it cannot be read.
    """
    from vidhand.errors import LandmarkFileError

    if not report.landmarks_file:
        raise LandmarkFileError("report has no landmark file; re-run `vidhand check` to save one")
    rec = read_landmarks(report.landmarks_file)
    identity = IdentityTracker.from_settings(report.frame_rate, report.settings["identity"])
    tracked = [identity.update(hf) for hf in rec.hand_frames()]
    _, id_map = identity.linked(int(report.settings.get("min_track_frames", 1)))
    return [dataclasses.replace(hf, hands=tuple(h.with_track(id_map[h.track_id])
                                                for h in hf.hands if h.track_id in id_map))
            for hf in tracked]


def check_hand_frames(
    hand_frames: Iterable[HandFrame], info: VideoInfo, options: AnalysisOptions | None = None,
) -> tuple[list[Track], list[Event], tuple[str, ...]]:
    """Run identity and the checks on ready-made hand frames (tests, custom detectors).

    Returns the tracks, the events and the summary notes, as :func:`analyze` would.
    """
    opts = options or AnalysisOptions()
    checks = default_checks(**opts.check_options)
    result = _run_stages(hand_frames, info, opts, checks, None, None, None)
    return result.tracks, result.events, result.notes
