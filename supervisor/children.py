"""One child process: spawned, probed until ready, restarted with backoff."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from supervisor.plan import ChildSpec

log = logging.getLogger(__name__)

STARTING = "starting"
RUNNING = "running"
RESTARTING = "restarting"
STOPPED = "stopped"

FIRST_DELAY = 0.5
MAX_DELAY = 30.0
# A run this long counts as healthy: the next crash starts the backoff over.
STABLE_AFTER = 60.0

PROBE_EVERY = 0.25
TAIL_LINES = 8
_TAIL_BYTES = 8192


def restart_delay(uptimes: Sequence[float]) -> float:
    """Seconds to wait before the next start, given how long each run lasted.

    The delay doubles with each short run in a row, counted back from the
    latest, and is back to the first step after a run of STABLE_AFTER.
    """

    short_runs = 0

    for uptime in reversed(uptimes):
        if uptime >= STABLE_AFTER:
            break

        short_runs += 1

    # The exponent is bounded so a child failing for days cannot overflow it.
    doublings = min(max(short_runs - 1, 0), 16)
    return min(FIRST_DELAY * 2**doublings, MAX_DELAY)


def describe_exit(code: int | None) -> str:
    """How a child ended, for people: an exit code or the signal that killed it."""

    if code is None:
        return "could not be started"

    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"

    return f"exited with code {code}"


class Child:
    """A child process and its life: starting, running, restarting, stopped."""

    def __init__(
        self,
        spec: ChildSpec,
        base_env: Mapping[str, str],
        cwd: Callable[[], Path] | None = None,
    ) -> None:
        self.spec = spec
        self.cwd = cwd or (lambda: spec.cwd)
        self.name = spec.name
        self.env = {**base_env, **spec.env}
        self.state = STARTING
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.exit_code: int | None = None
        self.uptimes: list[float] = []
        self.spawned = False
        self._started_at = 0.0
        self._restart_at = 0.0
        self._next_probe = 0.0
        self._log_start = 0

    @property
    def pid(self) -> int | None:
        """The pid of the current (or last) process."""

        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        """True while the process has not been reaped."""

        return self.process is not None and self.process.poll() is None

    def spawn(self, now: float) -> None:
        """Starts the process in its own session, its output appended to its log."""

        self.spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.spawned = True
        self.state = STARTING
        self._started_at = now
        self._next_probe = now

        try:
            with self.spec.log_file.open("ab") as out:
                self._log_start = os.fstat(out.fileno()).st_size

                # Its own session keeps the terminal's Ctrl-C away from the
                # child, so only the supervisor decides the stopping order.
                # The cost: a supervisor killed with SIGKILL leaves its
                # children running, and the next run refuses their ports.
                self.process = subprocess.Popen(
                    self.spec.argv,
                    cwd=self.cwd(),
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            self.process = None
            log.error("Cannot start %s: %s", self.name, exc)
            self._schedule_restart(now, None)
            return

        log.info("Started %s (pid %s)", self.name, self.process.pid)

    def watch(self, now: float) -> None:
        """Moves the child's life on by one step: restart, reap or probe it."""

        if self.state == RESTARTING:
            if now >= self._restart_at:
                self.restarts += 1
                log.info("Restarting %s (restart %d)", self.name, self.restarts)
                self.spawn(now)

            return

        if self.process is None:
            return

        code = self.process.poll()

        if code is not None:
            self._kill_leftovers()
            self._schedule_restart(now, code)
            return

        if self.state != STARTING or now < self._next_probe:
            return

        if self.spec.probe.ready():
            self.state = RUNNING
            log.info(
                "%s is ready (pid %s, %.1f s)",
                self.name,
                self.process.pid,
                now - self._started_at,
            )
        else:
            self._next_probe = now + PROBE_EVERY

    def replace(self, now: float, timeout: float) -> None:
        """Stops the process (killing it after ``timeout``) and starts it anew.

        A replacement is asked for, not a crash, so it is no restart and
        leaves the backoff alone.
        """

        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGTERM)

            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", self.name)

        self._kill_leftovers()

        if self.process is not None:
            self.process.wait()

        self.spawn(now)

    def terminate(self) -> None:
        """Asks the process to stop (SIGTERM), the way each child expects."""

        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Kills the process and everything it started (SIGKILL to its group)."""

        if self.alive:
            log.warning("%s did not stop in time; killing it", self.name)
            self._kill_leftovers()

    def finish(self) -> bool:
        """Marks the child stopped once its process is gone; True when it is."""

        if self.alive:
            return False

        if self.state == STOPPED:
            return True

        # A child waiting to be restarted had its exit reported already.
        if self.process is not None and self.state != RESTARTING:
            self.exit_code = self.process.returncode
            self._kill_leftovers()
            log.info("%s %s", self.name, describe_exit(self.exit_code))

        self.state = STOPPED
        return True

    def log_tail(self, lines: int = TAIL_LINES) -> list[str]:
        """The last lines the current (or last) run wrote to the child's log."""

        try:
            with self.spec.log_file.open("rb") as f:
                start = max(f.seek(0, os.SEEK_END) - _TAIL_BYTES, self._log_start)
                f.seek(start)
                found = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

        # Reading from the middle of the run's output starts mid-line.
        if start > self._log_start:
            found = found[1:]

        return found[-lines:]

    def status(self) -> dict[str, Any]:
        """The child as supervisor.json shows it."""

        return {
            "name": self.name,
            "pid": self.pid,
            "state": self.state,
            "restarts": self.restarts,
            "exit_code": self.exit_code,
            "log": str(self.spec.log_file),
        }

    def _schedule_restart(self, now: float, code: int | None) -> None:
        self.exit_code = code
        self.uptimes.append(now - self._started_at)
        delay = restart_delay(self.uptimes)
        self._restart_at = now + delay
        self.state = RESTARTING

        tail = "".join(f"\n    {line}" for line in self.log_tail())
        log.warning(
            "%s %s after %.1f s; restarting in %.1f s. Last lines of %s:%s",
            self.name,
            describe_exit(code),
            self.uptimes[-1],
            delay,
            self.spec.log_file,
            tail or "\n    (empty)",
        )

    def _kill_leftovers(self) -> None:
        # The group outlives its leader while a worker it forked (gunicorn's)
        # is alive, and such an orphan would keep the port the next start
        # needs. Linux does not reuse a pid still naming a live group.
        if self.process is None:
            return

        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
