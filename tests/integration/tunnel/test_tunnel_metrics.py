"""The tunnel metrics: promtool finds nothing, and a real Prometheus reads them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels, World
from tests.support.processes import ROOT, Process, free_port, wait_for


@pytest.fixture
def tunnels(live: Tunnels) -> Tunnels:
    return live


@pytest.fixture
def acme_token(world: World) -> str:
    return world.acme_token


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def scrape(tunnels: Tunnels) -> str:
    port = tunnels.service.env["CLD_TUNNEL_METRICS_PORT"]
    return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def test_promtool_finds_nothing_to_complain_about(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    requests.get(
        f"{tunnels.relay.public_url}/hello",
        headers={"Host": tunnels.host(), "Authorization": f"Bearer {acme_token}"},
        timeout=10,
    )
    text = scrape(tunnels)

    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True
    )

    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    assert check.stdout.decode().strip() == ""
    assert 'cld_tunnel_up{component="pbx",name="admin"} 1.0' in text
    assert (
        'cld_tunnel_requests_total{code="2xx",component="pbx",name="admin"} 1.0' in text
    )


def test_the_alert_rules_are_valid() -> None:
    rules = ROOT / "deploy" / "monitoring" / "tunnel-alerts.yml"

    check = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True
    )

    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).ok
    except requests.RequestException:
        return False


def query(port: int, expression: str) -> list[dict[str, object]]:
    reply = requests.get(
        f"http://127.0.0.1:{port}/api/v1/query",
        params={"query": expression},
        timeout=5,
    )
    reply.raise_for_status()
    return list(reply.json()["data"]["result"])


def test_prometheus_reads_the_tunnel_metrics_back(
    tmp_path: Path, tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    requests.get(
        f"{tunnels.relay.public_url}/bytes/5000",
        headers={"Host": tunnels.host(), "Authorization": f"Bearer {acme_token}"},
        timeout=10,
    )
    target = f"127.0.0.1:{tunnels.service.env['CLD_TUNNEL_METRICS_PORT']}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: tunnel\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    prometheus = Process(
        "prometheus",
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        ],
        {},
        tmp_path / "prometheus.log",
    )
    prometheus.start()

    try:
        wait_for(lambda: ready(port), 30, "prometheus to be ready")
        wait_for(
            lambda: bool(query(port, 'cld_tunnel_up{name="admin"} == 1')),
            30,
            "prometheus to scrape the tunnel metrics",
        )
        sent = query(port, 'cld_tunnel_bytes_out_total{name="admin"}')
        relay = query(port, "cld_tunnel_relay_connected")
    finally:
        prometheus.stop()

    assert float(sent[0]["value"][1]) > 5000  # type: ignore[index]
    assert relay[0]["value"][1] == "1"  # type: ignore[index]
