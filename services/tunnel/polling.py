"""An event loop that keeps polling for a moment before it sleeps.

A request through a tunnel wakes the relay, the agent and the local server
in turn, and each hop usually waits only a fraction of a millisecond for
the answer it passes back. Sleeping in epoll for that long means the CPU
goes idle and must be woken again, which on virtual machines costs more
than the hop's own work. Right after traffic the loop therefore polls
without blocking for a short, bounded time (the same trade Go's scheduler
makes with its spinning threads); when nothing came in the last wait, it
sleeps at once, so an idle tunnel costs no CPU.

Polling only pays when the next event does come within the time, so the
selector keeps a little credit: a wait after traffic that ended within the
time earns one, one that did not costs one, and it polls only with credit
left. When answers come late (a loaded machine, a slow local server) it
soon stops polling, and the waits that would have been short bring it back.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import time
from collections.abc import Callable

Ready = list[tuple[selectors.SelectorKey, int]]

# The most credit polling can save up: a burst of short waits cannot buy
# more than this many long ones.
CREDIT = 8


class PollingSelector(selectors.EpollSelector):
    """Epoll that polls for up to ``poll_for`` seconds after traffic."""

    def __init__(
        self, poll_for: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.poll_for = poll_for
        self.credit = 1
        self._clock = clock
        self._busy = False

    def select(self, timeout: float | None = None) -> Ready:
        if not self._busy or (timeout is not None and timeout <= 0):
            ready = super().select(timeout)
        else:
            started = self._clock()

            if self.credit:
                ready = self._poll(timeout, started)
            else:
                ready = super().select(timeout)

            if ready and self._clock() - started <= self.poll_for:
                self.credit = min(self.credit + 1, CREDIT)
            elif self.credit:
                self.credit -= 1

        self._busy = bool(ready)
        return ready

    def _poll(self, timeout: float | None, started: float) -> Ready:
        until = started + min(self.poll_for, timeout or self.poll_for)

        while True:
            ready = super().select(0)
            now = self._clock()

            if ready or now >= until:
                break

            # Whatever else is runnable here (often the very process this
            # one waits for) goes first: polling only uses time left idle.
            os.sched_yield()

        if ready:
            return ready

        rest = None if timeout is None else max(0.0, timeout - (now - started))
        return super().select(rest)


def new_event_loop(poll_for: float) -> asyncio.AbstractEventLoop:
    """A loop that polls ``poll_for`` seconds after traffic; 0 never polls."""

    if poll_for <= 0:
        return asyncio.new_event_loop()

    return asyncio.SelectorEventLoop(PollingSelector(poll_for))
