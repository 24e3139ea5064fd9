"""Stable hand identities across frames.

MediaPipe gives no track ids and its left/right labels flicker, so identities come
from geometry: each frame's detections are matched to live tracks by a minimum-cost
assignment (:func:`min_cost_assignment`) on a cost that combines the palm-centre
distance (normalised by hand size, against a constant-velocity prediction so two
hands that cross keep their ids), box overlap and, weakly, the handedness label.
A track survives gaps up to ``max_gap_s`` so a missed frame does not make a new hand.

When the video ends, :meth:`IdentityTracker.linked` joins tracks across longer detector
gaps (up to ``link_gap_s``): a track that starts where another ended a moment before,
at a plausible distance for the time between them, with a hand of the same size and the
same majority label, and no scene cut in between, is the same hand found again. Ends are
matched to starts with one assignment over the whole video, so two candidates never
share one hand.

Example:
    >>> from vidhand.tracking.identity import IdentityTracker
    >>> ids = IdentityTracker(frame_rate=Fraction(30))
    >>> tracked = [ids.update(hf) for hf in hand_frames]
    >>> tracks, id_map = ids.linked(min_frames=3)   # id_map: frame-level id -> hand
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from vidhand.types import Hand, HandFrame, Track

_INFEASIBLE = 1e6
_ENUMERATE_UP_TO = 6  # matrices this wide or smaller are solved by enumeration


@functools.cache
def _assignments(n: int, k: int) -> npt.NDArray[np.intp]:
    """Every way to give ``k`` rows distinct columns out of ``n``, one row per way."""
    out = np.array(list(itertools.permutations(range(n), k)), dtype=np.intp)
    out.flags.writeable = False
    return out


def min_cost_assignment(cost: npt.NDArray[np.float64],
                        ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Row and column indices of a minimum-cost assignment, as
    ``scipy.optimize.linear_sum_assignment`` returns them (rows ascending; every row of
    a tall matrix or column of a wide one unassigned beyond the shorter side).

    A frame has a handful of hands and live tracks, so matrices up to
    ``_ENUMERATE_UP_TO`` on their longer side are solved exactly by trying every
    assignment (at most 720); larger ones go to SciPy, imported only then: importing
    ``scipy.optimize`` costs about half a second of every start.
    """
    n_rows, n_cols = cost.shape
    if max(n_rows, n_cols) > _ENUMERATE_UP_TO:
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(cost)
        return rows, cols
    if n_rows == 0 or n_cols == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy()
    tall = n_rows > n_cols
    m = cost.T if tall else cost  # short side first
    short = np.arange(m.shape[0])
    choices = _assignments(m.shape[1], m.shape[0])
    best = choices[int(np.argmin(m[short, choices].sum(axis=1)))]
    if not tall:
        return short, best
    order = np.argsort(best)
    return best[order], short[order]


@dataclass
class _TrackState:
    track_id: int
    last_frame: int
    center: npt.NDArray[np.float64]
    velocity: npt.NDArray[np.float64]
    size: float
    bbox: npt.NDArray[np.float64]
    first_frame: int
    frames_observed: int = 1
    votes: Counter[str] = field(default_factory=Counter)
    first_center: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(2))
    first_size: float = 0.0

    def predict(self, frame_index: int) -> npt.NDArray[np.float64]:
        return self.center + self.velocity * (frame_index - self.last_frame)


