"""The inventory service on a fake host, beside the real registration and cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cld.v1 import inventory_pb2 as pb
from cld.v1 import inventory_pb2_grpc as pb_grpc
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from services.common.bus import Bus
from tests.support.fakehosts import build_host
from tests.support.processes import Broker, Cloud, Service, wait_for

TUNNEL = "cld/tunnel/tunnels/{}/{}"


def publish_tunnel(bus: Bus, component: str, name: str, state: str) -> None:
    """Retains a tunnel's state as the tunnel service would."""

    bus.publish_state(
        TUNNEL.format(component, name),
        {"component": component, "name": name, "state": state, "reason": ""},
    )


class Inventory(Service):
    """The inventory service, with what tests ask of it and of the cloud."""

    def __init__(self, env: dict[str, str], workdir: Path, cloud: Cloud) -> None:
        super().__init__("inventory", env, workdir)
        self.cloud = cloud
        self.host_root = Path(env["CLD_HOST_ROOT"])
        self.outbox = Path(env["CLD_STATE_DIR"]) / "inventory" / "outbox"

    def stub(self) -> pb_grpc.InventoryStub:
        return pb_grpc.InventoryStub(rpc.channel(self.runtime_dir, "inventory"))

    def status(self) -> pb.SubmissionStatus:
        return self.stub().GetSubmissionStatus(
            pb.GetSubmissionStatusRequest(), timeout=5
        )

    def queued(self) -> list[str]:
        """Report ids waiting in the outbox, oldest first."""

        return _report_ids(self.outbox)

    def superseded(self) -> list[str]:
        """Report ids kept aside because the system was linked anew."""

        return _report_ids(self.outbox / "superseded")

    def link(
        self, username: str = "admin@acme.example", password: str = "acme-admin-1"
    ) -> reg_pb.Link:
        return self._registration().LinkWithPassword(
            reg_pb.LinkWithPasswordRequest(username=username, password=password),
            timeout=10,
        )

    def unlink(self) -> reg_pb.Link:
        return self._registration().Unlink(reg_pb.UnlinkRequest(), timeout=30)

    def history(self) -> list[dict[str, Any]]:
        """The reports the cloud stored for this system, oldest first."""

        token = self._registration().GetAccessToken(
            reg_pb.GetAccessTokenRequest(), timeout=5
        )
        answer = requests.get(
            f"{self.cloud.url}/2017-09-01/systems/{token.system_id}/reports",
            headers={"Authorization": f"Bearer {token.token}"},
            timeout=5,
        )
        answer.raise_for_status()
        items: list[dict[str, Any]] = answer.json()["_embedded"]["items"]
        return [item["report"] for item in reversed(items)]

    def wait_reports(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The history once it holds ``count`` reports."""

        wait_for(lambda: len(self.history()) >= count, timeout, f"{count} reports")
        return self.history()

    def metrics(self) -> str:
        port = self.env["CLD_INVENTORY_METRICS_PORT"]
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    def _registration(self) -> reg_grpc.RegistrationStub:
        return reg_grpc.RegistrationStub(rpc.channel(self.runtime_dir, "registration"))


def _report_ids(folder: Path) -> list[str]:
    return [p.stem.split("-", 1)[1] for p in sorted(folder.glob("*.json"))]


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A fake MiVoice MX-ONE host that reaches the cloud without a proxy."""

    root = build_host(tmp_path / "host", "mx-one")
    (root / "etc/sysconfig/proxy").unlink()
    return root


@pytest.fixture
def inventory_env(env: dict[str, str], host: Path) -> dict[str, str]:
    return {
        **env,
        "CLD_HOST_ROOT": str(host),
        "CLD_INVENTORY_DEBOUNCE": "0.5",
        "CLD_INVENTORY_RESCAN": "0.2",
        "CLD_INVENTORY_RETRY_MAX": "0.5",
    }


@pytest.fixture
def inventory(
    tmp_path: Path, inventory_env: dict[str, str], registration: Service, cloud: Cloud
) -> Iterator[Inventory]:
    service = Inventory(inventory_env, tmp_path / "daemon", cloud)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def tunnel_bus(mosquitto: Broker) -> Iterator[Bus]:
    """Publishes tunnel states as the tunnel service would."""

    bus = Bus("tunnel", "127.0.0.1", mosquitto.port)
    bus.start()
    assert bus.wait_connected(5)
    yield bus
    bus.stop()
