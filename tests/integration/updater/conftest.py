"""The real updater, registration, broker and emulator, with releases to offer."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cld.v1 import registration_pb2 as reg_pb
from cld.v1 import registration_pb2_grpc as reg_grpc
from cld.v1 import updater_pb2 as pb
from cld.v1 import updater_pb2_grpc as pb_grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common import rpc
from services.updater.download import sha256_of
from services.updater.keys import keys_document
from services.updater.manifest import Artifact, manifest_document, sign
from services.updater.versions import ReleaseVersion
from tests.support.processes import ROOT, Cloud, Service, wait_for

RELEASE_SCRIPT = ROOT / "scripts" / "release.py"


class VersionedService(Service):
    """A service started as the supervisor does: from the current release.

    Once the updater has switched, ``state/updater/current/lib`` is the
    working folder, so the release's packages come before the checkout's.
    """

    def start(self) -> None:
        current = Path(self.env["CLD_STATE_DIR"]) / "updater" / "current" / "lib"
        cwd = current.resolve() if current.exists() else ROOT
        self.log.parent.mkdir(parents=True, exist_ok=True)

        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
            )

        wait_for(self.healthy, 20, f"{self.name} to serve health")


@pytest.fixture(scope="session")
def release_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the working tree, built once by the real release script."""

    out = tmp_path_factory.mktemp("release")
    done = subprocess.run(
        [
            sys.executable,
            str(RELEASE_SCRIPT),
            "--no-publish",
            "--output",
            str(out),
            "--key",
            str(out / "key.pem"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return next(out.glob("*.whl"))


@pytest.fixture
def signing_key(tmp_path: Path) -> Path:
    """This test's release signing key, with the keys file trusting it."""

    key = Ed25519PrivateKey.generate()
    path = tmp_path / "release" / "signing-key.pem"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_name("release-keys.json").write_text(
        json.dumps(keys_document(key.public_key(), "test releases"))
    )
    return path


@pytest.fixture
def daemon_env(env: dict[str, str], signing_key: Path) -> dict[str, str]:
    """The services' environment, trusting this test's release key."""

    return {
        **env,
        "CLD_UPDATER_EXTRA_KEYS_FILE": str(signing_key.with_name("release-keys.json")),
        "CLD_UPDATER_SERVICES": "registration,updater",
        "CLD_UPDATER_HEALTH_TIMEOUT": "20",
        "CLD_UPDATER_TIME_ZONE": "Europe/Berlin",
    }


@pytest.fixture
def registration_service(
    tmp_path: Path, daemon_env: dict[str, str]
) -> Iterator[VersionedService]:
    """The registration service, linked to the Acme account."""

    service = VersionedService("registration", daemon_env, tmp_path / "daemon")
    service.start()
    yield service
    service.stop()


@pytest.fixture
def linked(registration_service: VersionedService) -> VersionedService:
    """The registration service once linked, so the channel gives releases."""

    stub = reg_grpc.RegistrationStub(
        rpc.channel(registration_service.runtime_dir, "registration")
    )
    stub.LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(
            username="admin@acme.example", password="acme-admin-1"
        ),
        timeout=10,
    )
    return registration_service


@pytest.fixture
def updater(tmp_path: Path, daemon_env: dict[str, str]) -> Iterator[VersionedService]:
    """The real updater service."""

    service = VersionedService("updater", daemon_env, tmp_path / "daemon")
    service.start()
    yield service
    service.stop()


def stub(service: Service) -> pb_grpc.UpdaterStub:
    return pb_grpc.UpdaterStub(rpc.channel(service.runtime_dir, "updater"))


def status(service: Service) -> pb.UpdateStatus:
    return stub(service).GetUpdateStatus(pb.GetUpdateStatusRequest(), timeout=5)


def wait_status(
    service: Service,
    check: Callable[[pb.UpdateStatus], bool],
    what: str,
    timeout: float = 30,
) -> pb.UpdateStatus:
    """The first status that passes ``check``; fails with the last one seen."""

    deadline = time.monotonic() + timeout
    seen = status(service)

    while time.monotonic() < deadline:
        seen = status(service)

        if check(seen):
            return seen

        time.sleep(0.1)

    raise AssertionError(f"timed out waiting for {what}; last status:\n{seen}")


def idle(seen: pb.UpdateStatus) -> bool:
    """True once no check or update is running."""

    return seen.progress in {"", "done", "rolled back"} and bool(
        seen.last_check.seconds
    )


def state_dir(service: Service) -> Path:
    return Path(service.env["CLD_STATE_DIR"]) / "updater"


def publish_release(
    cloud: Cloud,
    signing_key: Path,
    wheel: Path,
    version: str,
    build: str,
) -> dict[str, Any]:
    """Publishes ``wheel`` as a release with the real release script."""

    done = subprocess.run(
        [
            sys.executable,
            str(RELEASE_SCRIPT),
            "--wheel",
            str(wheel),
            "--version",
            version,
            "--build-number",
            build,
            "--cloud",
            cloud.url,
            "--key",
            str(signing_key),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def publish_raw(
    cloud: Cloud, envelope: dict[str, Any], files: dict[str, bytes]
) -> None:
    """Publishes whatever it is given, as a tampering channel would serve it."""

    payload = json.loads(base64.b64decode(envelope["payload"]))
    release_id = f"{payload['version']}+{payload['build_number']}"
    base = f"{cloud.url}/2017-09-01/releases/{payload['channel']}"

    for name, data in files.items():
        answer = requests.put(
            f"{base}/{release_id}/artifacts/{name}", data=data, timeout=10
        )
        assert answer.status_code == 201, answer.text

    answer = requests.post(base, json=envelope, timeout=10)
    assert answer.status_code == 201, answer.text


def wheel_artifact(cloud: Cloud, wheel: Path, version: ReleaseVersion) -> Artifact:
    """The manifest's description of ``wheel`` published as ``version``."""

    return Artifact(
        name=wheel.name,
        size=wheel.stat().st_size,
        sha256=sha256_of(wheel),
        url=f"{cloud.url}/2017-09-01/releases/stable/{version.release_id}"
        f"/artifacts/{wheel.name}",
    )


def signed_manifest(
    cloud: Cloud, signing_key: Path, wheel: Path, version: ReleaseVersion
) -> dict[str, Any]:
    """A manifest for ``wheel`` signed with the test's trusted key."""

    key = serialization.load_pem_private_key(signing_key.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    document = manifest_document(
        version, "c0ffee", "stable", "", [wheel_artifact(cloud, wheel, version)]
    )
    return sign(document, key)


def replace_in_wheel(wheel: Path, out: Path, files: dict[str, str]) -> Path:
    """A copy of ``wheel`` with some files' content replaced."""

    buffer = io.BytesIO()

    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)

            if item.filename in files:
                data = files[item.filename].encode()

            target.writestr(item, data)

    out.write_bytes(buffer.getvalue())
    return out
