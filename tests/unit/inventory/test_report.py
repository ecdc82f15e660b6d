"""The inventory report, built from a fake host of every platform."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cloud.reports import problems
from services.inventory.report import TunnelStatus, encode, stronger
from tests.support.fakehosts import HOSTS, build_host, write
from tests.unit.inventory.reports import SYSTEM, report_for


@pytest.mark.parametrize("platform", sorted(HOSTS))
def test_every_platform_yields_a_valid_report(tmp_path: Path, platform: str) -> None:
    report = report_for(build_host(tmp_path, platform))

    assert problems(report) == []
    assert report["platform"]["id"] == platform
    assert report["platform"]["version"]
    assert report["components"]
    assert report["host"]["hostname"] == f"{platform}-lab"


def test_the_report_carries_the_host_facts(tmp_path: Path) -> None:
    report = report_for(build_host(tmp_path, "mx-one"), reason="daily")

    assert report["schemaVersion"] == 1
    assert report["reason"] == "daily"
    assert report["createdAt"] == "2025-03-04T05:06:07.890Z"
    assert report["system"] == {
        "systemId": SYSTEM.system_id,
        "accountId": SYSTEM.account_id,
    }
    assert report["daemon"] == {
        "version": "1.2.3",
        "buildNumber": "45",
        "commit": "abc1234",
        "branch": "main",
        "stage": "development",
    }
    host = report["host"]
    assert host["os"] == "Fake Linux 1.0"
    assert host["kernel"] == "6.1.0-fake"
    assert host["cpu"] == {"model": "Fake CPU", "count": 1}
    assert host["memoryBytes"] == 4048576 * 1024
    assert host["disk"]["totalBytes"] > 0
    assert host["addresses"] == ["10.20.30.40", "2001:db8::42"]
    assert host["uptimeSeconds"] == 12345.67
    assert host["timeZone"] == "Europe/Stockholm"
    assert host["clockSynchronized"] is True
    assert report["platform"]["language"] == "de"
    assert [(c["id"], c["version"]) for c in report["components"]] == [
        ("service-node", "7.6.1.0.12"),
        ("service-node-manager", None),
        ("provisioning-manager", None),
        ("media-server", "7.6.1"),
    ]


def test_the_proxy_is_reported_without_its_credentials(tmp_path: Path) -> None:
    host = build_host(tmp_path, "osv")
    write(host, "etc/sysconfig/proxy", 'HTTPS_PROXY="http://bob:s3cret@px.lab:3128"\n')

    report = report_for(host)

    assert report["platform"]["proxy"] == "http://px.lab:3128"
    assert "s3cret" not in encode(report).decode()


def test_tunnel_states_come_from_the_tunnel_service(tmp_path: Path) -> None:
    host = build_host(tmp_path, "micollab")
    states = {
        ("server-manager", "server-manager"): TunnelStatus("started"),
        ("usp", "usp"): TunnelStatus("failed", "connection refused"),
        ("nupoint", "nupoint-admin"): TunnelStatus("stopped"),
    }

    report = report_for(host, tunnels=states)

    assert [
        (t["component"], t["name"], t["state"], t["reason"]) for t in report["tunnels"]
    ] == [
        ("server-manager", "server-manager", "started", ""),
        ("usp", "usp", "failed", "connection refused"),
        ("nupoint", "nupoint-admin", "stopped", ""),
    ]
    assert report["tunnels"][0]["localAddress"] == "https://127.0.0.1:443"
    assert problems(report) == []


def test_a_tunnel_not_yet_announced_is_unknown(tmp_path: Path) -> None:
    report = report_for(build_host(tmp_path, "msl"))

    assert [t["state"] for t in report["tunnels"]] == ["unknown"]


def test_a_child_platform_names_its_parent_but_reports_itself(tmp_path: Path) -> None:
    report = report_for(build_host(tmp_path, "smbc"))

    assert report["platform"]["id"] == "smbc"
    assert report["platform"]["parent"] == "msl"
    assert report["platform"]["notes"] == ["child_only", "two_daemons"]


def test_a_gateway_beside_the_daemon_is_reported(tmp_path: Path) -> None:
    without = report_for(build_host(tmp_path / "a", "mivb"))
    with_gateway = report_for(build_host(tmp_path / "b", "mivb", gateway=True))

    assert without["gateway"] == {
        "installed": False,
        "version": None,
        "statusUrl": None,
    }
    assert with_gateway["gateway"] == {
        "installed": True,
        "version": "2.4.1",
        "statusUrl": "http://127.0.0.1:8020/status",
    }


def test_encoding_is_compact_sorted_and_exact(tmp_path: Path) -> None:
    report = report_for(build_host(tmp_path, "osbiz"))

    data = encode(report)

    assert json.loads(data) == report
    assert data == encode(copy.deepcopy(report))
    assert data.startswith(b'{"components":')
    assert b": " not in data


def test_an_unknown_reason_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report reason 'whim'"):
        report_for(build_host(tmp_path, "msl"), reason="whim")


def test_the_schema_names_what_is_wrong(tmp_path: Path) -> None:
    report = report_for(build_host(tmp_path, "msl"))
    report["host"]["addresses"] = ["not-an-address"]
    report["tunnels"][0]["state"] = "sleepy"
    del report["gateway"]

    found = problems(report)

    assert any(p.startswith("(the report): 'gateway' is a required") for p in found)
    assert any(p.startswith("host/addresses/0:") for p in found)
    assert any(p.startswith("tunnels/0/state:") for p in found)


def test_the_weightier_reason_names_a_merged_report() -> None:
    assert stronger("change", "link") == "link"
    assert stronger("manual", "restart") == "manual"
    assert stronger("daily", None) == "daily"
    assert stronger("change", "change") == "change"
