"""Fixtures that build the real parts: broker, cloud emulator, services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Broker, Cloud, Service, daemon_env


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A real Mosquitto broker on a free loopback port."""

    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    """The CloudLink emulator, serving real HTTP on a free port."""

    server = Cloud(tmp_path / "cloud")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path: Path, mosquitto: Broker, cloud: Cloud) -> dict[str, str]:
    """Environment for the daemon's services, in this test's folders."""

    return daemon_env(tmp_path / "daemon", mosquitto.port, cloud.url)


@pytest.fixture
def registration(tmp_path: Path, env: dict[str, str]) -> Iterator[Service]:
    """The real registration service, healthy on its Unix socket."""

    service = Service("registration", env, tmp_path / "daemon")
    service.start()
    yield service
    service.stop()
