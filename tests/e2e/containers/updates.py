"""A daemon installed on a stand-in server, and container releases for it.

Shared by the update tests and the update benchmark: the maintenance tool
installs the daemon with its updater given the server's Podman API, the
real release script makes releases over the images in the build store and
publishes them to the emulator, and "Update now" goes to the updater over
its gRPC socket.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc
from cld.v1 import updater_pb2 as pb
from cld.v1 import updater_pb2_grpc as pb_grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.updater.keys import keys_document
from tests.e2e.containers.conftest import SERVICES, VERSION
from tests.e2e.containers.podman import ApiService, Store
from tests.support.processes import ROOT, Cloud, free_port

PASSWORD = "acme-admin-1"
KEYS_FILE = "etc/cld/release-keys.json"


def install(folder: Path, archive: Path, cloud: Cloud, server: ApiService) -> Path:
    """Installs the daemon from ``archive`` on ``server`` and links it.

    Returns the host root, where the daemon finds its trusted release keys.
    """

    host_root = folder / "host"
    (host_root / KEYS_FILE).parent.mkdir(parents=True)
    lines = [
        "[daemon]",
        f'version = "{VERSION}"',
        f'images_archive = "{archive}"',
        "[daemon.env]",
        f'CLD_CLOUD_URL = "{cloud.url}"',
        'CLD_UI_SECURE_COOKIES = "false"',
        f'CLD_TUNNEL_RELAY = "127.0.0.1:{free_port()}"',
        f'CLD_UPDATER_EXTRA_KEYS_FILE = "/host/{KEYS_FILE}"',
        'CLD_UPDATER_TIME_ZONE = "UTC"',
        'CLD_UPDATER_HEALTH_TIMEOUT = "90"',
        "[[server]]",
        'name = "alpha"',
        f'url = "{server.url}"',
        f'host_root = "{host_root}"',
        "[server.env]",
        f'CLD_MQTT_PORT = "{free_port()}"',
        f'CLD_UI_BIND = "127.0.0.1:{free_port()}"',
        *(f'CLD_{s.upper()}_METRICS_PORT = "{free_port()}"' for s in SERVICES),
    ]
    config = folder / "servers.toml"
    config.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "maintenance", "--config", str(config)),
            *("--json", "install", "--username", "admin@acme.example"),
            "--password-stdin",
        ],
        cwd=ROOT,
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return host_root


def signing_key(folder: Path, host_root: Path) -> Path:
    """A release signing key; the daemon trusts it through the host root."""

    key = Ed25519PrivateKey.generate()
    path = folder / "signing-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (host_root / KEYS_FILE).write_text(
        json.dumps(keys_document(key.public_key(), "e2e releases"))
    )
    return path


def release(
    store: Store, cloud: Cloud, key: Path, base: str, version: str, build: str
) -> str:
    """Publishes a container release over the images tagged ``base``."""

    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "scripts" / "release.py")),
            *("--images-from", base, "--version", version, "--build-number", build),
            *("--cloud", cloud.url, "--key", str(key)),
        ],
        env=store.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    release_id: str = json.loads(done.stdout)["release"]
    return release_id


@contextlib.contextmanager
def runtime(server: ApiService) -> Iterator[Path]:
    """A short folder linking to the sockets in the server's runtime volume."""

    folder = server.store.podman(
        "volume", "inspect", "cld-runtime", "--format", "{{.Mountpoint}}"
    ).strip()

    with tempfile.TemporaryDirectory(prefix="cld-") as scratch:
        link = Path(scratch) / "run"
        link.symlink_to(folder)
        yield link


def updater_status(run: Path) -> pb.UpdateStatus | None:
    """The updater's status; None while it is being replaced."""

    with grpc.insecure_channel(f"unix://{run / 'updater.sock'}") as channel:
        try:
            reply: pb.UpdateStatus = pb_grpc.UpdaterStub(channel).GetUpdateStatus(
                pb.GetUpdateStatusRequest(), timeout=5
            )
            return reply
        except grpc.RpcError:
            return None


def update_now(run: Path) -> None:
    with grpc.insecure_channel(f"unix://{run / 'updater.sock'}") as channel:
        pb_grpc.UpdaterStub(channel).UpdateNow(pb.UpdateNowRequest(), timeout=10)


def outcome_for(run: Path, version: str, timeout: float) -> pb.UpdateStatus:
    """The updater's status once its history ends in an update to ``version``."""

    deadline = time.monotonic() + timeout
    seen: pb.UpdateStatus | None = None

    while time.monotonic() < deadline:
        seen = updater_status(run) or seen

        if (
            seen is not None
            and seen.history
            and seen.history[0].to_version.startswith(version)
            and seen.progress in {"", "done", "rolled back"}
        ):
            return seen

        time.sleep(1)

    raise AssertionError(f"no outcome for {version} after {timeout}s: {seen}")


def images_running(store: Store) -> dict[str, str]:
    """Each container's image, by name."""

    out = store.podman("ps", "--all", "--format", "{{.Names}} {{.Image}}")
    return dict(line.split(" ", 1) for line in out.splitlines())


def linked(run: Path) -> bool:
    with grpc.insecure_channel(f"unix://{run / 'registration.sock'}") as channel:
        reply = reg_grpc.RegistrationStub(channel).GetLink(
            reg_pb.GetLinkRequest(), timeout=10
        )

    return bool(reply.state == reg_pb.LINK_STATE_LINKED)


def broken_ui(store: Store, base: str, tag: str) -> None:
    """Tags ``base``'s images as ``tag``, the dashboard's failing its check."""

    for service in SERVICES:
        if service != "ui":
            store.podman(
                "tag",
                f"localhost/cld-{service}:{base}",
                f"localhost/cld-{service}:{tag}",
            )

    with tempfile.TemporaryDirectory(prefix="cld-broken-") as scratch:
        containerfile = Path(scratch) / "Containerfile"
        containerfile.write_text(
            f"FROM localhost/cld-ui:{base}\n"
            "HEALTHCHECK --interval=30s --start-period=1s --retries=1 "
            'CMD ["python", "-c", "raise SystemExit(\'the dashboard is broken\')"]\n'
        )
        store.podman(
            "build",
            "--quiet",
            "--format",
            "docker",
            "--tag",
            f"localhost/cld-ui:{tag}",
            "--file",
            str(containerfile),
            scratch,
        )
