"""PM's syncs through the dashboard's HTTP API, beside the same syncs over gRPC.

Prints one JSON object per measurement on stdout.

The same stack as bench/provisioning.py (a real Mosquitto, the CloudLink
emulator, the registration service linked as the demo administrator) plus
the ui under gunicorn with an API client. Each run times, from the request
to the sync reported DONE, the 5,000-user full sync and the 50-change sync
twice, interleaved: through ``POST /cld/api/v1/synchronizations`` (JSON,
Basic credentials, the OpenAPI schema check, then gRPC) and straight
through gRPC. ``ratio`` is HTTP over gRPC in the same runs. The cloud's
writes dominate a full sync, so the API's own cost shows best in
``sync_accepted_http``: until the POST of 5,000 users is answered, beside
until StartSync is. Also reported: reading a finished 5,000-user sync with
every result.

Run from the repository root as ``python -m bench.provisioning_http``
(``make bench-provisioning-http``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from cld.v1 import provisioning_pb2 as pb
from cld.v1 import provisioning_pb2_grpc as pb_grpc
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from bench.provisioning import USERS, WRITERS, pm_users, summary
from cloud.seed import DEMO_LOGINS
from services.common import rpc
from services.ui import accounts
from services.ui.api import API_PREFIX
from tests.support.processes import (
    Broker,
    Cloud,
    Process,
    Service,
    daemon_env,
    free_port,
    wait_for,
)

CLIENT = "bench-pm"

# Both paths look for the end of a sync this often. A tighter loop through
# gunicorn costs CPU the sync itself needs on a 2-core machine.
POLL = 0.1


def as_json(users: list[pb.User]) -> dict[str, Any]:
    """PM's list as the API's body."""

    return {
        "users": [
            {
                "extension": u.extension,
                "firstName": u.first_name,
                "lastName": u.last_name,
                "email": u.email,
                "services": list(u.services),
            }
            for u in users
        ]
    }


class Api:
    """PM's side: one keep-alive session with the API client's credentials."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.auth = (CLIENT, password)

    def timed_sync(self, users: list[pb.User]) -> tuple[float, float, str]:
        """Seconds until the POST was answered and until the sync was DONE; its id."""

        body = json.dumps(as_json(users))
        started = time.perf_counter()
        answer = self.session.post(
            f"{self.url}/synchronizations",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        accepted = time.perf_counter() - started

        if answer.status_code != 202:
            raise RuntimeError(
                f"the sync was refused: {answer.status_code} {answer.text}"
            )

        sync_id = answer.json()["id"]

        # The status is small; the sync itself carries every user's result.
        while True:
            status = self.session.get(f"{self.url}/synchronization-status", timeout=10)
            last = status.json().get("lastCompleted", {})

            if last.get("id") == sync_id:
                return accepted, time.perf_counter() - started, sync_id

            if time.perf_counter() - started > 600:
                raise RuntimeError(f"sync {sync_id} did not finish: {status.text}")

            time.sleep(POLL)

    def read_sync(self, sync_id: str) -> float:
        """Seconds to read a sync with every user's result."""

        started = time.perf_counter()
        answer = self.session.get(f"{self.url}/synchronizations/{sync_id}", timeout=30)
        answer.raise_for_status()
        return time.perf_counter() - started


def grpc_sync(
    stub: pb_grpc.ProvisioningStub, users: list[pb.User]
) -> tuple[float, float]:
    """Seconds until StartSync answered and until the sync was DONE."""

    started = time.perf_counter()
    sync = stub.StartSync(pb.StartSyncRequest(users=users), timeout=60)
    accepted = time.perf_counter() - started

    # The same call the API's status resource makes, so that both paths put
    # the same load on the service while it works.
    while True:
        status = stub.GetSyncStatus(pb.GetSyncStatusRequest(), timeout=10)

        if status.last_completed.sync_id == sync.sync_id:
            return accepted, time.perf_counter() - started

        if time.perf_counter() - started > 600:
            raise RuntimeError(f"sync {sync.sync_id} did not finish: {status}")

        time.sleep(POLL)


def start_ui(work: Path, env: dict[str, str]) -> tuple[Process, str, str]:
    """The dashboard with an API client; its process, API URL and password."""

    port = free_port()
    env = {**env, "CLD_UI_BIND": f"127.0.0.1:{port}", "CLD_LOG_LEVEL": "WARNING"}
    password = accounts.generate_password()
    accounts.add(
        Path(env["CLD_STATE_DIR"]) / "ui" / "api-clients.json", CLIENT, password
    )
    ui = Process(
        "ui", [sys.executable, "-m", "services.ui"], env, work / "daemon" / "ui.log"
    )
    ui.start()
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{base}/cld/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(healthy, 20, "the dashboard to answer")
    return ui, f"{base}{API_PREFIX}", password


def run(service: Service, api: Api, runs: int) -> None:
    """Links, then times the syncs both ways ``runs`` times."""

    channel = rpc.channel(service.runtime_dir, "registration")
    username, password, _ = DEMO_LOGINS[0]
    reg_grpc.RegistrationStub(channel).LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(username=username, password=password),
        timeout=30,
    )
    stub = pb_grpc.ProvisioningStub(channel)

    full_list = pm_users(USERS)
    changed = pm_users(USERS - 15, start=15, renamed=range(15, 35))
    changed += pm_users(15, start=USERS + 1000)
    times: dict[str, list[float]] = {
        "full_grpc": [],
        "change_grpc": [],
        "full_http": [],
        "change_http": [],
        "read": [],
        "accepted": [],
        "accepted_grpc": [],
    }

    def through_grpc() -> tuple[float, float, float]:
        accepted, full = grpc_sync(stub, full_list)
        _, change = grpc_sync(stub, changed)
        grpc_sync(stub, [])
        return accepted, full, change

    def through_http() -> tuple[float, float, float, float]:
        accepted, full, full_id = api.timed_sync(full_list)
        read = api.read_sync(full_id)
        _, change, _ = api.timed_sync(changed)
        api.timed_sync([])
        return accepted, full, change, read

    # One untimed round first warms the caches and the connections. The
    # paths take turns going first, so neither always meets a fresher cloud.
    for index in range(runs + 1):
        if index % 2:
            accepted_grpc, full_grpc, change_grpc = through_grpc()
            accepted, full_http, change_http, read = through_http()
        else:
            accepted, full_http, change_http, read = through_http()
            accepted_grpc, full_grpc, change_grpc = through_grpc()

        if index:
            for name, value in (
                ("full_grpc", full_grpc),
                ("change_grpc", change_grpc),
                ("full_http", full_http),
                ("change_http", change_http),
                ("read", read),
                ("accepted", accepted),
                ("accepted_grpc", accepted_grpc),
            ):
                times[name].append(value)

    setting = {
        "users": USERS,
        "writers": WRITERS,
        "note": "emulator, broker, services and client share this machine's cores",
    }

    for kind, changes in (("full", USERS), ("change", 50)):
        http, grpc_ = times[f"{kind}_http"], times[f"{kind}_grpc"]
        print(
            json.dumps(
                summary(
                    f"{kind}_sync_http",
                    http,
                    changes=changes,
                    reference=f"{kind}_sync_grpc",
                    reference_median_s=round(statistics.median(grpc_), 3),
                    ratio=round(statistics.median(http) / statistics.median(grpc_), 2),
                    **setting,
                )
            )
        )

    accepted_grpc = statistics.median(times["accepted_grpc"])
    print(
        json.dumps(
            summary(
                "sync_accepted_http",
                times["accepted"],
                reference="sync_accepted_grpc",
                reference_median_s=round(accepted_grpc, 3),
                ratio=round(statistics.median(times["accepted"]) / accepted_grpc, 2),
                **setting,
            )
        )
    )
    print(json.dumps(summary("sync_read_5000_results", times["read"], **setting)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cld-bench-provisioning-http-") as tmp:
        work = Path(tmp)
        stopping: list[Callable[[], Any]] = []

        try:
            broker = Broker(work / "mosquitto")
            broker.start()
            stopping.append(broker.stop)
            cloud = Cloud(work / "cloud")
            cloud.start()
            stopping.append(cloud.stop)
            env = daemon_env(work / "daemon", broker.port, cloud.url)
            env["CLD_PROVISIONING_WRITERS"] = str(WRITERS)
            service = Service("registration", env, work / "daemon")
            service.start()
            stopping.append(service.stop)
            ui, url, password = start_ui(work, env)
            stopping.append(ui.stop)
            run(service, Api(url, password), args.runs)
        finally:
            for stop in reversed(stopping):
                stop()


if __name__ == "__main__":
    main()
