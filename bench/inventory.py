"""Inventory report build time, and the time from a change to the stored report.

Prints one JSON object per measurement on stdout.

- ``report_build``: gathering the facts of a fake host (files below a host
  root) and building and encoding its report, per platform; ``pure_build``
  is the build and encoding alone from facts gathered beforehand; beside
  them, the bare ``json.dumps`` of the same report as a reference.
- ``change_to_stored``: a real Mosquitto, the CloudLink emulator and the
  registration and inventory services as processes; a tunnel state published
  on the bus (or a component's file appearing on the fake host) until the
  report is stored in the emulator, polled over HTTP. The reference is a
  direct POST of a report of the same size to the same emulator. The
  configured debounce window (and for files, the rescan interval) is part
  of the figure and is printed with it.

Everything runs on this machine's loopback, sharing its cores. Run from the
repository root as ``python -m bench.inventory`` (``make bench-inventory``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from cloud.seed import DEMO_LOGINS
from services.common import rpc
from services.common.bus import Bus
from services.common.profiles import (
    detect_platform,
    load_profiles,
    platforms_dir,
)
from services.common.version import build_info
from services.inventory.facts import gather_host, survey_platform
from services.inventory.report import (
    SystemIdentity,
    build_report,
    encode,
)
from tests.support.fakehosts import HOSTS, build_host, write
from tests.support.processes import (
    Broker,
    Cloud,
    Service,
    daemon_env,
    wait_for,
)

IDENTITY = SystemIdentity(str(uuid.uuid4()), str(uuid.uuid4()))


def summary(samples: list[float]) -> dict[str, float]:
    """Median, min and max in milliseconds."""

    return {
        "median_ms": round(1000 * statistics.median(samples), 3),
        "min_ms": round(1000 * min(samples), 3),
        "max_ms": round(1000 * max(samples), 3),
    }


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []

    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)

    return samples


def bench_build(workdir: Path, runs: int) -> None:
    profiles = load_profiles(platforms_dir())

    for platform in sorted(HOSTS):
        host = build_host(workdir / platform, platform, gateway=True)
        profile = detect_platform(profiles, host)
        assert profile is not None

        def build(host: Path = host, profile: Any = profile) -> bytes:
            return encode(
                build_report(
                    report_id=str(uuid.uuid4()),
                    reason="manual",
                    created_at=datetime.now(UTC),
                    system=IDENTITY,
                    profile=profile,
                    platform=survey_platform(profile, host),
                    host=gather_host(host),
                    build=build_info(),
                    tunnels={},
                )
            )

        for _ in range(5):
            build()

        facts = survey_platform(profile, host)
        host_facts = gather_host(host)

        def pure(
            profile: Any = profile, facts: Any = facts, hf: Any = host_facts
        ) -> bytes:
            return encode(
                build_report(
                    report_id=str(uuid.uuid4()),
                    reason="manual",
                    created_at=datetime.now(UTC),
                    system=IDENTITY,
                    profile=profile,
                    platform=facts,
                    host=hf,
                    build=build_info(),
                    tunnels={},
                )
            )

        report = json.loads(build())
        build_samples = timed(build, runs)
        pure_samples = timed(pure, runs)
        dumps_samples = timed(lambda r=report: json.dumps(r), runs)
        emit(
            measure="report_build",
            platform=platform,
            runs=runs,
            report_bytes=len(build()),
            **summary(build_samples),
            pure_build_median_ms=summary(pure_samples)["median_ms"],
            reference="json.dumps of the same report",
            reference_median_ms=summary(dumps_samples)["median_ms"],
            ratio=round(
                statistics.median(build_samples) / statistics.median(dumps_samples), 1
            ),
        )


def _now() -> Any:

    return datetime.now(UTC)


class Stack:
    """Broker, emulator, registration and inventory on a fake MX-ONE host."""

    def __init__(self, workdir: Path, debounce: float, rescan: float) -> None:
        self.host = build_host(workdir / "host", "mx-one")
        (self.host / "etc/sysconfig/proxy").unlink()
        self.broker = Broker(workdir / "mosquitto")
        self.cloud = Cloud(workdir / "cloud")
        self.debounce = debounce
        self.rescan = rescan
        self.workdir = workdir
        self.services: list[Service] = []

    def start(self) -> None:
        self.broker.start()
        self.cloud.start()
        env = {
            **daemon_env(self.workdir / "daemon", self.broker.port, self.cloud.url),
            "CLD_HOST_ROOT": str(self.host),
            "CLD_INVENTORY_DEBOUNCE": str(self.debounce),
            "CLD_INVENTORY_RESCAN": str(self.rescan),
            "CLD_INVENTORY_RETRY_MAX": "1",
            "CLD_LOG_LEVEL": "WARNING",
        }

        for name in ("registration", "inventory"):
            service = Service(name, env, self.workdir / "daemon")
            service.start()
            self.services.append(service)

        runtime = self.services[0].runtime_dir
        self.registration = reg_grpc.RegistrationStub(
            rpc.channel(runtime, "registration")
        )
        username, password, _ = DEMO_LOGINS[0]
        link = self.registration.LinkWithPassword(
            reg_pb.LinkWithPasswordRequest(username=username, password=password),
            timeout=10,
        )
        self.system_id = link.system_id
        token = self.registration.GetAccessToken(
            reg_pb.GetAccessTokenRequest(), timeout=5
        )
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.token}"
        self.latest_url = (
            f"{self.cloud.url}/2017-09-01/systems/{self.system_id}/reports/latest"
        )
        wait_for(lambda: self.latest() is not None, 20, "the link report")

    def latest(self) -> dict[str, Any] | None:
        answer = self.session.get(self.latest_url, timeout=5)
        return answer.json()["report"] if answer.status_code == 200 else None

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

        self.cloud.stop()
        self.broker.stop()


def wait_new_report(stack: Stack, previous: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        report = stack.latest()

        if report is not None and report["reportId"] != previous:
            return

        time.sleep(0.002)

    raise TimeoutError("no new report was stored")


def bench_change(workdir: Path, runs: int, debounce: float, rescan: float) -> None:
    stack = Stack(workdir, debounce, rescan)
    stack.start()
    bus = Bus("tunnel", "127.0.0.1", stack.broker.port)
    bus.start()
    assert bus.wait_connected(5)

    try:
        tunnel_samples = []
        direct_samples = []

        for run in range(runs):
            previous = stack.latest()
            assert previous is not None
            state = "started" if run % 2 == 0 else "stopped"
            started = time.perf_counter()
            bus.publish_state(
                "cld/tunnel/tunnels/service-node-manager/snm",
                {"component": "service-node-manager", "name": "snm", "state": state},
            )
            wait_new_report(stack, previous["reportId"])
            tunnel_samples.append(time.perf_counter() - started)

            again = {**previous, "reportId": str(uuid.uuid4()), "reason": "manual"}
            started = time.perf_counter()
            answer = stack.session.post(
                stack.latest_url.removesuffix("/latest"),
                data=encode(again),
                headers={
                    "Idempotency-Key": again["reportId"],
                    "Content-Type": "application/json",
                },
                timeout=5,
            )
            direct_samples.append(time.perf_counter() - started)
            assert answer.status_code == 201, answer.text

        emit(
            measure="change_to_stored",
            trigger="tunnel state on the bus",
            runs=runs,
            debounce_ms=round(1000 * debounce),
            **summary(tunnel_samples),
            beyond_debounce_median_ms=round(
                1000 * (statistics.median(tunnel_samples) - debounce), 3
            ),
            reference="direct POST of a report to the emulator",
            reference_median_ms=summary(direct_samples)["median_ms"],
        )

        file_samples = []

        for run in range(max(3, runs // 3)):
            previous = stack.latest()
            assert previous is not None
            started = time.perf_counter()
            write(stack.host, "opt/cloudlink-gateway/VERSION", f"2.{run}\n")
            wait_new_report(stack, previous["reportId"])
            file_samples.append(time.perf_counter() - started)

        emit(
            measure="change_to_stored",
            trigger="component file on the host",
            runs=len(file_samples),
            debounce_ms=round(1000 * debounce),
            rescan_ms=round(1000 * rescan),
            **summary(file_samples),
        )
    finally:
        bus.stop()
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="builds per platform")
    parser.add_argument("--changes", type=int, default=15, help="changes to time")
    parser.add_argument("--debounce", type=float, default=0.1)
    parser.add_argument("--rescan", type=float, default=0.1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cld-bench-inventory-") as tmp:
        bench_build(Path(tmp) / "hosts", args.runs)
        bench_change(Path(tmp) / "stack", args.changes, args.debounce, args.rescan)


if __name__ == "__main__":
    main()
