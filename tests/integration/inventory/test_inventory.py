"""Reports reach the real emulator: triggers, bursts, outages, restarts."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import grpc
import pytest
from cld.v1 import inventory_pb2 as pb

from services.common.bus import Bus
from tests.integration.common.test_bus import Inbox
from tests.integration.inventory.conftest import Inventory, publish_tunnel
from tests.support.fakehosts import write
from tests.support.processes import Broker, Cloud, Process, wait_for


def test_linking_sends_a_report_the_cloud_stores(
    inventory: Inventory, mosquitto: Broker
) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe("cld/inventory/#", inbox)
    watcher.start()

    link = inventory.link()

    [report] = inventory.wait_reports(1)

    assert report["reason"] == "link"
    assert report["system"]["systemId"] == link.system_id
    assert report["platform"]["id"] == "mx-one"
    assert [c["id"] for c in report["components"]] == [
        "service-node",
        "service-node-manager",
        "provisioning-manager",
        "media-server",
    ]
    wait_for(lambda: inventory.status().last_submission.seconds > 0, 5, "status")
    status = inventory.status()
    assert status.linked
    assert status.next_submission.seconds > status.last_submission.seconds
    assert status.outbox_depth == 0
    assert status.platform_name == "MiVoice MX-ONE"
    assert 'cld_inventory_submissions_total{result="delivered"} 1.0' in (
        inventory.metrics()
    )
    wait_for(lambda: inbox.last("cld/inventory/submission") is not None, 5, "bus")
    platform = inbox.last("cld/inventory/platform") or {}
    assert (platform["id"], platform["language"]) == ("mx-one", "de")
    assert (inbox.last("cld/inventory/gateway") or {})["installed"] is False
    watcher.stop()


def test_a_burst_of_tunnel_changes_is_one_report(
    inventory: Inventory, tunnel_bus: Bus
) -> None:
    inventory.link()
    inventory.wait_reports(1)

    for state in ("starting", "started", "failed", "starting", "started"):
        publish_tunnel(tunnel_bus, "service-node-manager", "snm", state)
    publish_tunnel(tunnel_bus, "provisioning-manager", "pm", "started")

    reports = inventory.wait_reports(2)
    inventory.stub().SubmitReport(pb.SubmitReportRequest(), timeout=10)
    reports = inventory.wait_reports(3)

    assert [r["reason"] for r in reports] == ["link", "change", "manual"]
    assert {(t["name"], t["state"]) for t in reports[1]["tunnels"]} == {
        ("snm", "started"),
        ("pm", "started"),
    }


def test_a_component_appearing_and_disappearing_is_reported(
    inventory: Inventory, host: Path
) -> None:
    inventory.link()
    inventory.wait_reports(1)

    write(host, "opt/cloudlink-gateway/VERSION", "2.4.1\n")
    write(host, "opt/mxone_snm/README", "")
    reports = inventory.wait_reports(2)

    assert reports[1]["reason"] == "change"
    assert reports[1]["gateway"]["installed"] is True
    gateway = inventory.stub().GetGateway(pb.GetGatewayRequest(), timeout=5)
    assert gateway.installed
    assert gateway.version == "2.4.1"

    shutil.rmtree(host / "opt/mxone_pm")
    reports = inventory.wait_reports(3)

    assert reports[2]["reason"] == "change"
    assert "provisioning-manager" not in [c["id"] for c in reports[2]["components"]]
    assert [r["reason"] for r in inventory.wait_reports(3)] == [
        "link",
        "change",
        "change",
    ]


def test_preview_shows_the_bytes_a_report_carries(inventory: Inventory) -> None:
    with pytest.raises(grpc.RpcError) as unlinked:
        inventory.stub().PreviewReport(pb.PreviewReportRequest(), timeout=5)
    assert unlinked.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    inventory.link()
    wait_for(lambda: inventory.status().linked, 5, "the link to be seen")
    preview = inventory.stub().PreviewReport(pb.PreviewReportRequest(), timeout=5)
    shown = json.loads(preview.report_json)

    assert shown["reason"] == "manual"
    assert (
        preview.report_json
        == json.dumps(
            shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    assert shown["platform"]["name"] == "MiVoice MX-ONE"


def test_reports_wait_out_a_cloud_outage_and_arrive_once(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> None:
    inventory.link()
    inventory.wait_reports(1)
    cloud.stop()

    publish_tunnel(tunnel_bus, "service-node-manager", "snm", "started")
    wait_for(lambda: len(inventory.queued()) == 1, 10, "a queued report")
    publish_tunnel(tunnel_bus, "service-node-manager", "snm", "stopped")
    wait_for(lambda: len(inventory.queued()) == 2, 10, "two queued reports")
    queued = inventory.queued()
    wait_for(lambda: "failed" in inventory.metrics(), 5, "failed attempts")
    assert inventory.status().last_error

    cloud.start()
    wait_for(lambda: inventory.queued() == [], 15, "the outbox to empty")

    reports = inventory.history()
    ids = [r["reportId"] for r in reports]
    assert ids[1:] == queued
    assert len(set(ids)) == len(ids) == 3
    assert [t["state"] for t in reports[2]["tunnels"] if t["name"] == "snm"] == [
        "stopped"
    ]
    assert inventory.status().last_error == ""


def test_a_queued_report_survives_a_restart(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> None:
    inventory.link()
    inventory.wait_reports(1)
    cloud.stop()
    publish_tunnel(tunnel_bus, "provisioning-manager", "pm", "started")
    wait_for(lambda: len(inventory.queued()) == 1, 10, "a queued report")
    queued = inventory.queued()

    inventory.stop()
    cloud.start()
    inventory.start()

    reports = inventory.wait_reports(3)
    assert [r["reportId"] for r in reports][1] == queued[0]
    assert [r["reason"] for r in reports] == ["link", "change", "restart"]
    assert inventory.queued() == []


def test_an_unlinked_system_sends_nothing_and_loses_nothing(
    inventory: Inventory, tunnel_bus: Bus
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        inventory.stub().SubmitReport(pb.SubmitReportRequest(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "not linked" in (refused.value.details() or "")

    publish_tunnel(tunnel_bus, "service-node-manager", "snm", "failed")
    status = inventory.status()
    assert not status.linked
    assert not status.HasField("next_submission")
    assert inventory.queued() == []

    inventory.link()
    [report] = inventory.wait_reports(1)

    assert report["reason"] == "link"
    assert [t["state"] for t in report["tunnels"] if t["name"] == "snm"] == ["failed"]


def test_an_invalid_profile_stops_start_up_naming_file_and_field(
    tmp_path: Path, inventory_env: dict[str, str]
) -> None:
    platforms = tmp_path / "platforms"
    shutil.copytree(Path(__file__).resolve().parents[3] / "platforms", platforms)
    bad = platforms / "msl.toml"
    bad.write_text(bad.read_text().replace("https://127.0.0.1:443", "https://10.1.1.1"))
    env = {**inventory_env, "CLD_PLATFORMS_DIR": str(platforms)}
    process = Process(
        "inventory",
        [sys.executable, "-m", "services.inventory"],
        env,
        tmp_path / "bad.log",
    )

    process.start()
    assert process.proc is not None
    assert process.proc.wait(20) == 2

    output = process.output()
    assert f"{bad}: components[0].tunnels[0].local_address" in output
    assert "not a loopback address" in output


def test_submit_after_preview_sends_the_previewed_bytes(inventory: Inventory) -> None:
    inventory.link()
    wait_for(lambda: inventory.status().linked, 5, "the link to be seen")
    before = len(inventory.wait_reports(1))

    preview = inventory.stub().PreviewReport(pb.PreviewReportRequest(), timeout=5)
    inventory.stub().SubmitReport(pb.SubmitReportRequest(), timeout=10)

    stored = inventory.wait_reports(before + 1)[-1]
    assert stored == json.loads(preview.report_json)

    # Used once: the next submission is built afresh.
    inventory.stub().SubmitReport(pb.SubmitReportRequest(), timeout=10)
    fresh = inventory.wait_reports(before + 2)[-1]
    assert fresh["reportId"] != stored["reportId"]
