"""Synthetic hand defects rendered into real footage, with exact ground truth.

Used to measure vidhand's recall: each defect looks like a generator glitch and
the truth file says which hand, which frames and which event types should be found.

Example:
    >>> from vidhand.synth import synthesize
    >>> truth = synthesize("clean.mp4", "missing_finger", 20, 44, "out/missing.mp4", seed=3)
    >>> truth.expected_types
    ('missing_finger', 'finger_count_change')
"""

from __future__ import annotations

from vidhand.synth.core import TRUTH_SCHEMA, Truth, read_truth, synthesize, truth_path
from vidhand.synth.defects import DEFECTS, EXPECTED_TYPES, RENDERERS, choose_params

__all__ = [
    "DEFECTS",
    "EXPECTED_TYPES",
    "RENDERERS",
    "TRUTH_SCHEMA",
    "Truth",
    "choose_params",
    "read_truth",
    "synthesize",
    "truth_path",
]
