"""The plan: which children run, in which order, with which settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor import cli
from supervisor.plan import (
    CHILDREN,
    ChildSpec,
    Options,
    build,
    clashes,
    listeners,
    urls,
)
from supervisor.probes import GrpcProbe, HttpProbe, TcpProbe

RUN = Path("/srv/run")
SOURCE = Path("/src")


def plan(options: Options) -> dict[str, ChildSpec]:
    specs = build(options, python="/py", mosquitto="/mq", source_dir=SOURCE)
    return {spec.name: spec for spec in specs}


def test_the_broker_starts_first_then_the_cloud_then_the_services() -> None:
    specs = build(
        Options(run_dir=RUN), python="/py", mosquitto="/mq", source_dir=SOURCE
    )

    assert [spec.name for spec in specs] == list(CHILDREN)
    assert [spec.stage for spec in specs] == [0, 1, 1, 2, 2, 2, 2, 2]
    assert specs[0].argv == ("/mq", "-c", "/srv/run/mosquitto/mosquitto.conf")
    assert specs[0].probe == TcpProbe("127.0.0.1", 1883)
    assert specs[2].argv == ("/py", "-m", "cloud.relay")
    assert specs[3].argv == ("/py", "-m", "services.registration")
    assert [spec.log_file for spec in specs] == [
        RUN / "logs" / f"{name}.log" for name in CHILDREN
    ]


def test_the_relay_gets_its_ports_the_cloud_and_its_state_folder() -> None:
    relay = plan(Options(run_dir=RUN, host="127.0.0.5", cloud_port=7001))["relay"]

    assert relay.env == {
        "PYTHONUNBUFFERED": "1",
        "CLD_RELAY_DAEMON_BIND": "127.0.0.5:8801",
        "CLD_RELAY_PUBLIC_BIND": "127.0.0.5:8802",
        "CLD_RELAY_CLOUD_URL": "http://127.0.0.5:7001",
        "CLD_RELAY_STATE_DIR": "/srv/run/relay",
        "CLD_RELAY_METRICS_BIND": "127.0.0.5:9466",
    }
    assert relay.probe == TcpProbe("127.0.0.5", 8801)


def test_the_cloud_gets_its_address_public_url_and_state_folder() -> None:
    cloud = plan(Options(run_dir=RUN, host="127.0.0.5", cloud_port=7001))["cloud"]

    assert cloud.argv == ("/py", "-m", "cloud")
    assert cloud.env == {
        "PYTHONUNBUFFERED": "1",
        "CLD_CLOUD_BIND": "127.0.0.5:7001",
        "CLD_CLOUD_PUBLIC_URL": "http://127.0.0.5:7001",
        "CLD_CLOUD_STATE_DIR": "/srv/run/cloud",
        "CLD_CLOUD_RELAY_URL": "http://{label}.eu.relay.localhost:8802",
    }
    assert cloud.probe == HttpProbe("http://127.0.0.5:7001/health")


def test_the_services_use_the_run_folder_the_broker_and_the_cloud() -> None:
    options = Options(run_dir=RUN, host="127.0.0.5", cloud_port=7001, mqtt_port=7002)
    tunnel = plan(options)["tunnel"]

    assert tunnel.cwd == SOURCE
    assert tunnel.follows_release
    assert tunnel.probe == GrpcProbe(RUN / "runtime", "tunnel")
    assert tunnel.env == {
        "PYTHONUNBUFFERED": "1",
        "CLD_STATE_DIR": "/srv/run/state",
        "CLD_UPDATER_EXTRA_KEYS_FILE": str(SOURCE / ".run/release/release-keys.json"),
        "CLD_RUNTIME_DIR": "/srv/run/runtime",
        "CLD_MQTT_HOST": "127.0.0.1",
        "CLD_MQTT_PORT": "7002",
        "CLD_CLOUD_URL": "http://127.0.0.5:7001",
        "CLD_METRICS_HOST": "127.0.0.5",
        "CLD_TUNNEL_RELAY": "127.0.0.5:8801",
        "CLD_TUNNEL_RELAY_CA_FILE": "/srv/run/relay/relay-cert.pem",
        "CLD_REGISTRATION_METRICS_PORT": "9461",
        "CLD_INVENTORY_METRICS_PORT": "9462",
        "CLD_UPDATER_METRICS_PORT": "9463",
        "CLD_TUNNEL_METRICS_PORT": "9464",
        "CLD_UI_METRICS_PORT": "9465",
    }


def test_the_dashboard_is_plain_http_on_the_ui_port() -> None:
    ui = plan(Options(run_dir=RUN, ui_port=7000))["ui"]

    assert ui.env["CLD_UI_BIND"] == "127.0.0.1:7000"
    assert ui.env["CLD_UI_SECURE_COOKIES"] == "false"
    assert ui.env["CLD_UI_USERS_FILE"] == "/srv/run/state/ui/users.json"
    assert ui.probe == HttpProbe("http://127.0.0.1:7000/cld/healthz")


def test_a_metrics_base_of_zero_turns_metrics_off() -> None:
    options = Options(run_dir=RUN, metrics_port_base=0)

    assert plan(options)["inventory"].env["CLD_INVENTORY_METRICS_PORT"] == "0"
    assert [listener.option for listener in listeners(options)] == [
        "--mqtt-port",
        "--cloud-port",
        "--relay-port",
        "--relay-public-port",
        "--ui-port",
    ]
    assert not [key for key in urls(options) if key.endswith("_metrics")]


def test_only_starts_the_subset_and_lists_only_its_ports_and_urls() -> None:
    options = Options(run_dir=RUN, only=("mosquitto", "inventory"))

    assert list(plan(options)) == ["mosquitto", "inventory"]
    assert [(x.option, x.port) for x in listeners(options)] == [
        ("--mqtt-port", 1883),
        ("--metrics-port-base", 9462),
    ]
    assert urls(options) == {
        "mqtt": "mqtt://127.0.0.1:1883",
        "inventory_metrics": "http://127.0.0.1:9462/metrics",
    }


def test_all_urls_are_listed() -> None:
    assert urls(Options(run_dir=RUN, host="::1")) == {
        "mqtt": "mqtt://127.0.0.1:1883",
        "cloud": "http://[::1]:8800",
        "cloud_admin": "http://[::1]:8800/admin",
        "relay": "http://<tunnel>.eu.relay.localhost:8802",
        "dashboard": "http://[::1]:8080/cld/",
        "registration_metrics": "http://[::1]:9461/metrics",
        "inventory_metrics": "http://[::1]:9462/metrics",
        "updater_metrics": "http://[::1]:9463/metrics",
        "tunnel_metrics": "http://[::1]:9464/metrics",
        "ui_metrics": "http://[::1]:9465/metrics",
        "relay_metrics": "http://[::1]:9466/metrics",
    }


def test_two_options_on_one_port_are_named() -> None:
    options = Options(run_dir=RUN, ui_port=9463)

    assert clashes(listeners(options)) == [
        "port 9463 is chosen for both the dashboard (--ui-port) and the "
        "updater metrics, base+2 (--metrics-port-base)"
    ]


def test_the_command_line_defaults() -> None:
    options = cli.parse_options([])

    assert options == Options(run_dir=Path.cwd() / ".run")


def test_only_is_read_in_start_order() -> None:
    options = cli.parse_options(["--only", "tunnel,mosquitto", "--run-dir", "x"])

    assert options.only == ("mosquitto", "tunnel")
    assert options.run_dir == Path.cwd() / "x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "mosquitto,printer"], "unknown printer"),
        (["--only", ","], "names no child"),
        (["--ui-port", "0"], "not a port number from 1 to 65535"),
        (["--metrics-port-base", "65534"], "exceeds 65535"),
    ],
)
def test_bad_options_are_refused_with_a_reason(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_options(args)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err
