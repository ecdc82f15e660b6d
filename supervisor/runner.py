"""The supervisor's loop: start in stages, watch, restart, stop in order."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from cloud.seed import DEMO_LOGINS
from supervisor import mosquitto, status
from supervisor.banner import Banner
from supervisor.children import RUNNING, Child
from supervisor.login import api_client_password, dashboard_password
from supervisor.plan import MQTT_HOST, ChildSpec, Options, urls
from supervisor.releases import FAILED_STARTS, Releases

log = logging.getLogger(__name__)

TICK = 0.1
# A stage starts at the latest this long after the one before it, ready or
# not: the services connect to the broker and the cloud lazily anyway.
STAGE_WAIT = 10.0
# The banner is shown at the latest this long after start, listing what
# is still not ready, so a child that keeps failing does not hide it.
BANNER_WAIT = 15.0
STOP_WAIT = 5.0
_REAP_WAIT = 1.0
# During a release switch, the next service is replaced once the one before
# is ready, or this long after, so one slow service does not hold up all.
ROLLOUT_WAIT = 30.0


class Supervisor:
    """Runs the planned children until asked to stop."""

    def __init__(
        self, options: Options, specs: Sequence[ChildSpec], env: Mapping[str, str]
    ) -> None:
        self.options = options
        source = next((s.cwd for s in specs if s.follows_release), Path.cwd())
        self.releases = Releases(options.state_dir, source)
        self.children = [
            Child(spec, env, self.releases.cwd if spec.follows_release else None)
            for spec in specs
        ]
        self.rollout: list[Child] = []
        self.replaced_at: float | None = None
        self.updater_starts: int | None = None
        self.stages = sorted({spec.stage for spec in specs})
        self.urls = urls(options)
        self.status_file = status.StatusFile(
            options.status_file, options.run_dir, self.urls
        )
        self.stopping = threading.Event()
        self.state = status.STARTING
        self.password: str | None = None
        self.api_password: str | None = None

    def run(self) -> int:
        """Runs until ``stopping`` is set; returns the exit status."""

        try:
            self._prepare()
            self._watch()
        except Exception:
            log.exception("The supervisor failed; stopping everything")
            self._stop_all()
            return 1

        self._stop_all()
        return 0

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """A signal handler that makes ``run`` stop everything and return."""

        if not self.stopping.is_set():
            log.info("Got %s; stopping", signal.Signals(signum).name)

        self.stopping.set()

    def _prepare(self) -> None:
        options = self.options
        log.info("Run folder %s; logs in %s", options.run_dir, options.logs_dir)
        options.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

        for folder in (options.state_dir, options.runtime_dir, options.logs_dir):
            folder.mkdir(exist_ok=True, mode=0o700)

        if "mosquitto" in options.only:
            mosquitto.write_config(MQTT_HOST, options.mqtt_port, options.mosquitto_dir)

        if "cloud" in options.only:
            options.cloud_dir.mkdir(exist_ok=True, mode=0o700)

        # Made before the dashboard starts, so its first request finds it.
        if "ui" in options.only:
            self.password = dashboard_password(options.users_file, options.login_file)
            self.api_password = api_client_password(
                options.api_clients_file, options.api_login_file
            )

        self.status_file.write(self.state, self.children)

    def _watch(self) -> None:
        started = time.monotonic()
        next_stage = 0
        stage_started = started

        while not self.stopping.is_set():
            now = time.monotonic()

            if next_stage < len(self.stages) and self._stage_due(
                next_stage, now - stage_started
            ):
                self._launch(self.stages[next_stage], now)
                next_stage += 1
                stage_started = now

            for child in self.children:
                if child.spawned:
                    child.watch(now)

            self._follow_release(now)

            if self.state == status.STARTING and (
                all(child.state == RUNNING for child in self.children)
                or now - started >= BANNER_WAIT
            ):
                self.state = status.RUNNING
                self._show_banner()

            self.status_file.write(self.state, self.children)
            self.stopping.wait(TICK)

    def _follow_release(self, now: float) -> None:
        """Replaces the services one at a time when the release changes."""

        switched = self.releases.switched()

        if switched is not None:
            log.info(
                "The updater switched to %s; restarting the services one at a time",
                switched or "the original build",
            )
            self.rollout = [
                c for c in self.children if c.spec.follows_release and c.spawned
            ]
            self.replaced_at = None
            updater = self._child("updater")
            self.updater_starts = updater.restarts if updater else None

        self._check_new_updater()

        if not self.rollout:
            return

        head = self.rollout[0]

        if self.replaced_at is None:
            head.replace(now, STOP_WAIT)
            self.replaced_at = now
        elif head.state == RUNNING or now - self.replaced_at >= ROLLOUT_WAIT:
            self.rollout.pop(0)
            self.replaced_at = None

    def _check_new_updater(self) -> None:
        updater = self._child("updater")

        if updater is None or self.updater_starts is None:
            return

        if updater.state == RUNNING and updater not in self.rollout:
            self.updater_starts = None
        elif updater.restarts - self.updater_starts >= FAILED_STARTS:
            self.updater_starts = None
            self.releases.undo()

    def _child(self, name: str) -> Child | None:
        return next((c for c in self.children if c.name == name), None)

    def _stage_due(self, index: int, waited: float) -> bool:
        if index == 0:
            return True

        earlier = [c for c in self.children if c.spec.stage < self.stages[index]]
        waiting = [c.name for c in earlier if c.state != RUNNING]

        if not waiting:
            return True

        if waited < STAGE_WAIT:
            return False

        log.warning(
            "Going on after %.0f s; not ready yet: %s", STAGE_WAIT, ", ".join(waiting)
        )
        return True

    def _launch(self, stage: int, now: float) -> None:
        for child in self.children:
            if child.spec.stage == stage:
                child.spawn(now)

    def _show_banner(self) -> None:
        options = self.options
        banner = Banner(
            urls=self.urls,
            logs_dir=options.logs_dir,
            login_file=options.login_file,
            users_file=options.users_file,
            dashboard_password=self.password,
            api_login_file=options.api_login_file,
            api_client_password=self.api_password,
            demo_logins=DEMO_LOGINS if "cloud" in options.only else (),
            not_ready=[c.name for c in self.children if c.state != RUNNING],
        )
        sys.stdout.write(banner.render())
        sys.stdout.flush()

    def _stop_all(self) -> None:
        """Stops the services, then the cloud, then the broker, in reverse order."""

        self.state = status.STOPPING
        self.status_file.write(self.state, self.children)

        for stage in reversed(self.stages):
            group = [c for c in reversed(self.children) if c.spec.stage == stage]
            self._stop_group(group)
            self.status_file.write(self.state, self.children)

        self.state = status.STOPPED
        self.status_file.write(self.state, self.children)
        log.info("Stopped")

    def _stop_group(self, group: list[Child]) -> None:
        alive = [child for child in group if child.alive]

        if alive:
            log.info("Stopping %s", ", ".join(child.name for child in alive))

        for child in alive:
            child.terminate()

        if not _wait_finished(group, STOP_WAIT):
            for child in group:
                child.kill()

            _wait_finished(group, _REAP_WAIT)


def _wait_finished(group: list[Child], timeout: float) -> bool:
    deadline = time.monotonic() + timeout

    while True:
        # A list, not a generator: every child is marked, not only the first.
        if all([child.finish() for child in group]):
            return True

        if time.monotonic() >= deadline:
            return False

        time.sleep(0.05)
