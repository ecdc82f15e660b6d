"""MX-ONE user provisioning: a 5,000-user full sync and a 50-change sync.

Prints one JSON object per measurement on stdout.

A real Mosquitto, the CloudLink emulator and the registration service run
as processes on this machine's loopback, sharing its cores with this
script; the system is linked as the demo administrator. Each run times,
through the gRPC API, from StartSync to the sync reported DONE:

- ``full_sync``: 5,000 users, none of them in the cloud yet (5,000 creates);
- ``change_sync``: the same list with 50 changes (20 renamed, 15 gone,
  15 new: 50 writes).

Between runs the users are removed by an untimed empty sync. The reference,
timed in the same runs, is the same 5,000 creates sent straight to the
emulator by this script with as many threads and keep-alive sessions as the
service uses, for another system of the account: the cloud's own cost, so
``ratio`` is what the engine adds on top (listing, planning, journalling).

Run from the repository root as ``python -m bench.provisioning``
(``make bench-provisioning``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from cld.v1 import provisioning_pb2 as pb
from cld.v1 import provisioning_pb2_grpc as pb_grpc
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from cloud.seed import DEMO_LOGINS
from services.common import rpc
from tests.support.processes import Broker, Cloud, Service, daemon_env

USERS = 5000
WRITERS = 4


def pm_users(count: int, start: int = 0, renamed: range = range(0)) -> list[pb.User]:
    """PM's list: extensions 10000 and up, one e-mail each."""

    return [
        pb.User(
            extension=str(10000 + n),
            first_name="User",
            last_name=f"Renamed {n}" if n in renamed else f"Number {n}",
            email=f"user{n}@acme.example",
            services=["ZOOM_CLIENT"],
        )
        for n in range(start, start + count)
    ]


def timed_sync(stub: pb_grpc.ProvisioningStub, users: list[pb.User]) -> float:
    """Seconds from StartSync to the sync reported DONE."""

    started = time.perf_counter()
    sync = stub.StartSync(pb.StartSyncRequest(users=users), timeout=60)

    while True:
        state = stub.GetSync(pb.GetSyncRequest(sync_id=sync.sync_id), timeout=10)

        if state.state == pb.SYNC_STATE_DONE:
            return time.perf_counter() - started

        if time.perf_counter() - started > 600:
            raise RuntimeError(f"sync {sync.sync_id} did not finish: {state}")

        time.sleep(0.05)


class DirectClient:
    """Sends the same creates straight to the emulator, for the reference."""

    def __init__(self, cloud_url: str, token: str) -> None:
        self.base = f"{cloud_url}/2017-09-01"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()
        system = requests.post(
            f"{self.base}/systems",
            json={"installationId": str(uuid.uuid4()), "name": "reference"},
            headers=self.headers,
            timeout=10,
        )
        system.raise_for_status()
        self.system_id = system.json()["systemId"]

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()

        session: requests.Session = self.local.session
        return session

    def create_all(self, count: int) -> float:
        def create(n: int) -> str:
            answer = self.session().post(
                f"{self.base}/users",
                json={
                    "firstName": "Reference",
                    "lastName": str(n),
                    "email": f"reference{n}@acme.example",
                    "services": ["ZOOM_CLIENT"],
                    "role": "NONE",
                    "extension": str(n),
                    "systemId": self.system_id,
                },
                headers={**self.headers, "Idempotency-Key": f"ref:{uuid.uuid4()}"},
                timeout=10,
            )
            answer.raise_for_status()
            return str(answer.json()["userId"])

        started = time.perf_counter()

        with ThreadPoolExecutor(WRITERS) as pool:
            self.created = list(pool.map(create, range(count)))

        return time.perf_counter() - started

    def delete_all(self) -> None:
        def delete(user_id: str) -> None:
            self.session().delete(
                f"{self.base}/users/{user_id}", headers=self.headers, timeout=10
            )

        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(delete, self.created))


def summary(name: str, values: list[float], **extra: Any) -> dict[str, Any]:
    """One measurement's median, min and max, in seconds."""

    return {
        "measure": name,
        "runs": len(values),
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cld-bench-provisioning-") as tmp:
        work = Path(tmp)
        broker = Broker(work / "mosquitto")
        cloud = Cloud(work / "cloud")
        stopping: list[Callable[[], Any]] = []

        try:
            broker.start()
            stopping.append(broker.stop)
            cloud.start()
            stopping.append(cloud.stop)
            env = daemon_env(work / "daemon", broker.port, cloud.url)
            env["CLD_PROVISIONING_WRITERS"] = str(WRITERS)
            service = Service("registration", env, work / "daemon")
            service.start()
            stopping.append(service.stop)
            run(service, cloud, args.runs)
        finally:
            for stop in reversed(stopping):
                stop()


def run(service: Service, cloud: Cloud, runs: int) -> None:
    """Links, then times the syncs and the reference ``runs`` times."""

    channel = rpc.channel(service.runtime_dir, "registration")
    registration = reg_grpc.RegistrationStub(channel)
    registration.LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(
            username=DEMO_LOGINS[0][0], password=DEMO_LOGINS[0][1]
        ),
        timeout=30,
    )
    token = registration.GetAccessToken(reg_pb.GetAccessTokenRequest(), timeout=10)
    direct = DirectClient(cloud.url, token.token)
    stub = pb_grpc.ProvisioningStub(channel)

    full_list = pm_users(USERS)
    changed = pm_users(USERS - 15, start=15, renamed=range(15, 35))
    changed += pm_users(15, start=USERS + 1000)

    fulls: list[float] = []
    changes: list[float] = []
    references: list[float] = []

    # One untimed round first warms the caches and the connections.
    for index in range(runs + 1):
        reference = direct.create_all(USERS)
        direct.delete_all()
        full = timed_sync(stub, full_list)
        change = timed_sync(stub, changed)
        timed_sync(stub, [])

        if index:
            references.append(reference)
            fulls.append(full)
            changes.append(change)

    reference_median = statistics.median(references)
    setting = {
        "users": USERS,
        "writers": WRITERS,
        "note": "emulator, broker, service and client share this machine's cores",
    }
    print(
        json.dumps(
            summary(
                "full_sync",
                fulls,
                reference="direct_creates",
                reference_median_s=round(reference_median, 3),
                ratio=round(statistics.median(fulls) / reference_median, 2),
                **setting,
            )
        )
    )
    print(json.dumps(summary("change_sync", changes, changes=50, **setting)))
    print(json.dumps(summary("direct_creates", references, **setting)))


if __name__ == "__main__":
    main()
