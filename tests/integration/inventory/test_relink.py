"""Reports queued under one link, when the system is unlinked and linked again."""

from __future__ import annotations

import requests

from services.common.bus import Bus
from tests.integration.inventory.conftest import Inventory, publish_tunnel
from tests.support.processes import Cloud, wait_for
from tests.support.stacks import ADMIN_EMAIL, ADMIN_PASSWORD, access_token


def queue_while_the_cloud_is_away(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> list[str]:
    """Reports queued for the current link, which is then dropped locally."""

    inventory.wait_reports(1)
    cloud.stop()
    publish_tunnel(tunnel_bus, "service-node-manager", "snm", "started")
    wait_for(lambda: len(inventory.queued()) == 1, 10, "a queued report")
    publish_tunnel(tunnel_bus, "service-node-manager", "snm", "failed")
    wait_for(lambda: len(inventory.queued()) == 2, 10, "two queued reports")

    # With the cloud away the unlink is local only: the cloud still lists
    # the system, as it does after any unlink it was not told of.
    inventory.unlink()
    wait_for(lambda: not inventory.status().linked, 10, "the unlink to be seen")
    cloud.start()
    return inventory.queued()


def snm_state(report: dict[str, object]) -> list[str]:
    tunnels = report["tunnels"]
    assert isinstance(tunnels, list)
    return [t["state"] for t in tunnels if t["name"] == "snm"]


def test_a_relink_to_another_account_sets_stale_reports_aside_and_reports_anew(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> None:
    before = inventory.link()
    queued = queue_while_the_cloud_is_away(inventory, cloud, tunnel_bus)

    after = inventory.link("admin@globex.example", "globex-admin-1")
    wait_for(lambda: inventory.superseded() == queued, 15, "stale reports aside")
    [report] = inventory.wait_reports(1)
    wait_for(lambda: inventory.queued() == [], 10, "the outbox to empty")

    assert after.system_id != before.system_id
    assert report["reason"] == "link"
    assert report["system"]["systemId"] == after.system_id
    assert snm_state(report) == ["failed"]
    assert len(inventory.history()) == 1
    assert "cld_inventory_superseded_reports 2.0" in inventory.metrics()
    assert 'cld_inventory_submissions_total{result="rejected"} 0.0' in (
        inventory.metrics()
    )


def test_a_relink_as_a_new_system_of_the_same_account_reports_anew(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> None:
    before = inventory.link()
    queued = queue_while_the_cloud_is_away(inventory, cloud, tunnel_bus)

    # An administrator removed the system in the cloud meanwhile, so the
    # next link registers it as a new system.
    token = access_token(cloud, ADMIN_EMAIL, ADMIN_PASSWORD)
    removed = requests.delete(
        f"{cloud.url}/2017-09-01/systems/{before.system_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert removed.status_code == 204

    after = inventory.link()
    wait_for(lambda: inventory.superseded() == queued, 15, "stale reports aside")
    [report] = inventory.wait_reports(1)

    assert after.system_id != before.system_id
    assert (report["reason"], report["system"]["systemId"]) == (
        "link",
        after.system_id,
    )
    assert snm_state(report) == ["failed"]


def test_a_relink_as_the_same_system_delivers_every_queued_report(
    inventory: Inventory, cloud: Cloud, tunnel_bus: Bus
) -> None:
    before = inventory.link()
    [first] = inventory.wait_reports(1)
    queued = queue_while_the_cloud_is_away(inventory, cloud, tunnel_bus)

    after = inventory.link()
    wait_for(lambda: inventory.queued() == [], 15, "the outbox to empty")

    assert after.system_id == before.system_id
    reports = inventory.history()
    assert [r["reportId"] for r in reports] == [first["reportId"], *queued]
    assert [snm_state(r) for r in reports[1:]] == [["started"], ["failed"]]
    assert inventory.superseded() == []
