"""Hand identity across frames on synthetic sequences: gaps, crossings, flicker."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from helpers import make_frame, make_hand

from vidhand.tracking.identity import IdentityTracker, box_iou


def run(frames, fps=30, **kw):
    ids = IdentityTracker(frame_rate=Fraction(fps), **kw)
    out = [ids.update(f) for f in frames]
    return out, ids


def ids_of(frames):
    return [[h.track_id for h in f.hands] for f in frames]


@pytest.mark.parametrize(
    ("missing", "gap_s", "expected_tracks"),
    [
        ({10}, 0.3, 1),                      # one-frame detector miss
        ({10, 11, 12, 13, 14, 15, 16, 17}, 0.3, 1),  # 8 frames = 0.27 s < 0.3 s
        (set(range(10, 25)), 0.3, 2),        # 0.5 s gone: a new hand
        (set(range(10, 25)), 1.0, 1),        # ...unless the allowance is longer
    ],
)
def test_gaps(missing, gap_s, expected_tracks):
    frames = [make_frame(i, [] if i in missing else [make_hand((100 + 4 * i, 240))])
              for i in range(40)]
    out, ids = run(frames, max_gap_s=gap_s)
    assert len(ids.tracks()) == expected_tracks
    assert sum(len(f.hands) for f in out) == 40 - len(missing)


def test_two_hands_crossing_keep_ids():
    # Hand A moves left->right, hand B right->left; they cross at frame 20 at the same
    # height, and their labels flicker the whole time.
    frames = []
    for i in range(41):
        a = make_hand((100 + 11 * i, 240 + 0.5 * i), handedness="left" if i % 3 else "right")
        b = make_hand((540 - 11 * i, 250 - 0.5 * i), handedness="right" if i % 4 else "left")
        frames.append(make_frame(i, [b, a] if i % 2 else [a, b]))
    out, ids = run(frames)
    tracks = ids.tracks()
    assert len(tracks) == 2
    a_ids = set()
    b_ids = set()
    for f in out:
        for h in f.hands:
            # Identify the true hand by its x motion: A's palm x = 100 + 11 i.
            x = float(h.palm_center_px[0])
            (a_ids if abs(x - (100 + 11 * f.frame_index)) < 2 else b_ids).add(h.track_id)
    assert len(a_ids) == 1 and len(b_ids) == 1 and a_ids != b_ids


def test_label_flicker_does_not_split_and_majority_wins():
    frames = [make_frame(i, [make_hand((300, 200), handedness="left" if i in (3, 7) else "right")])
              for i in range(20)]
    _, ids = run(frames)
    (track,) = ids.tracks()
    assert track.handedness == "right"
    assert (track.first_frame, track.last_frame, track.frames_observed) == (0, 19, 20)


def test_far_jump_is_a_new_hand():
    frames = [make_frame(i, [make_hand((100, 200) if i < 5 else (560, 380))]) for i in range(10)]
    _, ids = run(frames)
    assert [t.first_frame for t in ids.tracks()] == [0, 5]


def test_duplicate_detection_is_merged():
    frames = [make_frame(i, [make_hand((300, 200), score=0.9), make_hand((303, 201), score=0.6)])
              for i in range(5)]
    out, ids = run(frames)
    assert all(len(f.hands) == 1 for f in out)
    assert ids.duplicates_dropped == 5
    assert len(ids.tracks()) == 1


def test_settings_round_trip():
    ids = IdentityTracker(Fraction(25), max_gap_s=0.3)
    again = IdentityTracker.from_settings(Fraction(25), ids.settings)
    assert again.settings == ids.settings
    assert ids.max_gap_frames == 8


@pytest.mark.parametrize(("a", "b", "iou"), [
    ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
    ((0, 0, 10, 10), (10, 10, 20, 20), 0.0),
    ((0, 0, 10, 10), (5, 0, 15, 10), 50 / 150),
])
def test_box_iou(a, b, iou):
    import numpy as np

    assert box_iou(np.array(a, float), np.array(b, float)) == pytest.approx(iou)


# --- joining tracks across longer detector gaps (IdentityTracker.linked) -------------

def lost_and_found(gap=range(10, 25), before=(200, 240), after=(230, 250), n=40,
                   label_after="right", size_after=120.0, cut_at=None, other=None):
    """One hand, undetected in ``gap``, found again at ``after``; ``other``: a second
    hand's (before, after) positions with the same gap. ``cut_at``: a scene cut."""
    frames = []
    for i in range(n):
        hands = []
        if i not in gap:
            late = i > max(gap)
            hands.append(make_hand(after if late else before,
                                   size_px=size_after if late else 120.0,
                                   handedness=label_after if late else "right"))
            if other is not None:
                hands.append(make_hand(other[1] if late else other[0]))
        f = make_frame(i, hands)
        f.features["scene_diff"] = 0.5 if i == cut_at else 0.01
        frames.append(f)
    return frames


