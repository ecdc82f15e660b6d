"""Resumable downloads over real sockets, from a server that cuts them."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from services.updater.download import (
    ArtifactRejectedError,
    DownloadError,
    artifact_path,
    fetch,
)
from services.updater.manifest import Artifact

BODY = bytes(range(256)) * 4096  # 1 MiB


class CuttingServer(ThreadingHTTPServer):
    """Serves BODY; the first whole-file answer stops halfway and hangs up."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[str] = []
        self.cut_next = True
        self.body = BODY


class Handler(BaseHTTPRequestHandler):
    server: CuttingServer

    def do_GET(self) -> None:
        wanted = self.headers.get("Range", "")
        self.server.requests.append(wanted)
        body = self.server.body
        start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted else 0

        if start:
            self.send_response(206)
            self.send_header(
                "Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}"
            )
        else:
            self.send_response(200)

        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()

        if self.server.cut_next:
            self.server.cut_next = False
            self.wfile.write(body[start : start + len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return

        self.wfile.write(body[start:])

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[CuttingServer]:
    server = CuttingServer()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def artifact_for(server: CuttingServer, body: bytes = BODY) -> Artifact:
    return Artifact(
        name="daemon.whl",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        url=f"http://127.0.0.1:{server.server_address[1]}/daemon.whl",
    )


def test_a_cut_download_carries_on_from_where_it_stopped(
    server: CuttingServer, tmp_path: Path
) -> None:
    artifact = artifact_for(server)
    session = requests.Session()

    with pytest.raises(DownloadError, match="carries on from there"):
        fetch(session, artifact, tmp_path)

    part = artifact_path(tmp_path, artifact).with_suffix(".whl.part")
    assert part.stat().st_size == len(BODY) // 2

    path = fetch(session, artifact, tmp_path)

    assert path.read_bytes() == BODY
    assert server.requests == ["", f"bytes={len(BODY) // 2}-"]
    assert not part.exists()
    session.close()


def test_a_verified_artifact_is_not_fetched_again(
    server: CuttingServer, tmp_path: Path
) -> None:
    server.cut_next = False
    artifact = artifact_for(server)

    with requests.Session() as session:
        first = fetch(session, artifact, tmp_path)
        again = fetch(session, artifact, tmp_path)

    assert first == again
    assert server.requests == [""]


def test_a_wrong_hash_discards_the_download(
    server: CuttingServer, tmp_path: Path
) -> None:
    server.cut_next = False
    server.body = BODY[:-1] + b"\x00"
    artifact = artifact_for(server, BODY)

    with (
        requests.Session() as session,
        pytest.raises(
            ArtifactRejectedError, match=r"SHA-256 of daemon\.whl does not match"
        ),
    ):
        fetch(session, artifact, tmp_path)

    assert list(tmp_path.rglob("*.*")) == []


def test_a_wrong_size_discards_the_download(
    server: CuttingServer, tmp_path: Path
) -> None:
    server.cut_next = False
    server.body = BODY + b"extra"
    artifact = artifact_for(server, BODY)

    with (
        requests.Session() as session,
        pytest.raises(
            ArtifactRejectedError,
            match=f"bytes but the signed manifest says {len(BODY)}",
        ),
    ):
        fetch(session, artifact, tmp_path)

    assert list(tmp_path.rglob("*.*")) == []
