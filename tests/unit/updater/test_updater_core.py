"""The updater's decisions on a clock the test moves: zones, pause, missed runs.

The cloud is stood in for by a channel that records what it is asked and
offers a fixed release; the installer by one that records the steps. Both
are the updater's own seams, and the real ones are exercised end to end in
tests/integration/updater.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry

from services.common.state import StateStore
from services.updater.apply import Applier
from services.updater.journal import STATE_TOPIC, Journal
from services.updater.manifest import (
    Artifact,
    Release,
    key_id,
    manifest_document,
    sign,
)
from services.updater.metrics import UpdaterMetrics
from services.updater.schedule import DAILY, Schedule
from services.updater.updater import Updater
from services.updater.versions import ReleaseVersion

KEY = Ed25519PrivateKey.generate()
RUNNING = ReleaseVersion("0.1.0", "1")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def move_to(self, moment: datetime) -> None:
        self.now = moment.timestamp()


@dataclass
class Channel:
    """Offers ``offered`` (or nothing) and counts the checks."""

    offered: ReleaseVersion | None = None
    name: str = "stable"
    checks: int = 0

    def latest(self) -> Any:
        self.checks += 1

        if self.offered is None:
            return None

        artifact = Artifact("d.whl", 1, "ab" * 32, "http://cloud.test/d.whl")
        document = manifest_document(self.offered, "", "stable", "", [artifact])
        return sign(document, KEY)

    def fetch(self, artifact: Artifact, folder: Path, **kwargs: Any) -> Path:
        return folder / artifact.name


@dataclass
class Installer:
    """Records each step; its trial passes unless told what fails."""

    problems: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    link: str = ""

    def current(self) -> str:
        return self.link

    def install(self, release: Release, artifacts: dict[str, Path]) -> None:
        self.steps.append(f"install {release.version.release_id}")

    def trial(self, release: Release) -> list[str]:
        self.steps.append("trial")
        return self.problems

    def switch(self, release: Release) -> str:
        old, self.link = self.link, release.version.release_id
        self.steps.append(f"switch {self.link}")
        return old

    def restore(self, release_id: str) -> None:
        self.link = release_id
        self.steps.append(f"restore {release_id or 'original'}")

    def discard(self, release_id: str) -> None:
        self.steps.append(f"discard {release_id}")

    def prune(self) -> None:
        self.steps.append("prune")


@dataclass
class World:
    tmp: Path
    clock: Clock
    channel: Channel = field(default_factory=Channel)
    installer: Installer = field(default_factory=Installer)
    zone: str = "Europe/Berlin"
    published: list[dict[str, Any]] = field(default_factory=list)
    running: ReleaseVersion = RUNNING

    def updater(self) -> Updater:
        journal = Journal(
            StateStore(self.tmp / "state.json"),
            lambda topic, payload: self.published.append(payload),
            UpdaterMetrics(CollectorRegistry()),
            self.running,
            self.clock,
        )
        channel: Any = self.channel
        applier = Applier(
            journal,
            channel,
            self.installer,
            ["registration", "updater"],
            self.tmp / "downloads",
            health_timeout=60,
        )
        return Updater(
            journal,
            channel=channel,
            applier=applier,
            keys=lambda: {key_id(KEY.public_key()): KEY.public_key()},
            zone=lambda: self.zone,
        )


def berlin(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path, Clock(berlin(2025, 3, 29, 12, 0)))


def at_three(updater: Updater) -> None:
    updater.reschedule(Schedule(DAILY, hour=3, minute=0))


def test_the_first_start_schedules_without_checking(world: World) -> None:
    updater = world.updater()
    updater.tick()

    assert world.channel.checks == 0
    assert updater.state.time_zone == "Europe/Berlin"
    assert updater.state.next_check > updater.state.last_check


def test_a_due_check_runs_and_schedules_the_next(world: World) -> None:
    updater = world.updater()
    at_three(updater)
    updater.tick()

    world.clock.move_to(berlin(2025, 3, 30, 3, 0))
    updater.tick()

    assert world.channel.checks == 1
    # Across the night clocks went forward: the next run is 23 hours on.
    assert updater.state.next_check == "2025-03-31T01:00:00+00:00"


def test_a_host_zone_change_moves_the_next_check(world: World) -> None:
    updater = world.updater()
    at_three(updater)
    updater.tick()
    assert updater.state.next_check == "2025-03-30T01:00:00+00:00"

    world.zone = "America/New_York"
    updater.tick()

    assert updater.state.time_zone == "America/New_York"
    assert updater.state.next_check == "2025-03-30T07:00:00+00:00"
    assert world.channel.checks == 0


def test_paused_updates_are_checked_but_not_applied(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    updater = world.updater()
    at_three(updater)
    updater.set_paused(True)
    updater.tick()

    world.clock.move_to(berlin(2025, 3, 30, 3, 0))
    updater.tick()

    assert world.channel.checks == 1
    assert world.installer.steps == []
    assert updater.status()["update_available"]
    assert world.published[-1]["available_version"] == "0.2.0"


def test_pause_is_honoured_by_a_restarted_updater(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    first = world.updater()
    at_three(first)
    first.set_paused(True)
    first.tick()

    again = world.updater()
    world.clock.move_to(berlin(2025, 3, 30, 3, 0))
    again.tick()

    assert again.state.paused
    assert world.installer.steps == []


def test_a_run_missed_while_off_only_checks(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    updater = world.updater()
    at_three(updater)
    updater.tick()

    # The system was off through the night and is back at ten.
    world.clock.move_to(berlin(2025, 3, 30, 10, 0))
    updater.tick()

    assert world.channel.checks == 1
    assert world.installer.steps == []
    assert updater.state.next_check == "2025-03-31T01:00:00+00:00"


def test_update_now_applies_even_when_paused(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    updater = world.updater()
    updater.set_paused(True)
    updater.tick()

    updater.update_now()
    updater.tick()

    assert world.installer.steps == ["install 0.2.0+2", "trial", "switch 0.2.0+2"]
    assert updater.state.switch is not None


def test_a_switch_is_kept_once_every_service_is_back(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    updater = world.updater()
    updater.update_now()
    updater.tick()
    switched_at = updater.state.switch.switched_at  # type: ignore[union-attr]

    # The restarted updater runs the new version and sees registration back.
    world.running = ReleaseVersion("0.2.0", "2")
    restarted = world.updater()
    restarted.on_presence(
        "cld/registration/status", {"state": "online", "at": switched_at}
    )
    restarted.tick()

    assert restarted.state.switch is None
    assert restarted.state.progress == "done"
    assert restarted.state.history[0].outcome == "updated"
    assert world.installer.steps[-1] == "prune"


def test_a_switch_not_confirmed_in_time_goes_back(world: World) -> None:
    world.channel.offered = ReleaseVersion("0.2.0", "2")
    updater = world.updater()
    updater.update_now()
    updater.tick()

    world.clock.move_to(
        datetime.fromtimestamp(world.clock.now, UTC) + timedelta(minutes=2)
    )
    updater.on_presence(
        "cld/registration/status",
        {"state": "online", "at": "2020-01-01T00:00:00+00:00"},
    )
    updater.tick()

    assert updater.state.switch is None
    assert updater.state.progress == "rolled back"
    assert "not back: registration, updater" in updater.state.last_error
    assert world.installer.steps[-2:] == ["restore original", "discard 0.2.0+2"]


def test_nothing_secret_or_unexpected_is_published(world: World) -> None:
    updater = world.updater()
    updater.announce()

    assert STATE_TOPIC == "cld/updater/state"
    assert set(world.published[-1]) >= {
        "schedule",
        "paused",
        "last_check",
        "next_check",
        "last_update",
        "history",
        "progress",
        "installed_version",
        "update_available",
    }


def test_a_corrupt_state_file_is_kept_aside_and_replaced(world: World) -> None:
    (world.tmp / "state.json").write_text("{not json")

    updater = world.updater()

    assert updater.state.schedule.recurrence == DAILY
    assert list(world.tmp.glob("state.json.corrupt-*"))
