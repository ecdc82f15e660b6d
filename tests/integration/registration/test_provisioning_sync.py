"""Full syncs of PM's users against the real emulator, broker and service."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import pytest
import requests
from cld.v1 import provisioning_pb2 as pb

from services.common.bus import Bus, wait_until
from services.registration.provisioning.engine import TOPIC
from tests.integration.common.test_bus import Inbox
from tests.integration.registration.provisioning_support import (
    CloudView,
    link,
    pm_user,
    pm_users,
    provisioning,
    wait_sync,
)
from tests.support.processes import Broker, Cloud, Service, daemon_env, wait_for


@pytest.fixture
def env(tmp_path: Path, mosquitto: Broker, cloud: Cloud) -> dict[str, str]:
    """The daemon's environment, retrying a waiting sync within half a second."""

    return {
        **daemon_env(tmp_path / "daemon", mosquitto.port, cloud.url),
        "CLD_PROVISIONING_RETRY_MAX": "0.5",
    }


def error_of(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()

    return error.value


def _by_extension(results: list[pb.UserResult]) -> dict[str, pb.UserResult]:
    return {r.extension: r for r in results}


def test_5000_users_then_50_changes_send_only_50_writes(
    registration: Service, linked: CloudView
) -> None:
    stub = provisioning(registration)
    users = pm_users(5000)

    first = stub.StartSync(pb.StartSyncRequest(users=users), timeout=30)
    done = wait_sync(stub, first.sync_id, timeout=90)

    assert done.counts.created == 5000
    assert done.counts.pending == done.counts.rejected == 0
    assert len(linked.users()) == 5000
    before = linked.writes()
    assert before.get("POST") == 5000

    # 20 renamed, 15 gone, 15 new, and one more beyond the 5,000 limit.
    changed = [
        pm_user(n, last_name=f"Renamed {n}") if n < 35 else users[n]
        for n in range(15, 5000)
    ]
    changed += pm_users(16, start=6000)
    second = stub.StartSync(pb.StartSyncRequest(users=changed), timeout=30)
    done = wait_sync(stub, second.sync_id, timeout=60)

    after = linked.writes()
    sent = {m: after.get(m, 0) - before.get(m, 0) for m in ("POST", "PUT", "DELETE")}
    assert sent == {"POST": 15, "PUT": 20, "DELETE": 15}
    assert (done.counts.created, done.counts.updated, done.counts.removed) == (
        15,
        20,
        15,
    )
    assert done.counts.unchanged == 5000 - 15 - 20
    assert done.counts.rejected == 1

    results = _by_extension(
        list(
            stub.GetSync(
                pb.GetSyncRequest(sync_id=second.sync_id, include_results=True),
                timeout=10,
            ).results
        )
    )
    assert results["16015"].reason_code == "USER_LIMIT"
    assert results["10003"].outcome == pb.USER_OUTCOME_REMOVED
    assert results["10034"].outcome == pb.USER_OUTCOME_UPDATED

    in_cloud = linked.users()
    assert len(in_cloud) == 5000
    assert not any(u["extension"] == "16015" for u in in_cloud)
    assert Counter(u["extension"] for u in in_cloud).most_common(1)[0][1] == 1


def test_duplicate_and_invalid_users_are_rejected_and_the_rest_synced(
    registration: Service, linked: CloudView, mosquitto: Broker
) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe(TOPIC, inbox)
    watcher.start()
    stub = provisioning(registration)
    users = [
        *pm_users(3),
        pm_user(3, email="same@acme.example"),
        pm_user(4, email="Same@Acme.example"),
        pm_user(5, email="clerk@acme.example"),
        pm_user(6, email="not an address"),
        pm_user(7, services=["TEAMS_CLIENT"]),
        pm_user(8, first_name=" "),
    ]

    sync = stub.StartSync(pb.StartSyncRequest(users=users), timeout=10)
    done = wait_sync(stub, sync.sync_id)

    results = _by_extension(
        list(
            stub.GetSync(
                pb.GetSyncRequest(sync_id=sync.sync_id, include_results=True),
                timeout=10,
            ).results
        )
    )
    codes = {ext: r.reason_code for ext, r in results.items() if r.reason_code}
    assert codes == {
        "10003": "DUPLICATE_EMAIL",
        "10004": "DUPLICATE_EMAIL",
        "10005": "EMAIL_IN_USE",
        "10006": "INVALID_EMAIL",
        "10007": "UNKNOWN_SERVICE",
        "10008": "INVALID_USER",
    }
    assert "10004" in results["10003"].reason

    page = stub.GetSync(
        pb.GetSyncRequest(
            sync_id=sync.sync_id,
            include_results=True,
            rejected_only=True,
            result_limit=4,
        ),
        timeout=10,
    )
    assert [r.extension for r in page.results] == ["10003", "10004", "10005", "10006"]
    assert page.counts.rejected == 6
    assert (done.counts.created, done.counts.rejected) == (3, 6)
    assert sorted(u["extension"] for u in linked.users()) == ["10000", "10001", "10002"]

    status = stub.GetSyncStatus(pb.GetSyncStatusRequest(), timeout=10)
    assert status.last_completed.sync_id == sync.sync_id
    assert not status.HasField("current")
    assert (status.provisioned_users, status.user_limit) == (3, 5000)
    assert status.rejected_total == 6

    assert wait_until(
        lambda: (
            (inbox.last(TOPIC) or {}).get("lastCompletedCounts", {}).get("created") == 3
        ),
        5,
    )
    watcher.stop()
    published = json.dumps(inbox.messages)
    assert "@" not in published
    assert "token" not in published.lower()

    logs = registration.output()
    assert "Rejected extension 10003: DUPLICATE_EMAIL" in logs
    assert "same@acme.example" not in logs.lower()

    metrics = requests.get(
        f"http://127.0.0.1:{registration.env['CLD_REGISTRATION_METRICS_PORT']}/metrics",
        timeout=5,
    ).text
    assert "cld_provisioning_users 3.0" in metrics
    rejected = 'operation="sync",outcome="rejected"'
    assert f"cld_provisioning_user_operations_total{{{rejected}}} 6.0" in metrics
    assert "cld_provisioning_sync_running 0.0" in metrics
    assert "cld_provisioning_last_full_sync_timestamp_seconds 0.0" not in metrics


def test_single_users_are_put_read_and_deleted(
    registration: Service, cloud: Cloud
) -> None:
    stub = provisioning(registration)
    refused = error_of(
        lambda: stub.PutUser(pb.PutUserRequest(user=pm_user(1)), timeout=10)
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    check = stub.CheckConnection(pb.CheckConnectionRequest(), timeout=10)
    assert (check.linked, check.cloud_reachable) == (False, False)
    assert "not linked" in check.problem

    link(registration)
    check = stub.CheckConnection(pb.CheckConnectionRequest(), timeout=10)
    assert (check.linked, check.cloud_reachable, check.problem) == (True, True, "")
    assert (check.account_name, check.user_limit) == ("Acme Dental", 5000)

    def put(user: pb.User) -> pb.UserResult:
        return stub.PutUser(pb.PutUserRequest(user=user), timeout=10)

    created = put(pm_user(1))
    assert created.outcome == pb.USER_OUTCOME_CREATED
    assert put(pm_user(1)).outcome == pb.USER_OUTCOME_UNCHANGED
    assert put(pm_user(1, last_name="Else")).outcome == pb.USER_OUTCOME_UPDATED
    assert put(pm_user(2, email="user1@acme.example")).reason_code == "EMAIL_IN_USE"
    assert put(pm_user(3, extension="12x")).reason_code == "INVALID_USER"

    got = stub.GetUser(pb.GetUserRequest(extension="10001"), timeout=10)
    assert (got.user.last_name, got.user_id) == ("Else", created.user_id)
    assert list(got.user.services) == ["ZOOM_CLIENT"]
    assert got.modified_at.seconds > 0

    blank = error_of(
        lambda: stub.DeleteUser(pb.DeleteUserRequest(extension=""), timeout=10)
    )
    assert blank.code() == grpc.StatusCode.INVALID_ARGUMENT

    removed = stub.DeleteUser(pb.DeleteUserRequest(extension="10001"), timeout=10)
    assert removed.outcome == pb.USER_OUTCOME_REMOVED
    for call in (
        lambda: stub.DeleteUser(pb.DeleteUserRequest(extension="10001"), timeout=10),
        lambda: stub.GetUser(pb.GetUserRequest(extension="10001"), timeout=10),
    ):
        assert error_of(call).code() == grpc.StatusCode.NOT_FOUND

    twice = error_of(
        lambda: stub.StartSync(
            pb.StartSyncRequest(users=[pm_user(1), pm_user(1)]), timeout=10
        )
    )
    assert twice.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "10001" in twice.details()

    cloud.stop()
    check = stub.CheckConnection(pb.CheckConnectionRequest(), timeout=10)
    assert (check.linked, check.cloud_reachable) == (True, False)
    unreachable = error_of(lambda: put(pm_user(5)))
    assert unreachable.code() == grpc.StatusCode.UNAVAILABLE


def test_a_sync_waits_until_the_system_is_linked(
    registration: Service, cloud: Cloud
) -> None:
    stub = provisioning(registration)
    sync = stub.StartSync(pb.StartSyncRequest(users=pm_users(3)), timeout=10)

    waiting = wait_sync(stub, sync.sync_id, pb.SYNC_STATE_WAITING)
    assert "not linked" in waiting.problem
    assert waiting.counts.pending == 3

    link(registration)
    done = wait_sync(stub, sync.sync_id)
    assert done.counts.created == 3
    assert done.problem == ""


def test_a_newer_sync_supersedes_a_running_one(
    registration: Service, linked: CloudView
) -> None:
    stub = provisioning(registration)
    first = stub.StartSync(pb.StartSyncRequest(users=pm_users(1000)), timeout=10)
    second = stub.StartSync(pb.StartSyncRequest(users=pm_users(10, 2000)), timeout=10)

    done = wait_sync(stub, second.sync_id)
    old = stub.GetSync(pb.GetSyncRequest(sync_id=first.sync_id), timeout=10)

    assert old.state == pb.SYNC_STATE_SUPERSEDED
    assert done.counts.created == 10
    assert done.counts.created + done.counts.removed >= 10
    assert sorted(u["extension"] for u in linked.users()) == [
        str(12000 + n) for n in range(10)
    ]


def _each_once(linked: CloudView, count: int) -> None:
    extensions = Counter(u["extension"] for u in linked.users())
    assert len(extensions) == count
    assert set(extensions.values()) == {1}


def test_a_sync_resumes_when_the_cloud_comes_back(
    registration: Service, linked: CloudView, cloud: Cloud
) -> None:
    stub = provisioning(registration)
    sync = stub.StartSync(pb.StartSyncRequest(users=pm_users(800)), timeout=10)
    wait_for(lambda: linked.count() >= 200, 60, "200 users in the cloud")

    cloud.stop()
    waiting = wait_sync(stub, sync.sync_id, pb.SYNC_STATE_WAITING)
    assert "cannot be reached" in waiting.problem
    assert 0 < waiting.counts.pending < 800

    cloud.start()
    done = wait_sync(stub, sync.sync_id, timeout=60)

    assert done.counts.created == 800
    _each_once(linked, 800)


def test_a_sync_resumes_after_the_service_is_killed(
    registration: Service, linked: CloudView
) -> None:
    stub = provisioning(registration)
    sync = stub.StartSync(pb.StartSyncRequest(users=pm_users(800)), timeout=10)
    wait_for(lambda: linked.count() >= 200, 60, "200 users in the cloud")

    registration.kill()
    registration.start()
    stub = provisioning(registration)
    done = wait_sync(stub, sync.sync_id, timeout=60)

    assert done.counts.created == 800
    assert done.counts.pending == 0
    assert f"Sync {sync.sync_id} resumes with" in registration.output()
    _each_once(linked, 800)
