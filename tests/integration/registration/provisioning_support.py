"""Helpers for the provisioning tests: PM's users, the stubs, the cloud's view."""

from __future__ import annotations

import time
from typing import Any

import requests
from cld.v1 import provisioning_pb2 as pb
from cld.v1 import provisioning_pb2_grpc as pb_grpc
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from tests.support.processes import Cloud, Service


def provisioning(service: Service) -> pb_grpc.ProvisioningStub:
    return pb_grpc.ProvisioningStub(rpc.channel(service.runtime_dir, "registration"))


def registration(service: Service) -> reg_grpc.RegistrationStub:
    return reg_grpc.RegistrationStub(rpc.channel(service.runtime_dir, "registration"))


def link(service: Service) -> reg_pb.Link:
    return registration(service).LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(
            username="admin@acme.example", password="acme-admin-1"
        ),
        timeout=10,
    )


def pm_user(n: int, **fields: Any) -> pb.User:
    values: dict[str, Any] = {
        "extension": str(10000 + n),
        "first_name": "User",
        "last_name": f"Number {n}",
        "email": f"user{n}@acme.example",
        "services": ["ZOOM_CLIENT"],
        **fields,
    }
    return pb.User(**values)


def pm_users(count: int, start: int = 0) -> list[pb.User]:
    return [pm_user(n) for n in range(start, start + count)]


def wait_sync(
    stub: pb_grpc.ProvisioningStub,
    sync_id: str,
    state: int = pb.SYNC_STATE_DONE,
    timeout: float = 60,
) -> pb.Sync:
    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        sync = stub.GetSync(pb.GetSyncRequest(sync_id=sync_id), timeout=10)

        if sync.state == state:
            return sync

        time.sleep(0.1)

    raise AssertionError(
        f"sync {sync_id} not in state {state} after {timeout}s: {sync}"
    )


class CloudView:
    """The emulator's side, read over HTTP with the link's access token."""

    def __init__(self, cloud: Cloud, service: Service) -> None:
        self.cloud = cloud
        self.service = service

    def _token(self) -> tuple[str, str]:
        token = registration(self.service).GetAccessToken(
            reg_pb.GetAccessTokenRequest(), timeout=10
        )
        return token.token, token.system_id

    def users(self) -> list[dict[str, Any]]:
        token, system_id = self._token()
        found: list[dict[str, Any]] = []

        while True:
            body = requests.get(
                f"{self.cloud.url}/2017-09-01/users",
                params={"systemId": system_id, "$top": 1000, "$skip": len(found)},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
            items = body["_embedded"]["items"]
            found.extend(items)

            if not items or "next" not in body["_links"]:
                return found

    def count(self) -> int:
        token, system_id = self._token()

        try:
            body = requests.get(
                f"{self.cloud.url}/2017-09-01/users",
                params={"systemId": system_id, "$top": 1},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
        except requests.RequestException:
            return -1

        return int(body["count"])

    def writes(self) -> dict[str, int]:
        token, _ = self._token()
        counts: dict[str, int] = requests.get(
            f"{self.cloud.url}/2017-09-01/emulator/user-writes",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        return counts
