"""Real processes for tests: the broker, the cloud emulator, the services."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from services.common import rpc

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = "/usr/sbin/mosquitto"


# Below the kernel's ephemeral range (32768 and up): ports picked there can
# be taken by any outgoing connection between the pick and the listen.
_PORTS = range(20000, 32000)


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""

    for _ in range(100):
        port = random.choice(_PORTS)

        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue

        return port

    raise AssertionError("found no free port")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls ``check`` until it is true; fails the test after ``timeout``."""

    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        if check():
            return

        time.sleep(0.05)

    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on loopback ``port``."""

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Process:
    """A child process with its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts the process, appending its output to the log."""

        self.log.parent.mkdir(parents=True, exist_ok=True)

        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        """The running process's id."""

        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = 5.0) -> float:
        """SIGTERM, wait; returns the seconds it took (kills after timeout)."""

        if self.proc is None or self.proc.poll() is not None:
            return 0.0

        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)

        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL, as a crash would."""

        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self) -> str:
        """Everything the process wrote so far."""

        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Broker(Process):
    """A real Mosquitto on a loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        conf = workdir / "mosquitto.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            "persistence false\nlog_dest stdout\n"
        )
        super().__init__(
            "mosquitto", [MOSQUITTO, "-c", str(conf)], dict(os.environ), workdir / "log"
        )

    def start(self) -> None:
        super().start()
        wait_for(lambda: port_open(self.port), 10, "mosquitto to listen")


class Cloud(Process):
    """The CloudLink emulator as a real server."""

    def __init__(self, workdir: Path, token_ttl: int = 3600) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CLD_CLOUD_BIND": f"127.0.0.1:{self.port}",
            "CLD_CLOUD_PUBLIC_URL": self.url,
            "CLD_CLOUD_STATE_DIR": str(workdir / "state"),
            "CLD_CLOUD_TOKEN_TTL": str(token_ttl),
        }
        argv = [sys.executable, "-m", "cloud"]
        super().__init__("cloud", argv, env, workdir / "log")

    def start(self) -> None:
        super().start()
        wait_for(self.healthy, 20, "the cloud emulator to answer")

    def healthy(self) -> bool:
        """True when the emulator answers its health check."""

        try:
            return requests.get(f"{self.url}/health", timeout=1).ok
        except requests.RequestException:
            return False


def daemon_env(workdir: Path, mqtt_port: int, cloud_url: str) -> dict[str, str]:
    """Environment for the daemon's services in a test's own folders."""

    return {
        **os.environ,
        "CLD_STATE_DIR": str(workdir / "state"),
        "CLD_RUNTIME_DIR": str(workdir / "run"),
        "CLD_MQTT_PORT": str(mqtt_port),
        "CLD_CLOUD_URL": cloud_url,
        "CLD_CLOUD_TIMEOUT": "3",
        "CLD_UI_SECURE_COOKIES": "false",
        "CLD_REGISTRATION_METRICS_PORT": str(free_port()),
        "CLD_INVENTORY_METRICS_PORT": str(free_port()),
        "CLD_UPDATER_METRICS_PORT": str(free_port()),
        "CLD_TUNNEL_METRICS_PORT": str(free_port()),
        "CLD_UI_METRICS_PORT": str(free_port()),
    }


class Service(Process):
    """One of the daemon's services, run as ``python -m services.NAME``."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        argv = [sys.executable, "-m", f"services.{name}"]
        super().__init__(name, argv, env, workdir / "logs" / f"{name}.log")
        self.runtime_dir = Path(env["CLD_RUNTIME_DIR"])

    def start(self) -> None:
        super().start()
        wait_for(self.healthy, 20, f"{self.name} to serve health")

    def healthy(self) -> bool:
        """True when the service answers its gRPC health check."""

        assert self.proc is not None

        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.output()[-3000:]}")

        return rpc.check_health(self.runtime_dir, self.name, timeout=0.5)

    def channel(self) -> object:
        """A gRPC channel to the service."""

        return rpc.channel(self.runtime_dir, self.name)


class Relay(Process):
    """The tunnel relay (``python -m cloud.relay``) with its own certificate."""

    def __init__(self, workdir: Path, cloud_url: str, heartbeat: float = 1.0) -> None:
        self.daemon_port = free_port()
        self.public_port = free_port()
        self.metrics_port = free_port()
        self.state_dir = workdir / "state"
        env = {
            **os.environ,
            "CLD_RELAY_DAEMON_BIND": f"127.0.0.1:{self.daemon_port}",
            "CLD_RELAY_PUBLIC_BIND": f"127.0.0.1:{self.public_port}",
            "CLD_RELAY_METRICS_BIND": f"127.0.0.1:{self.metrics_port}",
            "CLD_RELAY_CLOUD_URL": cloud_url,
            "CLD_RELAY_STATE_DIR": str(self.state_dir),
            "CLD_RELAY_HEARTBEAT": str(heartbeat),
            "CLD_RELAY_IDLE_TIMEOUT": str(heartbeat * 4),
        }
        argv = [sys.executable, "-m", "cloud.relay"]
        super().__init__("relay", argv, env, workdir / "log")

    @property
    def ca_file(self) -> Path:
        """The relay's self-signed certificate, for daemons to trust."""

        return self.state_dir / "relay-cert.pem"

    @property
    def public_url(self) -> str:
        """Where visitors' requests go (the Host header picks the tunnel)."""

        return f"http://127.0.0.1:{self.public_port}"

    def host(self, label: str) -> str:
        """The public Host header of the tunnel whose label is ``label``."""

        return f"{label}.eu.relay.localhost:{self.public_port}"

    @property
    def url_template(self) -> str:
        """Its tunnels' public URLs, ``{label}`` standing for a tunnel's label."""

        return f"http://{{label}}.eu.relay.localhost:{self.public_port}"

    def start(self) -> None:
        super().start()
        wait_for(
            lambda: port_open(self.daemon_port) and port_open(self.public_port),
            20,
            "the relay to listen",
        )
