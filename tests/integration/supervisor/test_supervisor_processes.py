"""``python -m supervisor`` as a real process, with real children."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common import rpc
from tests.support.processes import ROOT, free_port, wait_for

SERVICES = ["inventory", "updater", "tunnel"]


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive loopback ports nobody listens on."""

    for _ in range(50):
        base = free_port()
        ports = range(base, base + count)

        if ports[-1] <= 65535 and all(_bindable(port) for port in ports):
            return base

    raise AssertionError(f"found no {count} free consecutive ports")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False

    return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False

    return True


class Supervisor:
    """One ``python -m supervisor`` run in a test's own folder and ports."""

    def __init__(
        self, tmp_path: Path, only: list[str], mqtt_port: int | None = None
    ) -> None:
        self.run_dir = tmp_path / "run"
        self.output = tmp_path / "supervisor.out"
        self.argv = [
            sys.executable,
            "-m",
            "supervisor",
            "--run-dir",
            str(self.run_dir),
            "--only",
            ",".join(only),
            "--mqtt-port",
            str(mqtt_port or free_port()),
            "--metrics-port-base",
            str(free_port_run(5)),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.output.open("wb") as out:
            # Its own process group stands for the terminal's: a Ctrl-C there
            # reaches every process of the group.
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

        return self.proc

    def status(self) -> dict[str, Any]:
        try:
            document: dict[str, Any] = json.loads(
                (self.run_dir / "supervisor.json").read_text()
            )
        except FileNotFoundError:
            return {}

        return document

    def children(self) -> dict[str, dict[str, Any]]:
        return {child["name"]: child for child in self.status().get("children", [])}

    def all_running(self) -> bool:
        assert self.proc is not None
        assert self.proc.poll() is None, self.text()
        children = self.children()
        return bool(children) and all(
            child["state"] == "running" for child in children.values()
        )

    def text(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(tmp_path, ["mosquitto", *SERVICES])
    yield sup

    # Whatever a failed test left: the supervisor's group, then each child's.
    if sup.proc is not None and sup.proc.poll() is None:
        os.killpg(sup.proc.pid, signal.SIGKILL)
        sup.proc.wait()

    for child in sup.children().values():
        if child["pid"] and alive(child["pid"]):
            os.killpg(child["pid"], signal.SIGKILL)


@pytest.mark.timeout(30)
def test_a_killed_service_is_restarted_and_sigterm_stops_everything(
    supervisor: Supervisor,
) -> None:
    proc = supervisor.start()
    wait_for(supervisor.all_running, 15, "every child to be running")
    runtime = supervisor.run_dir / "runtime"

    for name in SERVICES:
        assert rpc.check_health(runtime, name), name

    status = supervisor.status()
    assert status["pid"] == proc.pid
    assert status["state"] == "running"
    assert status["urls"]["mqtt"].startswith("mqtt://127.0.0.1:")
    first = supervisor.children()
    assert [child["restarts"] for child in first.values()] == [0, 0, 0, 0]

    os.kill(first["updater"]["pid"], signal.SIGKILL)

    def restarted() -> bool:
        updater = supervisor.children()["updater"]
        return updater["restarts"] == 1 and updater["state"] == "running"

    wait_for(restarted, 10, "the updater to be restarted")
    again = supervisor.children()
    assert again["updater"]["pid"] != first["updater"]["pid"]
    assert again["updater"]["exit_code"] == -signal.SIGKILL
    assert rpc.check_health(runtime, "updater")
    assert [again[name]["pid"] for name in ("mosquitto", "inventory", "tunnel")] == [
        first[name]["pid"] for name in ("mosquitto", "inventory", "tunnel")
    ]
    assert "updater was killed by SIGKILL" in supervisor.text()

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=6) == 0, supervisor.text()

    pids = [child["pid"] for child in again.values()] + [first["updater"]["pid"]]
    assert [pid for pid in pids if alive(pid)] == []
    assert supervisor.status()["state"] == "stopped"
    assert {c["state"] for c in supervisor.children().values()} == {"stopped"}


@pytest.mark.timeout(30)
def test_ctrl_c_stops_the_services_before_the_broker(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, ["mosquitto", "inventory"])
    proc = sup.start()

    try:
        wait_for(sup.all_running, 15, "every child to be running")
        pids = [child["pid"] for child in sup.children().values()]

        # As a terminal does: to the supervisor's whole process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=6) == 0, sup.text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    text = sup.text()
    assert text.index("Stopping inventory") < text.index("Stopping mosquitto")
    assert "inventory exited with code 0" in text
    assert "mosquitto exited with code 0" in text
    assert [pid for pid in pids if alive(pid)] == []


@pytest.mark.timeout(15)
def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sup = Supervisor(tmp_path, ["mosquitto", "inventory"], mqtt_port=port)
        proc = sup.start()

        assert proc.wait(timeout=10) == 2

    text = sup.text()
    assert f"port {port} on 127.0.0.1 (MQTT broker) is already in use" in text
    assert "--mqtt-port" in text
    assert not sup.run_dir.exists()