def test_hand_found_again_after_half_a_second_keeps_its_track():
    out, ids = run(lost_and_found())
    assert len(ids.tracks()) == 2  # frame to frame: 0.5 s is too long a gap
    hands, id_map = ids.linked(min_frames=3)
    assert len(hands) == 1 and ids.links == 1
    assert (hands[0].track_id, hands[0].first_frame, hands[0].last_frame,
            hands[0].frames_observed, hands[0].handedness) == (1, 0, 39, 25, "right")
    assert {id_map[h.track_id] for f in out for h in f.hands} == {1}


@pytest.mark.parametrize(("why", "kw", "settings"), [
    ("other label", {"label_after": "left"}, {}),
    ("too far for the time", {"after": (560, 420)}, {}),
    ("gap longer than link_gap_s", {"gap": range(10, 60), "n": 70}, {}),
    ("twice the size", {"size_after": 250.0}, {}),
    ("scene cut in the gap", {"cut_at": 17}, {}),
    ("linking switched off", {}, {"link_gap_s": 0.0}),
])
def test_not_joined(why, kw, settings):
    _, ids = run(lost_and_found(**kw), **settings)
    hands, id_map = ids.linked(min_frames=3)
    assert len(hands) == 2, why
    assert sorted(id_map.values()) == [1, 2]


def test_two_hands_lost_together_are_found_again_each_by_its_own():
    # Both hands (same label, so only where they are can tell them apart) vanish for
    # 0.5 s and come back a little inward; each must continue its own track.
    frames = lost_and_found(before=(120, 240), after=(170, 240),
                            other=((520, 240), (470, 240)))
    out, ids = run(frames)
    hands, id_map = ids.linked(min_frames=3)
    assert len(hands) == 2
    by_hand: dict[int, set[int]] = {}
    for f in out:
        for h in f.hands:
            side = "left half" if h.palm_center_px[0] < 320 else "right half"
            by_hand.setdefault(id_map[h.track_id], set()).add(side)
    assert sorted(map(sorted, by_hand.values())) == [["left half"], ["right half"]]


def test_noise_tracks_are_not_joined_or_numbered():
    frames = lost_and_found(gap=range(10, 30))
    # a two-frame blip elsewhere during the gap is detector noise (min_frames=3)
    frames[12] = make_frame(12, [make_hand((520, 100))])
    frames[13] = make_frame(13, [make_hand((520, 100))])
    _, ids = run(frames)
    hands, id_map = ids.linked(min_frames=3)
    assert len(hands) == 1 and len(id_map) == 2  # the blip has no number


def test_old_reports_replay_without_links():
    settings = IdentityTracker(Fraction(30)).settings
    old = {k: v for k, v in settings.items() if not k.startswith("link_")}
    assert IdentityTracker.from_settings(Fraction(30), old).link_gap_s == 0.0
    assert IdentityTracker.from_settings(Fraction(30), settings).link_gap_s == 1.5


def test_min_cost_assignment_matches_scipy() -> None:
    """The enumeration used for a frame's few hands assigns what SciPy assigns."""
    from scipy.optimize import linear_sum_assignment

    from vidhand.tracking.identity import _INFEASIBLE, min_cost_assignment

    rng = np.random.default_rng(5)
    for _ in range(2000):
        n_rows, n_cols = (int(v) for v in rng.integers(0, 9, 2))  # past the enumeration
        cost = rng.random((n_rows, n_cols)) * 10
        cost[rng.random(cost.shape) < 0.3] = _INFEASIBLE
        rows, cols = min_cost_assignment(cost)
        want_rows, want_cols = linear_sum_assignment(cost)
        assert len(rows) == len(want_rows) == min(n_rows, n_cols)
        assert list(rows) == sorted(rows)
        assert cost[rows, cols].sum() == pytest.approx(cost[want_rows, want_cols].sum())
        feasible = {(r, c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE}
        assert feasible == {(r, c) for r, c in zip(want_rows, want_cols, strict=True)
                            if cost[r, c] < _INFEASIBLE}
