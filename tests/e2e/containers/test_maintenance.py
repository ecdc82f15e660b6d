"""The maintenance tool on two real podman API services standing in for servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.containers.conftest import VERSION
from tests.e2e.containers.podman import ApiService
from tests.support.processes import ROOT, Cloud, free_port, port_open

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PASSWORD = "acme-admin-1"


def servers_file(
    folder: Path, archive: Path, cloud: Cloud, servers: dict[str, ApiService]
) -> tuple[Path, dict[str, int]]:
    """A configuration for ``servers``, each on ports of its own."""

    host_root = folder / "host"
    host_root.mkdir(parents=True)
    lines = [
        "[daemon]",
        f'version = "{VERSION}"',
        f'images_archive = "{archive}"',
        "[daemon.env]",
        f'CLD_CLOUD_URL = "{cloud.url}"',
        'CLD_UI_SECURE_COOKIES = "false"',
        f'CLD_TUNNEL_RELAY = "127.0.0.1:{free_port()}"',
    ]
    ui_ports: dict[str, int] = {}

    for name, service in servers.items():
        ui_ports[name] = free_port()
        lines += [
            "[[server]]",
            f'name = "{name}"',
            f'url = "{service.url}"',
            f'host_root = "{host_root}"',
            "[server.env]",
            f'CLD_MQTT_PORT = "{free_port()}"',
            f'CLD_UI_BIND = "127.0.0.1:{ui_ports[name]}"',
            *(
                f'CLD_{s.upper()}_METRICS_PORT = "{free_port()}"'
                for s in ("registration", "inventory", "updater", "tunnel", "ui")
            ),
        ]

    path = folder / "servers.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, ui_ports


def tool(config: Path, *args: str, stdin: str = "") -> tuple[int, Any, str]:
    """Runs ``python -m maintenance --json ARGS``; exit code, JSON, stderr."""

    done = subprocess.run(
        [sys.executable, "-m", "maintenance", "--config", str(config), "--json", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    document = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, document, done.stderr


def by_server(document: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["server"]: entry for entry in document}


def dashboard_answers(port: int) -> bool:
    try:
        page = requests.get(f"http://127.0.0.1:{port}/cld/", timeout=5)
    except requests.RequestException:
        return False

    return page.ok and "Log in" in page.text


def test_install_disable_enable_and_uninstall_two_servers(
    tmp_path: Path,
    cloud: Cloud,
    images_archive: Path,
    alpha: ApiService,
    beta: ApiService,
) -> None:
    config, ui_ports = servers_file(
        tmp_path, images_archive, cloud, {"alpha": alpha, "beta": beta}
    )

    # Install: images loaded, containers started, each server linked.
    code, installed, progress = tool(
        config,
        "install",
        "--username",
        "admin@acme.example",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, progress
    assert all(o["ok"] and o["linked"] for o in installed), installed
    assert "loading images" in progress
    assert PASSWORD not in progress

    for port in ui_ports.values():
        assert dashboard_answers(port)

    # Enabling what is enabled changes nothing.
    code, again, _ = tool(config, "enable", "--all")
    assert code == 0
    assert all(step.endswith("kept") for o in again for step in o["done"])

    # Disabling beta deletes its containers; alpha keeps running and linked.
    code, _, _ = tool(config, "disable", "beta")
    assert code == 0
    assert beta.store.names("container") == []
    assert not port_open(ui_ports["beta"])

    code, status, _ = tool(config, "status")
    servers = by_server(status)
    assert servers["alpha"]["enabled"]
    assert servers["alpha"]["link"]["linked"]
    assert {c["health"] for c in servers["alpha"]["containers"]} == {"healthy"}
    assert servers["alpha"]["version"] == VERSION
    assert not servers["beta"]["enabled"]
    assert servers["beta"]["containers"] == []

    # Enabling beta again finds its link in its volume.
    code, _, _ = tool(config, "enable", "beta")
    assert code == 0
    code, status, _ = tool(config, "status", "beta")
    assert by_server(status)["beta"]["link"]["linked"]
    assert dashboard_answers(ui_ports["beta"])

    # Neither the tool nor a service wrote the password anywhere.
    logs = beta.store.podman("logs", "cld-registration")
    assert PASSWORD not in logs

    # Uninstall leaves no container, volume, network or daemon image behind.
    code, removed, _ = tool(config, "uninstall", "--yes")
    assert code == 0, removed
    assert all(o["ok"] for o in removed)

    for server in (alpha, beta):
        assert server.store.names("container") == []
        assert server.store.names("volume") == []
        assert server.store.names("network") == ["podman"]
        assert not [i for i in server.store.images() if "/cld-" in i]


def test_a_server_that_cannot_be_reached_is_reported_and_the_other_done(
    tmp_path: Path,
    cloud: Cloud,
    images_archive: Path,
    alpha: ApiService,
) -> None:
    gone = ApiService.__new__(ApiService)
    gone.url = f"unix://{tmp_path / 'nobody.sock'}"
    config, ui_ports = servers_file(
        tmp_path, images_archive, cloud, {"alpha": alpha, "gone": gone}
    )

    code, outcomes, _ = tool(config, "enable", "--all")
    assert code == 1
    results = by_server(outcomes)
    assert results["alpha"]["ok"]
    assert not results["gone"]["ok"]
    assert results["gone"]["error"]
    assert dashboard_answers(ui_ports["alpha"])

    code, _, _ = tool(config, "uninstall", "--yes")
    assert alpha.store.names("container") == []
