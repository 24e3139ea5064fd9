"""The MediaPipe 21-landmark hand model: indices, finger chains, skeleton edges."""

from __future__ import annotations

WRIST = 0
THUMB = (1, 2, 3, 4)  # CMC, MCP, IP, TIP
INDEX = (5, 6, 7, 8)  # MCP, PIP, DIP, TIP
MIDDLE = (9, 10, 11, 12)
RING = (13, 14, 15, 16)
PINKY = (17, 18, 19, 20)

#: Finger name -> landmark chain from base to tip.
FINGERS: dict[str, tuple[int, int, int, int]] = {
    "thumb": THUMB,
    "index": INDEX,
    "middle": MIDDLE,
    "ring": RING,
    "pinky": PINKY,
}
FINGER_NAMES: tuple[str, ...] = tuple(FINGERS)
TIPS: tuple[int, ...] = (4, 8, 12, 16, 20)
MCPS: tuple[int, ...] = (1, 5, 9, 13, 17)
PALM: tuple[int, ...] = (0, 5, 9, 13, 17)

#: Skeleton edges for drawing.
EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
