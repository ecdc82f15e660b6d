"""PM's API on the real stack: gunicorn, the registration service, the emulator.

One linked stack serves the module's tests; each test uses extensions of
its own so that none depends on another's users.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cld.v1 import registration_pb2 as registration_pb
from cld.v1 import registration_pb2_grpc as registration_grpc

from services.common import rpc
from tests.integration.ui.conftest import Dashboard
from tests.support.processes import ROOT, Broker, Cloud, Service, daemon_env

API_CLIENT = "pm"
API_PASSWORD = "pm api password 1"

ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@acme.example",
    "services": ["ZOOM_CLIENT"],
}


@dataclass
class ApiStack:
    """The parts a test talks to, and PM's session with its credentials."""

    dashboard: Dashboard
    registration: Service
    cloud: Cloud
    pm: requests.Session

    @property
    def api(self) -> str:
        """The API's base URL."""

        return f"{self.dashboard.url}/api/v1"


def add_api_client(env: dict[str, str]) -> None:
    """Adds PM's API client with the accounts CLI, as an administrator would."""

    subprocess.run(
        [
            sys.executable,
            "-m",
            "services.ui.accounts",
            "--api-clients",
            "add",
            API_CLIENT,
        ],
        input=f"{API_PASSWORD}\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def link(registration: Service) -> None:
    """Links the system to the emulator's Acme Dental account."""

    stub = registration_grpc.RegistrationStub(
        rpc.channel(registration.runtime_dir, "registration")
    )
    linked = stub.LinkWithPassword(
        registration_pb.LinkWithPasswordRequest(
            username="admin@acme.example", password="acme-admin-1"
        ),
        timeout=15,
    )
    assert linked.state == registration_pb.LINK_STATE_LINKED


def pm_session() -> requests.Session:
    """A client sending PM's credentials with every request."""

    session = requests.Session()
    session.auth = (API_CLIENT, API_PASSWORD)
    return session


@pytest.fixture(scope="module")
def linked_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    """Mosquitto, the emulator, a linked registration service and the dashboard."""

    workdir = tmp_path_factory.mktemp("provisioning-api")
    broker = Broker(workdir / "mosquitto")
    cloud = Cloud(workdir / "cloud")
    started: list[Any] = []

    try:
        for part in (broker, cloud):
            part.start()
            started.append(part)

        env = daemon_env(workdir / "daemon", broker.port, cloud.url)
        registration = Service("registration", env, workdir / "daemon")
        registration.start()
        started.append(registration)
        link(registration)

        dashboard = Dashboard(env, workdir)
        add_api_client(dashboard.env)
        dashboard.start()
        started.append(dashboard)
        yield ApiStack(dashboard, registration, cloud, pm_session())
    finally:
        for part in reversed(started):
            part.stop()


def wait_for_sync(
    stack: ApiStack, location: str, timeout: float = 60
) -> dict[str, Any]:
    """The sync at ``location`` once it is done; fails the test after ``timeout``."""

    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        found = stack.pm.get(f"{stack.dashboard.url}{location[4:]}", timeout=10)
        assert found.status_code == 200, found.text
        sync: dict[str, Any] = found.json()

        if sync["state"] == "done":
            return sync

        time.sleep(0.2)

    raise AssertionError(f"the sync at {location} did not finish: {sync}")


def test_the_connection_check_says_the_system_can_provision(
    linked_stack: ApiStack,
) -> None:
    answer = linked_stack.pm.get(f"{linked_stack.api}/connection", timeout=30)

    assert answer.status_code == 200, answer.text
    check = answer.json()
    assert check["linked"] is True
    assert check["cloudReachable"] is True
    assert check["accountName"] == "Acme Dental"
    assert check["userLimit"] == 5000
    assert "problem" not in check


def test_a_user_is_created_updated_read_and_removed(linked_stack: ApiStack) -> None:
    pm, api = linked_stack.pm, linked_stack.api
    user = f"{api}/users/4711"

    created = pm.put(user, json=ADA, timeout=30)
    again = pm.put(user, json=ADA, timeout=30)
    renamed = pm.put(user, json={**ADA, "lastName": "King"}, timeout=30)
    found = pm.get(user, timeout=10)

    assert created.status_code == 201, created.text
    assert created.json()["outcome"] == "created"
    assert created.json()["userId"]
    assert created.headers["Location"] == "/cld/api/v1/users/4711"
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    assert (renamed.status_code, renamed.json()["outcome"]) == (200, "updated")
    assert found.json()["lastName"] == "King"
    assert found.json()["userId"] == created.json()["userId"]

    removed = pm.delete(user, timeout=30)
    gone = pm.delete(user, timeout=30)
    missing = pm.get(user, timeout=10)

    assert (removed.status_code, removed.json()["outcome"]) == (200, "removed")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "NOT_FOUND"
    assert missing.status_code == 404


def test_a_user_the_cloud_refuses_comes_back_with_its_reason(
    linked_stack: ApiStack,
) -> None:
    answer = linked_stack.pm.put(
        f"{linked_stack.api}/users/4712",
        json={**ADA, "email": "not-an-address"},
        timeout=30,
    )

    assert answer.status_code == 422, answer.text
    result = answer.json()
    assert result["outcome"] == "rejected"
    assert result["reasonCode"] == "INVALID_EMAIL"
    assert "not-an-address" in result["reason"]


def test_a_full_sync_applies_pms_list_and_reports_each_user(
    linked_stack: ApiStack,
) -> None:
    pm, api = linked_stack.pm, linked_stack.api
    users = [
        {**ADA, "extension": "5001", "email": "grace@acme.example"},
        {**ADA, "extension": "5002", "email": "edsger@acme.example"},
        {**ADA, "extension": "5003", "email": "broken"},
    ]

    started = pm.post(f"{api}/synchronizations", json={"users": users}, timeout=30)

    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/cld/api/v1/synchronizations/{started.json()['id']}"

    sync = wait_for_sync(linked_stack, location)
    outcomes = {r["extension"]: r["outcome"] for r in sync["results"]}

    assert sync["total"] == 3
    assert outcomes["5001"] == "created"
    assert outcomes["5002"] == "created"
    assert outcomes["5003"] == "rejected"
    assert sync["counts"]["rejected"] == 1

    status = pm.get(f"{api}/synchronization-status", timeout=10).json()

    assert status["lastCompleted"]["id"] == sync["id"]
    assert status["userLimit"] == 5000

    # The same list again changes nothing; a shorter one removes the rest.
    again = pm.post(f"{api}/synchronizations", json={"users": users[:1]}, timeout=30)
    second = wait_for_sync(linked_stack, again.headers["Location"])

    assert second["counts"]["unchanged"] == 1
    assert second["counts"]["removed"] == 1


def test_a_list_with_one_extension_twice_is_refused_whole(
    linked_stack: ApiStack,
) -> None:
    users = [{**ADA, "extension": "6001"}, {**ADA, "extension": "6001"}]

    answer = linked_stack.pm.post(
        f"{linked_stack.api}/synchronizations", json={"users": users}, timeout=30
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    assert "6001" in answer.json()["error"]["message"]


def test_an_unknown_sync_is_not_found(linked_stack: ApiStack) -> None:
    answer = linked_stack.pm.get(
        f"{linked_stack.api}/synchronizations/no-such-sync", timeout=10
    )

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


def test_api_requests_are_counted_by_operation(linked_stack: ApiStack) -> None:
    linked_stack.pm.get(f"{linked_stack.api}/synchronization-status", timeout=10)
    port = linked_stack.dashboard.env["CLD_UI_METRICS_PORT"]

    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text

    assert 'endpoint="api.sync_status",method="GET",status="200"' in metrics


def test_an_unlinked_system_refuses_users_and_says_why(
    tmp_path: Path, mosquitto: Broker, cloud: Cloud
) -> None:
    env = daemon_env(tmp_path / "daemon", mosquitto.port, cloud.url)
    registration = Service("registration", env, tmp_path / "daemon")
    registration.start()
    dashboard = Dashboard(env, tmp_path)
    add_api_client(dashboard.env)
    dashboard.start()
    pm, api = pm_session(), f"{dashboard.url}/api/v1"

    try:
        check = pm.get(f"{api}/connection", timeout=30)
        put = pm.put(f"{api}/users/4711", json=ADA, timeout=30)

        assert check.status_code == 503
        assert check.json()["linked"] is False
        assert "not linked" in check.json()["problem"]
        assert put.status_code == 409, put.text
        assert put.json()["error"]["code"] == "NOT_LINKED"

        registration.stop()
        down = pm.put(f"{api}/users/4711", json=ADA, timeout=30)

        assert down.status_code == 503
        assert down.headers["Retry-After"] == "30"
        assert down.json()["error"]["code"] == "UNAVAILABLE"
    finally:
        dashboard.stop()
        registration.stop()


def test_wrong_credentials_are_refused_with_a_challenge(linked_stack: ApiStack) -> None:
    anonymous = requests.get(f"{linked_stack.api}/synchronization-status", timeout=10)
    wrong = requests.get(
        f"{linked_stack.api}/synchronization-status",
        auth=(API_CLIENT, "not the password"),
        timeout=10,
    )

    for answer in (anonymous, wrong):
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")
        assert answer.json()["error"]["code"] == "UNAUTHORIZED"
        assert "Set-Cookie" not in answer.headers


def test_users_beyond_the_limit_are_rejected_one_by_one(
    tmp_path: Path, mosquitto: Broker, cloud: Cloud
) -> None:
    env = {
        **daemon_env(tmp_path / "daemon", mosquitto.port, cloud.url),
        "CLD_PROVISIONING_USER_LIMIT": "2",
    }
    registration = Service("registration", env, tmp_path / "daemon")
    registration.start()
    link(registration)
    dashboard = Dashboard(env, tmp_path)
    add_api_client(dashboard.env)
    dashboard.start()
    stack = ApiStack(dashboard, registration, cloud, pm_session())
    users = [
        {**ADA, "extension": str(7000 + n), "email": f"user{n}@acme.example"}
        for n in range(3)
    ]

    try:
        started = stack.pm.post(
            f"{stack.api}/synchronizations", json={"users": users}, timeout=30
        )
        sync = wait_for_sync(stack, started.headers["Location"])
    finally:
        dashboard.stop()
        registration.stop()

    results = {r["extension"]: r for r in sync["results"]}

    assert sync["counts"]["created"] == 2
    assert results["7002"]["outcome"] == "rejected"
    assert results["7002"]["reasonCode"] == "USER_LIMIT"
