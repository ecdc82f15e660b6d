"""When to try the relay again: jittered exponential backoff, capped."""

from __future__ import annotations

import random

FIRST = 0.5
FACTOR = 2.0


def retry_delay(attempt: int, cap: float, rand: random.Random | None = None) -> float:
    """Seconds to wait before attempt number ``attempt`` + 1 (from 1).

    The first retries come fast, because most drops are a relay restart or
    a blip; each is drawn from [half, all] of its step ("equal jitter"), so
    daemons dropped together do not come back in lockstep.
    """

    step = min(cap, FIRST * FACTOR ** max(0, attempt - 1))
    return (rand or random).uniform(step / 2, step)
