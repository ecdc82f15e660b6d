"""Dashboard page render time and requests per second, under gunicorn.

Prints one JSON object per measurement on stdout.

- ``render``: many sequential GETs, one logged-in keep-alive session, of the
  dashboard page (every panel; the backend calls of a render are made in
  parallel, see services/ui/fanout.py), of the panels endpoint the page
  polls, and of the health check as the reference: the same gunicorn, the
  same login check, no panel. ``ratio_p50`` is the page's p50 over the
  reference's, measured in the same run.
- ``throughput``: requests per second of the same paths with ``clients``
  concurrent keep-alive sessions for a fixed time, on the default gunicorn
  settings (CLD_UI_WORKERS=1, 4 threads).

A real Mosquitto, the CloudLink emulator, the registration service (linked
to a demo account, so the registration panel is complete) and the ui run on
this machine's loopback and share its cores with the load generator, which
is Python threads: the throughput figures are a floor, not a ceiling. Run
from the repository root as ``python -m bench.ui`` (``make bench-ui``).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from cloud.seed import DEMO_LOGINS
from services.common import rpc
from services.common.bus import Bus
from services.ui import accounts
from services.ui.live import CLOCK_DRIFT, GATEWAY
from tests.support.processes import (
    Broker,
    Cloud,
    Process,
    Service,
    daemon_env,
    free_port,
    wait_for,
)

USER = "bench"


def emit(**fields: Any) -> None:
    """Prints one measurement as a JSON line."""

    print(json.dumps(fields), flush=True)


def percentile(samples: list[float], share: float) -> float:
    """The ``share`` quantile of ``samples`` (nearest rank)."""

    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Stack:
    """Broker, emulator, a linked registration service and the dashboard."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.broker = Broker(workdir / "mosquitto")
        self.cloud = Cloud(workdir / "cloud")
        self.processes: list[Process] = []
        self.url = ""
        self.password = accounts.generate_password()

    def start(self) -> None:
        """Starts everything and links the system to a demo account."""

        self.broker.start()
        self.processes.append(self.broker)
        self.cloud.start()
        self.processes.append(self.cloud)
        (self.workdir / "host").mkdir()
        port = free_port()
        env = {
            **daemon_env(self.workdir / "daemon", self.broker.port, self.cloud.url),
            "CLD_HOST_ROOT": str(self.workdir / "host"),
            "CLD_LOG_LEVEL": "WARNING",
            "CLD_UI_BIND": f"127.0.0.1:{port}",
        }
        registration = Service("registration", env, self.workdir / "daemon")
        registration.start()
        self.processes.append(registration)

        stub = reg_grpc.RegistrationStub(
            rpc.channel(registration.runtime_dir, "registration")
        )
        username, password, _ = DEMO_LOGINS[0]
        stub.LinkWithPassword(
            reg_pb.LinkWithPasswordRequest(username=username, password=password),
            timeout=10,
        )

        users = Path(env["CLD_STATE_DIR"]) / "ui" / "users.json"
        accounts.add(users, USER, self.password)
        ui = Process(
            "ui",
            [sys.executable, "-m", "services.ui"],
            env,
            self.workdir / "daemon" / "logs" / "ui.log",
        )
        ui.start()
        self.processes.append(ui)
        self.url = f"http://127.0.0.1:{port}/cld"
        wait_for(self._healthy, 20, "the dashboard to answer")

        # Retained state as a live system has it: a drift warning and an
        # installed gateway, so every panel renders.
        tunnel = Bus("tunnel", "127.0.0.1", self.broker.port)
        inventory = Bus("inventory", "127.0.0.1", self.broker.port)

        for bus in (tunnel, inventory):
            bus.start()
            bus.wait_connected(5)

        tunnel.publish_state(CLOCK_DRIFT, {"drift_seconds": 61.0})
        inventory.publish_state(
            GATEWAY, {"installed": True, "version": "2.4.1", "status_url": ""}
        )
        time.sleep(0.5)
        tunnel.stop()
        inventory.stop()

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def session(self) -> requests.Session:
        """A logged-in browser-like session."""

        browser = requests.Session()
        form = browser.get(f"{self.url}/login", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        page = browser.post(
            f"{self.url}/login",
            data={
                "csrf_token": token.group(1),
                "username": USER,
                "password": self.password,
            },
            timeout=10,
        )
        assert "Clock drift detected" in page.text, page.text[:2000]
        assert "CloudLink Gateway is installed" in page.text
        assert "Acme Dental" in page.text
        return browser

    def stop(self) -> None:
        """Stops everything, last started first."""

        for process in reversed(self.processes):
            process.stop()


def timed(browser: requests.Session, url: str) -> float:
    """Seconds one GET took, checked for success."""

    started = time.perf_counter()
    response = browser.get(url, timeout=10)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed


def hammer(browser: requests.Session, url: str, deadline: float) -> tuple[int, int]:
    """GETs ``url`` until ``deadline``; returns the successes and failures."""

    done = failed = 0

    while time.monotonic() < deadline:
        if browser.get(url, timeout=10).status_code == 200:
            done += 1
        else:
            failed += 1

    return done, failed


def render(stack: Stack, count: int, warmup: int) -> None:
    """Sequential request latency of the page, the panels and the reference."""

    browser = stack.session()
    paths = {"page": "/", "panels": "/panels", "reference": "/healthz"}
    samples: dict[str, list[float]] = {name: [] for name in paths}

    for _ in range(warmup):
        for path in paths.values():
            browser.get(f"{stack.url}{path}", timeout=10)

    # Interleaved, so a noisy moment on the shared cores hits all three.
    for _ in range(count):
        for name, path in paths.items():
            samples[name].append(timed(browser, f"{stack.url}{path}"))

    reference = statistics.median(samples["reference"])

    for name, taken in samples.items():
        emit(
            measurement="render",
            path=paths[name],
            what=name,
            requests=count,
            backend_calls_per_render=1 if name != "reference" else 0,
            p50_ms=round(statistics.median(taken) * 1000, 2),
            p99_ms=round(percentile(taken, 0.99) * 1000, 2),
            min_ms=round(min(taken) * 1000, 2),
            max_ms=round(max(taken) * 1000, 2),
            ratio_p50=round(statistics.median(taken) / reference, 2),
        )


def throughput(stack: Stack, clients: int, seconds: float) -> None:
    """Requests per second with ``clients`` concurrent sessions, per path."""

    sessions = [stack.session() for _ in range(clients)]

    for name, path in (("page", "/"), ("panels", "/panels"), ("reference", "/healthz")):
        deadline = time.monotonic() + seconds
        started = time.monotonic()

        with ThreadPoolExecutor(clients) as pool:
            futures = [
                pool.submit(hammer, s, f"{stack.url}{path}", deadline) for s in sessions
            ]
            counts = [f.result() for f in futures]

        done = [c[0] for c in counts]
        failed = [c[1] for c in counts]
        elapsed = time.monotonic() - started
        emit(
            measurement="throughput",
            path=path,
            what=name,
            clients=clients,
            seconds=round(elapsed, 2),
            requests=sum(done),
            failed=sum(failed),
            requests_per_second=round(sum(done) / elapsed, 1),
            gunicorn="CLD_UI_WORKERS=1, gthread, 4 threads",
        )


def main() -> None:
    """Runs the measurements."""

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as folder:
        stack = Stack(Path(folder))

        try:
            stack.start()
            render(stack, args.requests, args.warmup)
            throughput(stack, args.clients, args.seconds)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