def box_iou(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class IdentityTracker:
    """Assigns a persistent ``track_id`` to every detected hand.

    Args:
        frame_rate: nominal frame rate, to turn ``max_gap_s`` into frames.
        max_gap_s: how long a track may go unseen and still be continued.
        max_distance: largest palm-centre jump, in hand sizes per frame of gap (plus one),
            that can still continue a track.
        handedness_weight: cost added when the detection's label disagrees with the
            track's majority label (small: labels flicker on real footage).
        duplicate_iou: two detections in one frame overlapping more than this are one
            hand detected twice; the less confident one is dropped.
        max_gap_frames: the gap allowance in frames; overrides ``max_gap_s``.
        max_scale_change: largest hand-size ratio between consecutive frames of one track.
        link_gap_s: longest detector gap :meth:`linked` joins two tracks across (0: never).
        link_distance: palm-centre distance, in hand sizes, within which a track starting
            after a gap can continue one that ended ...
        link_speed: ... plus this many hand sizes per second of gap.
    """

    def __init__(
        self,
        frame_rate: Fraction | float,
        max_gap_s: float = 0.3,
        max_distance: float = 1.2,
        handedness_weight: float = 0.25,
        duplicate_iou: float = 0.6,
        max_gap_frames: int | None = None,
        max_scale_change: float = 1.6,
        link_gap_s: float = 1.5,
        link_distance: float = 1.5,
        link_speed: float = 1.0,
    ) -> None:
        if max_gap_s < 0:
            raise ValueError(f"max_gap_s must be >= 0, got {max_gap_s}")
        if link_gap_s < 0:
            raise ValueError(f"link_gap_s must be >= 0, got {link_gap_s}")
        if max_gap_frames is None:
            max_gap_frames = max(1, math.ceil(max_gap_s * float(frame_rate)))
        self.max_gap_frames = max_gap_frames
        self.max_distance = max_distance
        self.handedness_weight = handedness_weight
        self.duplicate_iou = duplicate_iou
        self.max_scale_change = max_scale_change
        self.frame_rate = float(frame_rate)
        self.link_gap_s = link_gap_s
        self.link_distance = link_distance
        self.link_speed = link_speed
        self._live: list[_TrackState] = []
        self._done: list[_TrackState] = []
        self._next_id = 1
        self.duplicates_dropped = 0
        self.cuts = SceneCuts()
        self.links = 0

    @classmethod
    def from_settings(cls, frame_rate: Fraction | float, settings: dict[str, float],
                      ) -> IdentityTracker:
        """Rebuild a tracker from the ``settings`` dict a report recorded."""
        return cls(frame_rate, max_gap_frames=int(settings["max_gap_frames"]),
                   max_distance=settings["max_distance"],
                   handedness_weight=settings["handedness_weight"],
                   duplicate_iou=settings["duplicate_iou"],
                   max_scale_change=settings.get("max_scale_change", 1.6),
                   # Reports written before tracks were linked replay without links.
                   link_gap_s=settings.get("link_gap_s", 0.0),
                   link_distance=settings.get("link_distance", 1.5),
                   link_speed=settings.get("link_speed", 1.0))

    @property
    def settings(self) -> dict[str, float]:
        """Parameters that change identities (recorded in the report)."""
        return {"max_gap_frames": self.max_gap_frames, "max_distance": self.max_distance,
                "handedness_weight": self.handedness_weight,
                "duplicate_iou": self.duplicate_iou, "max_scale_change": self.max_scale_change,
                "link_gap_s": self.link_gap_s, "link_distance": self.link_distance,
                "link_speed": self.link_speed}

    def _dedupe(self, hands: tuple[Hand, ...]) -> list[Hand]:
        kept: list[Hand] = []
        for hand in sorted(hands, key=lambda h: -h.handedness_score):
            if any(box_iou(hand.bbox_xyxy, k.bbox_xyxy) > self.duplicate_iou for k in kept):
                self.duplicates_dropped += 1
                continue
            kept.append(hand)
        return kept

    def _cost(self, track: _TrackState, hand: Hand, frame_index: int) -> float:
        gap = frame_index - track.last_frame
        pred = track.predict(frame_index)
        size = max(track.size, hand.size_px)
        dist = float(np.linalg.norm(pred - hand.palm_center_px)) / size
        if dist > self.max_distance * (1 + 0.5 * (gap - 1)):
            return _INFEASIBLE
        if max(hand.size_px, 1.0) / max(track.size, 1.0) > self.max_scale_change ** gap or \
                max(track.size, 1.0) / max(hand.size_px, 1.0) > self.max_scale_change ** gap:
            return _INFEASIBLE  # a hand does not double in size between two frames
        iou = box_iou(track.bbox + np.tile(pred - track.center, 2), hand.bbox_xyxy)
        label_cost = 0.0
        majority = track.votes.most_common(1)[0][0] if track.votes else "unknown"
        if hand.handedness != "unknown" and majority not in ("unknown", hand.handedness):
            label_cost = self.handedness_weight * hand.handedness_score
        scale_cost = abs(math.log(max(hand.size_px, 1.0) / max(track.size, 1.0))) * 0.5
        return dist + 0.5 * (1.0 - iou) + label_cost + scale_cost + 0.02 * (gap - 1)

    def update(self, hand_frame: HandFrame) -> HandFrame:
        """Match this frame's hands to tracks; return the frame with ``track_id`` set."""
        f = hand_frame.frame_index
        self.cuts.add(f, hand_frame.features.get("scene_diff"))
        # Retire tracks unseen for longer than the gap allowance.
        still = []
        for tr in self._live:
            (still if f - tr.last_frame <= self.max_gap_frames else self._done).append(tr)
        self._live = still
        hands = self._dedupe(hand_frame.hands)
        assigned: dict[int, _TrackState] = {}
        if hands and self._live:
            cost = np.array([[self._cost(t, h, f) for h in hands] for t in self._live])
            rows, cols = min_cost_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < _INFEASIBLE:
                    assigned[int(c)] = self._live[int(r)]
        out = []
        for j, hand in enumerate(hands):
            tr = assigned.get(j)
            center = hand.palm_center_px.astype(np.float64)
            bbox = hand.bbox_xyxy.astype(np.float64)
            if tr is None:
                tr = _TrackState(track_id=self._next_id, last_frame=f, center=center,
                                 velocity=np.zeros(2), size=hand.size_px, bbox=bbox,
                                 first_frame=f, first_center=center,
                                 first_size=hand.size_px)
                self._next_id += 1
                self._live.append(tr)
            else:
                gap = max(1, f - tr.last_frame)
                v = (center - tr.center) / gap
                tr.velocity = 0.5 * tr.velocity + 0.5 * v
                tr.center, tr.bbox, tr.last_frame = center, bbox, f
                tr.size = 0.7 * tr.size + 0.3 * hand.size_px
                tr.frames_observed += 1
            if hand.handedness != "unknown":
                tr.votes[hand.handedness] += 1
            out.append(hand.with_track(tr.track_id))
        return dataclasses.replace(hand_frame, hands=tuple(out))

    def tracks(self, min_frames: int = 1) -> list[Track]:
        """All frame-level tracks seen so far with at least ``min_frames`` observations,
        by id (not linked across longer gaps: see :meth:`linked`)."""
        return [_track(tr.track_id, [tr]) for tr in self._states(min_frames)]

    def linked(self, min_frames: int = 1) -> tuple[list[Track], dict[int, int]]:
        """The hands: tracks with at least ``min_frames`` observations, joined across
        detector gaps of up to ``link_gap_s``, numbered 1..n by first appearance.

        Returns the hands and a map from every kept frame-level track id to its hand's
        number (shorter tracks are left out of both: detector noise).
        """
        states = sorted(self._states(min_frames), key=lambda t: (t.first_frame, t.track_id))
        nxt = self._link(states)
        prev = {b: a for a, b in nxt.items()}
        self.links = len(nxt)
        hands: list[Track] = []
        id_map: dict[int, int] = {}
        by_id = {t.track_id: t for t in states}
        for tr in states:
            if tr.track_id in prev:
                continue  # continues an earlier track: numbered with it
            chain = [tr]
            while chain[-1].track_id in nxt:
                chain.append(by_id[nxt[chain[-1].track_id]])
            number = len(hands) + 1
            hands.append(_track(number, chain))
            id_map.update({t.track_id: number for t in chain})
        return hands, id_map

    def _states(self, min_frames: int) -> list[_TrackState]:
        return [tr for tr in sorted(self._live + self._done, key=lambda t: t.track_id)
                if tr.frames_observed >= min_frames]

    def _link(self, states: list[_TrackState]) -> dict[int, int]:
        """Which track continues which: ``{ended_id: started_id}``.

        Only a track starting within ``link_gap_s`` after another ended is a candidate,
        so candidates fall into small groups along the video; each group is one
        assignment (a long video's thousands of tracks never make one big matrix).
        """
        max_gap = self.link_gap_s * self.frame_rate
        if max_gap <= 0 or len(states) < 2:
            return {}
        order = sorted(range(len(states)), key=lambda j: states[j].first_frame)
        firsts = [states[j].first_frame for j in order]
        pairs: list[tuple[int, int, float]] = []
        for i, a in enumerate(states):
            lo = bisect.bisect_right(firsts, a.last_frame)
            hi = bisect.bisect_right(firsts, a.last_frame + max_gap)
            for j in order[lo:hi]:
                cost = self._link_cost(a, states[j])
                if cost is not None:
                    pairs.append((i, j, cost))
        # Groups: ends and starts connected through candidate pairs (union-find).
        root = list(range(2 * len(states)))  # ends 0..n-1, starts n..2n-1

        def find(x: int) -> int:
            while root[x] != x:
                root[x] = root[root[x]]
                x = root[x]
            return x

        for i, j, _ in pairs:
            root[find(i)] = find(len(states) + j)
        groups: dict[int, list[tuple[int, int, float]]] = {}
        for pair in pairs:
            groups.setdefault(find(pair[0]), []).append(pair)
        links: dict[int, int] = {}
        for group in groups.values():
            ends = sorted({i for i, _, _ in group})
            starts = sorted({j for _, j, _ in group})
            cost = np.full((len(ends), len(starts)), _INFEASIBLE)
            for i, j, c in group:
                cost[ends.index(i), starts.index(j)] = c
            rows, cols = min_cost_assignment(cost)
            links.update({states[ends[r]].track_id: states[starts[c]].track_id
                          for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE})
        return links

    def _link_cost(self, a: _TrackState, b: _TrackState) -> float | None:
        """Cost of ``b`` continuing ``a`` after a detector gap (``None``: it cannot)."""
        gap = b.first_frame - a.last_frame
        if self.cuts.between(a.last_frame, b.first_frame):
            return None
        la, lb = _majority(a.votes), _majority(b.votes)
        if "unknown" not in (la, lb) and la != lb:
            return None  # a left hand is not found again as a right one
        size = max(a.size, b.first_size, 1.0)
        if size / max(min(a.size, b.first_size), 1.0) > self.max_scale_change:
            return None
        gap_s = gap / self.frame_rate
        dist = float(np.linalg.norm(a.center - b.first_center)) / size
        allowed = self.link_distance + self.link_speed * gap_s
        return dist / allowed + gap_s / self.link_gap_s if dist <= allowed else None


def _majority(votes: Counter[str]) -> str:
    """The label most of a track's detections carry ("unknown" on a tie or no votes)."""
    (top, n), *rest = [*votes.most_common(2), ("unknown", 0)]
    return top if votes and n > rest[0][1] else "unknown"


def _track(track_id: int, chain: list[_TrackState]) -> Track:
    votes: Counter[str] = Counter()
    for t in chain:
        votes.update(t.votes)
    return Track(track_id=track_id, handedness=_majority(votes),  # type: ignore[arg-type]
                 first_frame=chain[0].first_frame, last_frame=chain[-1].last_frame,
                 frames_observed=sum(t.frames_observed for t in chain))


class SceneCuts:
    """Scene cuts found from each frame's ``scene_diff`` (mean absolute difference to the
    previous frame, measured by the evidence stage).

    A cut is a frame whose difference exceeds both ``cut_min`` and ``cut_ratio`` times
    the median of the previous ten frames' differences.
    """

    def __init__(self, cut_ratio: float = 4.0, cut_min: float = 0.08) -> None:
        self.cut_ratio = cut_ratio
        self.cut_min = cut_min
        self.diff: dict[int, float] = {}
        self.frames: list[int] = []

    def add(self, frame: int, diff: float | None) -> None:
        """Record ``frame``'s difference (``None``: not measured)."""
        if diff is None:
            return
        recent = [self.diff[k] for k in range(frame - 10, frame) if k in self.diff]
        self.diff[frame] = float(diff)
        self.diff.pop(frame - 10, None)  # only the last ten are ever read
        base = float(np.median(recent)) if recent else 0.0
        if diff >= self.cut_min and diff >= self.cut_ratio * max(base, 0.01):
            self.frames.append(frame)

    def between(self, a: int, b: int) -> bool:
        """Whether a cut falls in frames (a, b]."""
        return any(a < c <= b for c in self.frames)
