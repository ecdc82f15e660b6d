"""E-mail addresses that move between users within one sync.

One writer makes the order of writes PM's order, so the user who takes an
address is always written before the user who gives it up: the first
write is refused by the real emulator as in use, and the sync must get
past that by itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cld.v1 import provisioning_pb2 as pb

from tests.integration.registration.provisioning_support import (
    CloudView,
    pm_user,
    pm_users,
    provisioning,
    wait_sync,
)
from tests.support.processes import Broker, Cloud, Service, daemon_env


@pytest.fixture
def env(tmp_path: Path, mosquitto: Broker, cloud: Cloud) -> dict[str, str]:
    return {
        **daemon_env(tmp_path / "daemon", mosquitto.port, cloud.url),
        "CLD_PROVISIONING_WRITERS": "1",
    }


def sync(registration: Service, users: list[pb.User]) -> dict[str, pb.UserResult]:
    stub = provisioning(registration)
    started = stub.StartSync(pb.StartSyncRequest(users=users), timeout=10)
    wait_sync(stub, started.sync_id)
    done = stub.GetSync(
        pb.GetSyncRequest(sync_id=started.sync_id, include_results=True), timeout=10
    )
    return {r.extension: r for r in done.results}


def rejected_total(registration: Service) -> int:
    stub = provisioning(registration)
    return stub.GetSyncStatus(pb.GetSyncStatusRequest(), timeout=10).rejected_total


def addresses(linked: CloudView) -> dict[str, str]:
    return {u["extension"]: u["email"] for u in linked.users()}


def test_addresses_passed_along_a_chain_all_arrive(
    registration: Service, linked: CloudView
) -> None:
    sync(registration, pm_users(4))

    # Each user takes the next one's address; the last gets a new one.
    moved = [
        pm_user(0, email="user1@acme.example"),
        pm_user(1, email="user2@acme.example"),
        pm_user(2, email="user3@acme.example"),
        pm_user(3, email="new3@acme.example"),
    ]
    results = sync(registration, moved)

    assert {ext: r.outcome for ext, r in results.items()} == dict.fromkeys(
        ["10000", "10001", "10002", "10003"], pb.USER_OUTCOME_UPDATED
    )
    assert addresses(linked) == {
        "10000": "user1@acme.example",
        "10001": "user2@acme.example",
        "10002": "user3@acme.example",
        "10003": "new3@acme.example",
    }
    assert "once another user gave up the address" in registration.output()
    assert rejected_total(registration) == 0


def test_an_exchange_of_addresses_is_refused_and_the_sync_ends(
    registration: Service, linked: CloudView
) -> None:
    sync(registration, pm_users(3))

    swapped = [
        pm_user(0, email="user1@acme.example"),
        pm_user(1, email="user0@acme.example"),
        pm_user(2, last_name="Renamed"),
    ]
    results = sync(registration, swapped)

    assert {ext: r.reason_code for ext, r in results.items() if r.reason_code} == {
        "10000": "EMAIL_IN_USE",
        "10001": "EMAIL_IN_USE",
    }
    assert results["10002"].outcome == pb.USER_OUTCOME_UPDATED
    assert addresses(linked) == {
        "10000": "user0@acme.example",
        "10001": "user1@acme.example",
        "10002": "user2@acme.example",
    }

    # Each refused user counts once, however many times it was tried.
    assert rejected_total(registration) == 2
