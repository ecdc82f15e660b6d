"""Large transfers both ways, compared byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import requests
from cld.v1 import tunnel_pb2 as pb

from tests.integration.tunnel.conftest import Tunnels, World
from tests.integration.tunnel.origin import pattern


@pytest.fixture
def tunnels(live: Tunnels) -> Tunnels:
    return live


@pytest.fixture
def acme_token(world: World) -> str:
    return world.acme_token


SIZE = 200 * 1024 * 1024
BLOCK = 1024 * 1024


def blocks(size: int) -> Iterator[bytes]:
    """``size`` bytes of the origin's pattern, a block at a time."""

    whole = pattern(BLOCK)

    for start in range(0, size, BLOCK):
        yield whole[: min(BLOCK, size - start)]


class PatternFile:
    """A file-like body of ``size`` pattern bytes, so it goes with a length."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._blocks = blocks(size)

    def __len__(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        return next(self._blocks, b"")


def test_200_mb_download_and_upload_arrive_intact(
    tunnels: Tunnels, acme_token: str
) -> None:
    tunnels.start()
    tunnels.wait_state(pb.TUNNEL_STATE_STARTED)
    headers = {"Host": tunnels.host(), "Authorization": f"Bearer {acme_token}"}
    expected = hashlib.sha256()

    for block in blocks(SIZE):
        expected.update(block)

    with requests.get(
        f"{tunnels.relay.public_url}/bytes/{SIZE}",
        headers=headers,
        stream=True,
        timeout=60,
    ) as reply:
        received = hashlib.sha256()
        size = 0

        for chunk in reply.iter_content(BLOCK):
            received.update(chunk)
            size += len(chunk)

    assert size == SIZE
    assert received.hexdigest() == expected.hexdigest()

    upload = requests.post(
        f"{tunnels.relay.public_url}/sha256",
        headers=headers,
        data=PatternFile(SIZE),
        timeout=60,
    )

    assert upload.status_code == 200, upload.text[-400:]
    assert upload.text == expected.hexdigest()
