"""Every service starts, serves health, announces itself and stops on SIGTERM."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
import pytest
import requests

from services.common import rpc, topics
from services.common.bus import Bus, wait_until
from tests.integration.common.test_bus import Inbox
from tests.support.processes import Broker, Process, Service, daemon_env

GRPC_SERVICES = ["registration", "inventory", "updater", "tunnel"]


@pytest.mark.parametrize("name", GRPC_SERVICES)
def test_a_service_serves_health_announces_itself_and_stops_fast(
    name: str, tmp_path: Path, mosquitto: Broker
) -> None:
    env = daemon_env(tmp_path, mosquitto.port, "http://127.0.0.1:9")
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe(topics.status(name), inbox)
    watcher.start()
    service = Service(name, env, tmp_path)
    service.start()

    try:
        assert wait_until(
            lambda: (inbox.last(topics.status(name)) or {}).get("state") == "online",
            5,
        )
        port = env[f"CLD_{name.upper()}_METRICS_PORT"]
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert "cld_bus_connected 1.0" in metrics

        service.stop()
        assert service.proc is not None
        assert service.proc.returncode == 0
        assert not rpc.socket_path(Path(env["CLD_RUNTIME_DIR"]), name).exists()
        assert wait_until(
            lambda: (inbox.last(topics.status(name)) or {}).get("state") == "offline",
            5,
        )
    finally:
        service.kill()
        watcher.stop()


def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "CLD_MQTT_PORT": "not-a-port"}
    argv = [sys.executable, "-m", "services.inventory"]
    process = Process("inventory", argv, env, tmp_path / "log")
    process.start()
    assert process.proc is not None

    assert process.proc.wait(10) == 2
    assert "CLD_MQTT_PORT" in process.output()


def test_a_service_starts_while_the_broker_is_down(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")
    env = daemon_env(tmp_path, broker.port, "http://127.0.0.1:9")
    service = Service("updater", env, tmp_path)
    service.start()

    try:
        broker.start()
        inbox = Inbox()
        watcher = Bus("ui", "127.0.0.1", broker.port)
        watcher.subscribe(topics.status("updater"), inbox)
        watcher.start()
        assert wait_until(
            lambda: (
                (inbox.last(topics.status("updater")) or {}).get("state") == "online"
            ),
            15,
        )
        watcher.stop()
    finally:
        service.stop()
        broker.stop()


def test_a_malformed_request_is_refused_and_the_server_keeps_serving(
    tmp_path: Path, mosquitto: Broker
) -> None:
    env = daemon_env(tmp_path, mosquitto.port, "http://127.0.0.1:9")
    service = Service("registration", env, tmp_path)
    service.start()

    try:
        with rpc.channel(service.runtime_dir, "registration") as channel:
            call = channel.unary_unary(
                "/cld.v1.Registration/LinkWithPassword",
                request_serializer=None,
                response_deserializer=None,
            )

            with pytest.raises(grpc.RpcError) as error:
                call(b"\xff\xff\xff\x0fnot a protobuf", timeout=5)

        assert error.value.code() in {
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.INVALID_ARGUMENT,
        }
        assert service.healthy()
    finally:
        service.stop()
