"""Schedule, pause and checks through the real updater's gRPC API."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from cld.v1 import updater_pb2 as pb

from services.common.bus import Bus, wait_until
from services.updater.schedule import WEEKLY, Schedule, next_run
from tests.integration.common.test_bus import Inbox
from tests.integration.updater.conftest import (
    VersionedService,
    idle,
    state_dir,
    status,
    stub,
    wait_status,
)
from tests.support.processes import Broker, Cloud


def reschedule(service: VersionedService, **fields: int) -> pb.UpdateStatus:
    return stub(service).Reschedule(
        pb.RescheduleRequest(schedule=pb.UpdateSchedule(**fields)), timeout=5
    )


def test_the_default_schedule_is_daily_in_the_night(updater: VersionedService) -> None:
    seen = status(updater)

    assert seen.default_schedule
    assert seen.schedule.recurrence == pb.RECURRENCE_DAILY
    assert 1 <= seen.schedule.hour <= 4
    assert seen.time_zone == "Europe/Berlin"
    assert seen.next_check.seconds > time.time()
    assert not seen.paused


def test_reschedule_sets_the_next_check_in_the_hosts_zone(
    updater: VersionedService,
) -> None:
    before = time.time()
    seen = reschedule(
        updater, recurrence=pb.RECURRENCE_WEEKLY, weekday=3, hour=4, minute=45
    )

    assert not seen.default_schedule
    assert (seen.schedule.weekday, seen.schedule.hour, seen.schedule.minute) == (
        3,
        4,
        45,
    )
    expected = next_run(
        Schedule(WEEKLY, 4, 45, 3),
        datetime.fromtimestamp(before, UTC),
        ZoneInfo("Europe/Berlin"),
    )
    assert seen.next_check.ToDatetime(UTC) == expected

    updater.stop()
    updater.start()

    assert status(updater).schedule == seen.schedule
    assert status(updater).next_check == seen.next_check


BAD_SCHEDULES = [
    ({}, "recurrence must be RECURRENCE_DAILY or RECURRENCE_WEEKLY"),
    ({"recurrence": pb.RECURRENCE_DAILY, "hour": 24}, "hour must be 0 to 23"),
    ({"recurrence": pb.RECURRENCE_DAILY, "minute": 75}, "minute must be 0 to 59"),
    ({"recurrence": pb.RECURRENCE_WEEKLY, "hour": 3}, "weekday must be 1"),
    (
        {"recurrence": pb.RECURRENCE_WEEKLY, "weekday": 9},
        "weekday must be 1 (Monday) to 7 (Sunday)",
    ),
]


def test_bad_schedules_are_invalid_arguments_naming_the_field(
    updater: VersionedService,
) -> None:
    before = status(updater)

    for fields, message in BAD_SCHEDULES:
        with pytest.raises(grpc.RpcError) as error:
            reschedule(updater, **fields)

        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in (error.value.details() or ""), fields

    with pytest.raises(grpc.RpcError) as error:
        stub(updater).Reschedule(pb.RescheduleRequest(), timeout=5)

    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == "a schedule is required"
    assert status(updater).schedule == before.schedule


def test_pause_is_kept_across_restarts_and_published(
    updater: VersionedService, mosquitto: Broker
) -> None:
    paused = stub(updater).Pause(pb.PauseRequest(), timeout=5)
    assert paused.paused

    updater.stop()
    updater.start()

    assert status(updater).paused
    stored = json.loads((state_dir(updater) / "state.json").read_text())
    assert stored["paused"] is True
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe("cld/updater/state", inbox)
    watcher.start()
    assert wait_until(lambda: inbox.last("cld/updater/state") is not None, 5)
    assert (inbox.last("cld/updater/state") or {})["paused"] is True

    resumed = stub(updater).Resume(pb.ResumeRequest(), timeout=5)

    assert not resumed.paused
    assert wait_until(
        lambda: (inbox.last("cld/updater/state") or {}).get("paused") is False, 5
    )
    watcher.stop()


def test_an_unreachable_cloud_keeps_the_next_check_scheduled(
    linked: VersionedService, updater: VersionedService, cloud: Cloud
) -> None:
    cloud.stop()
    before = time.time()

    stub(updater).UpdateNow(pb.UpdateNowRequest(), timeout=5)

    # An error left by an earlier check may still show: wait for this one.
    seen = wait_status(
        updater,
        lambda s: (
            "cannot be reached" in s.last_error and s.last_check.seconds >= int(before)
        ),
        "the failed check",
    )
    assert "CloudLink cannot be reached" in seen.last_error
    assert seen.last_check.seconds >= int(before)
    assert seen.next_check.seconds > time.time()
    assert seen.progress == ""
    assert "Update check failed" in updater.output()


def test_an_unlinked_system_is_told_why_nothing_is_checked(
    registration_service: VersionedService, updater: VersionedService
) -> None:
    stub(updater).UpdateNow(pb.UpdateNowRequest(), timeout=5)

    seen = wait_status(updater, idle, "the check")
    assert "not linked to CloudLink" in seen.last_error


def test_update_now_while_one_runs_is_refused(
    tmp_path: Path, linked: VersionedService, daemon_env: dict[str, str]
) -> None:
    # A cloud that accepts connections and never answers keeps the first
    # check busy until the request times out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = {**daemon_env, "CLD_CLOUD_URL": url}
        updater = VersionedService("updater", env, tmp_path / "daemon")
        updater.start()

        stub(updater).UpdateNow(pb.UpdateNowRequest(), timeout=5)

        with pytest.raises(grpc.RpcError) as error:
            stub(updater).UpdateNow(pb.UpdateNowRequest(), timeout=5)

        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "already in progress" in (error.value.details() or "")
        seen = wait_status(updater, idle, "the check to time out")
        assert "no answer in time" in seen.last_error
        updater.stop()
