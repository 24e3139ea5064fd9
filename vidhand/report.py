"""The vidhand report: schema ``vidhand.report/1``, verdicts, atomic JSON I/O.

Exporters, the dashboard and batch tools read reports only through this module.

Example:
    >>> from vidhand.report import read_report
    >>> report = read_report("out/clip.json")
    >>> report.summary.verdict
    'pass'
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidhand.errors import ReportError
from vidhand.types import EVENT_TYPES, Event, Track, Verdict

SCHEMA = "vidhand.report/1"


@dataclass(frozen=True)
class Profile:
    """Severity thresholds that turn events into a clip verdict.

    An event of severity >= ``fail_at`` fails the clip; one >= ``warn_at`` warns.
    """

    name: str
    warn_at: float
    fail_at: float


PROFILES: dict[str, Profile] = {
    "strict": Profile("strict", warn_at=0.15, fail_at=0.45),
    "balanced": Profile("balanced", warn_at=0.3, fail_at=0.6),
    "lenient": Profile("lenient", warn_at=0.5, fail_at=0.8),
}


def get_profile(name: str) -> Profile:
    """Return the named profile or raise ``ValueError`` listing the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None


@dataclass(frozen=True)
class VideoSummary:
    """The ``video`` block of a report."""

    path: str
    sha256: str
    frame_count: int
    fps: float
    fps_rational: str
    width: int
    height: int
    duration_s: float
    decode_error: str | None = None
    start_timecode: str | None = None
    rotation_deg: int = 0
    is_vfr: bool = False
    codec: str = ""
    backend: str = ""

    @property
    def frame_rate(self) -> Fraction:
        """Nominal frame rate as an exact fraction."""
        return Fraction(self.fps_rational)


@dataclass(frozen=True)
class Summary:
    """The ``summary`` block: verdict, score and counts."""

    verdict: Verdict
    score: float
    event_counts: dict[str, int]
    frames_with_hands: int
    tracks: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything vidhand concluded about one video."""

    video: VideoSummary
    settings: dict[str, Any]
    tracks: tuple[Track, ...]
    events: tuple[Event, ...]
    summary: Summary
    vidhand_version: str = ""
    schema: str = SCHEMA
    landmarks_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def frame_rate(self) -> Fraction:
        """Nominal frame rate of the source as an exact fraction."""
        return self.video.frame_rate

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict of schema ``vidhand.report/1``."""
        summary = dataclasses.asdict(self.summary)
        summary["notes"] = list(self.summary.notes)
        return {
            "schema": self.schema,
            "vidhand_version": self.vidhand_version,
            "video": dataclasses.asdict(self.video),
            "settings": _jsonable(self.settings),
            "tracks": [t.to_dict() for t in self.tracks],
            "events": [_jsonable(e.to_dict()) for e in self.events],
            "summary": summary,
            "landmarks_file": self.landmarks_file,
            "extra": _jsonable(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Build a report from its JSON dict; raise :class:`ReportError` if it is not one."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            got = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ReportError(f"expected a {SCHEMA} report, got schema {got!r}")
        try:
            summary = dict(data["summary"])
            summary["notes"] = tuple(summary.get("notes", ()))
            return cls(
                schema=data["schema"],
                vidhand_version=data.get("vidhand_version", ""),
                video=VideoSummary(**data["video"]),
                settings=dict(data.get("settings", {})),
                tracks=tuple(Track(**t) for t in data.get("tracks", [])),
                events=tuple(Event(**e) for e in data.get("events", [])),
                summary=Summary(**summary),
                landmarks_file=data.get("landmarks_file"),
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"report is missing or has a malformed field: {exc}") from None

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def summarize(
    events: tuple[Event, ...] | list[Event],
    *,
    frames_with_hands: int,
    tracks: int,
    profile: str | Profile = "balanced",
    notes: tuple[str, ...] = (),
) -> Summary:
    """Derive verdict, score and counts from events.

    The score is the product of ``1 - severity`` over all events: 1.0 for a clean clip,
    falling towards 0 with many or severe events. The verdict follows the profile's
    thresholds on the most severe event.
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    score = 1.0
    worst = 0.0
    for ev in events:
        score *= 1.0 - ev.severity
        worst = max(worst, ev.severity)
    verdict: Verdict = "pass"
    if worst >= prof.fail_at:
        verdict = "fail"
    elif worst >= prof.warn_at:
        verdict = "warn"
    counts = Counter(ev.type for ev in events)
    ordered = {t: counts[t] for t in EVENT_TYPES if counts.get(t)}
    ordered.update({t: n for t, n in sorted(counts.items()) if t not in ordered})
    return Summary(verdict=verdict, score=round(score, 4), event_counts=ordered,
                   frames_with_hands=frames_with_hands, tracks=tracks, notes=tuple(notes))


VERDICT_RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}


def write_report(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write ``report`` as JSON to ``path`` atomically (temp file in the same folder + rename)."""
    return write_text_atomic(path, report.to_json() + "\n")


def read_report(path: str | os.PathLike[str]) -> Report:
    """Read a report JSON file; raise :class:`ReportError` with the path on any problem."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{p}: no such report file; run `vidhand check` first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{p}: not a readable JSON report ({exc})") from None
    try:
        return Report.from_dict(data)
    except ReportError as exc:
        raise ReportError(f"{p}: {exc}") from None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` so readers see the old file or the whole new one, never half."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return p


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and Fractions into JSON-native values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value
