"""The temporal model on recorded real landmarks with programmatic defects.

The landmark files under fixtures/landmarks/ were recorded from real clips by
fixtures/make_landmark_fixtures.py (no MediaPipe needed here). Each case edits one
hand of one recording over frames A..B the way a generator glitch shows up in the
detector's output, then asserts the event type and its frame range (within 3 frames),
and that the unedited recording raises nothing.
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import FIXTURES

from vidhand.pipeline import AnalysisOptions, _info_from_meta, check_hand_frames
from vidhand.tracking.cache import read_landmarks
from vidhand.tracking.identity import IdentityTracker
from vidhand.types import Hand, HandFrame

LENGTH = 18  # defect length in frames


def load(name: str):
    path = FIXTURES / "landmarks" / f"{name}.landmarks.npz"
    if not path.exists():
        pytest.skip(f"{path} missing: run python fixtures/make_landmark_fixtures.py")
    rec = read_landmarks(path)
    info = _info_from_meta(rec.meta["video"])
    return list(rec.hand_frames()), info


def steady_window(frames: list[HandFrame], info, length: int = LENGTH):
    """(raw track id, A, B): a stretch where one hand is seen every frame, large, inside
    the frame and calm, with margins before and after."""
    ids = IdentityTracker(info.frame_rate)
    tracked = [ids.update(hf) for hf in frames]
    w, h = info.width, info.height
    best = None
    for tid in {hd.track_id for hf in tracked for hd in hf.hands}:
        run = []
        for hf in tracked:
            hand = next((x for x in hf.hands if x.track_id == tid), None)
            ok = hand is not None and hand.size_px >= 90 and hand.handedness_score >= 0.9
            if ok:
                x0, y0, x1, y1 = hand.bbox_xyxy
                ok = x0 > 0.05 * w and y0 > 0.05 * h and x1 < 0.95 * w and y1 < 0.95 * h
            run = [*run, hf.frame_index] if ok else []
            if len(run) >= length + 40 and (best is None or len(run) > best[1]):
                best = (tid, len(run), run[20], run[20] + length - 1)
    assert best is not None, "no steady stretch in this recording"
    return tracked, best[0], best[2], best[3]


def edit(tracked, tid, a, b, fn, frame_fn=None):
    out = []
    for hf in tracked:
        hands = []
        for hand in hf.hands:
            if hand.track_id == tid and a <= hf.frame_index <= b:
                hand = fn(hf.frame_index, hand)
                if hand is None:
                    continue
            hands.append(dataclasses.replace(hand, track_id=None))
        feats = frame_fn(hf, hf.features) if frame_fn else hf.features
        out.append(dataclasses.replace(hf, hands=tuple(hands), features=feats))
    return out


def mirrored(i, hand: Hand) -> Hand:
    px = hand.landmarks_px.copy()
    px[:, 0] = 2 * px[:, 0].mean() - px[:, 0]
    norm = hand.landmarks_norm.copy()
    norm[:, 0] = 2 * norm[:, 0].mean() - norm[:, 0]
    world = hand.world.copy()
    world[:, 0] *= -1
    label = {"left": "right", "right": "left"}[hand.handedness]
    return dataclasses.replace(hand, landmarks_px=px, landmarks_norm=norm, world=world,
                               handedness=label)


def events(frames, info):
    _, evs, _ = check_hand_frames(frames, info, AnalysisOptions())
    return evs


@pytest.mark.parametrize("name", ["coffee_pour", "asl_fingerspelling", "zoom_two_hands"])
def test_unedited_recordings_raise_nothing(name):
    frames, info = load(name)
    assert events(frames, info) == []


def test_real_mirror_flip():
    frames, info = load("coffee_pour")
    tracked, tid, a, b = steady_window(frames, info)

    def flip(i, hand):
        m = mirrored(i, hand)
        # The generator rebuilt the hand: its pixels jump where the flip starts.
        cont = 0.3 if i == a else hand.features.get("px_continuity")
        return dataclasses.replace(m, features={**hand.features, "px_continuity": cont})

    evs = events(edit(tracked, tid, a, b, flip), info)
    assert [e.type for e in evs] == ["handedness_flip"], [e.message for e in evs]
    assert abs(evs[0].start_frame - a) <= 3 and abs(evs[0].end_frame - b) <= 3


def test_real_vanish():
    frames, info = load("coffee_pour")
    tracked, tid, a, b = steady_window(frames, info)
    last = next(hd for hf in tracked if hf.frame_index == a - 1 for hd in hf.hands
                if hd.track_id == tid)
    box = [float(v) for v in last.bbox_xyxy]

    def ghost(hf, feats):
        if a <= hf.frame_index <= b:
            feats = {**feats, "ghosts": [{"box": box, "last_frame": a - 1, "skin_then": 0.7,
                                          "skin_now": 0.05, "ncc": 0.2, "still": 0.97}]}
        return feats

    evs = events(edit(tracked, tid, a, b, lambda i, h: None, ghost), info)
    assert [e.type for e in evs] == ["hand_vanish"], [e.message for e in evs]
    assert abs(evs[0].start_frame - a) <= 3 and abs(evs[0].end_frame - b) <= 3
    # The same gap with the hand still in the pixels is a detector miss.
    def still_there(hf, feats):
        feats = ghost(hf, feats)
        for g in feats.get("ghosts", []):
            g.update(skin_now=0.68, ncc=0.9)
        return feats

    assert events(edit(tracked, tid, a, b, lambda i, h: None, still_there), info) == []


def test_real_low_confidence():
    frames, info = load("coffee_pour")
    tracked, tid, a, b = steady_window(frames, info)
    evs = events(edit(tracked, tid, a, b,
                      lambda i, h: dataclasses.replace(h, handedness_score=0.35)), info)
    assert [e.type for e in evs] == ["low_confidence"], [e.message for e in evs]
    assert abs(evs[0].start_frame - a) <= 3 and abs(evs[0].end_frame - b) <= 3
