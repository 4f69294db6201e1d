"""The order of a step's choices as one learner sees them.

Shuffled per attempt and stable within it: the order is derived from the attempt id, the
scenario try and the step, so a reload, a resumed course after a server restart and the
feedback and summary views all show the same order, and nothing needs storing. A choice
marked ``pinned`` keeps its place in the file (e.g. "none of these" last).
"""

from __future__ import annotations

import hashlib
import random

from somequiz.content.models import Choice, Step


def seed(attempt_id: str, scenario_id: str, scenario_try: int, step_id: str) -> int:
    """A stable seed for one step of one scenario try of one attempt."""
    text = f"{attempt_id}/{scenario_id}/{scenario_try}/{step_id}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def shuffled(step: Step, seed_value: int) -> list[Choice]:
    """The step's choices in the learner's order; pinned choices stay where the file has them."""
    free = [c for c in step.choices if not c.pinned]
    random.Random(seed_value).shuffle(free)
    moving = iter(free)
    return [c if c.pinned else next(moving) for c in step.choices]


def as_seen(step: Step, attempt_id: str, scenario_id: str, scenario_try: int) -> list[Choice]:
    """The step's choices as the learner of that attempt and scenario try sees them."""
    return shuffled(step, seed(attempt_id, scenario_id, scenario_try, step.id))
