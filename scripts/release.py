"""Builds a signed release of the working tree and publishes it to the emulator.

    .venv/bin/python scripts/release.py [--version 0.2.0] [--cloud URL]
        [--images | --images-from TAG]

The release is a wheel of the daemon's packages plus their generated gRPC
code, or with ``--images`` the services' container images in one ``podman
save`` archive, for daemons that update their containers (see
scripts/release_images.py); a manifest signed with an Ed25519 key
describes it. The key is made on first use (``.run/release/signing-key.pem``);
its public half is written beside it as ``release-keys.json``, the file a
development daemon is told to trust with CLD_UPDATER_EXTRA_KEYS_FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import release_images
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.updater.container_plan import release_tag
from services.updater.download import sha256_of
from services.updater.keys import keys_document
from services.updater.manifest import Artifact, manifest_document, sign
from services.updater.versions import ReleaseVersion, VersionError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("services", "cloud", "supervisor")
API = "/2017-09-01/releases"


class ReleaseError(Exception):
    """A release that could not be built or published."""


def project_version() -> str:
    """The version in pyproject.toml."""

    found = re.search(
        r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M
    )
    return found.group(1) if found else "0.0.0"


def git_commit() -> str:
    """The working tree's commit, marked when it has uncommitted changes."""

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"

    return f"{commit}-dirty" if dirty else commit


def build_wheel(version: str, out: Path) -> Path:
    """A wheel of the working tree at ``version``, with the generated code.

    The tree is copied first, so the build leaves nothing behind in it and
    the wheel can carry the generated ``cld`` package the checkout keeps
    out of version control.
    """

    generated = ROOT / "build" / "gen" / "cld"

    if not generated.is_dir():
        raise ReleaseError("build/gen holds no generated code; run `make proto`")

    with tempfile.TemporaryDirectory(prefix="cld-release-") as tmp:
        stage = Path(tmp)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")

        for package in PACKAGES:
            shutil.copytree(ROOT / package, stage / package, ignore=ignore)

        shutil.copytree(generated, stage / "cld", ignore=ignore)
        stage.joinpath("pyproject.toml").write_text(
            staged_pyproject((ROOT / "pyproject.toml").read_text(), version)
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--disable-pip-version-check",
                "--wheel-dir",
                str(out),
                str(stage),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    if done.returncode != 0:
        raise ReleaseError(f"the wheel did not build:\n{done.stderr[-3000:]}")

    wheels = sorted(out.glob("cloudlink_daemon-*.whl"))

    if not wheels:
        raise ReleaseError("pip reported success but wrote no wheel")

    return wheels[-1]


def staged_pyproject(text: str, version: str) -> str:
    """pyproject.toml for the staged build: the release's version, plus ``cld``."""

    text, versions = re.subn(
        r'^version = "[^"]+"', f'version = "{version}"', text, count=1, flags=re.M
    )
    text, includes = re.subn(
        r"^include = \[", 'include = ["cld*", ', text, count=1, flags=re.M
    )

    if not versions or not includes:
        raise ReleaseError(
            "pyproject.toml no longer has the version and include lines the "
            "release build edits"
        )

    return text


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The release signing key at ``path``, made (with its keys file) if missing."""

    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)

        if not isinstance(key, Ed25519PrivateKey):
            raise ReleaseError(f"{path} does not hold an Ed25519 private key")

        return key

    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    with os.fdopen(fd, "wb") as f:
        f.write(pem)

    keys_file = path.with_name("release-keys.json")
    keys_file.write_text(
        json.dumps(keys_document(key.public_key(), "development releases"), indent=2)
    )
    return key


def artifact_url(cloud: str, channel: str, release_id: str, name: str) -> str:
    """Where the channel serves an artifact of a release."""

    return f"{cloud}{API}/{channel}/{release_id}/artifacts/{name}"


def make_envelope(
    files: dict[Path, str],
    version: ReleaseVersion,
    *,
    cloud: str,
    channel: str,
    commit: str,
    key: Ed25519PrivateKey,
) -> dict[str, object]:
    """The signed manifest of a release made of ``files`` (path: artifact kind)."""

    artifacts = [
        Artifact(
            name=path.name,
            size=path.stat().st_size,
            sha256=sha256_of(path),
            url=artifact_url(cloud, channel, version.release_id, path.name),
            kind=kind,
        )
        for path, kind in files.items()
    ]
    document = manifest_document(
        version,
        commit=commit,
        channel=channel,
        published=datetime.now(UTC).isoformat(timespec="seconds"),
        artifacts=artifacts,
    )
    return sign(document, key)


def container_release(
    version: ReleaseVersion, base_tag: str, build: dict[str, str], out: Path
) -> Path:
    """The archive of the release's images; built fresh when no base is named."""

    if not base_tag:
        base_tag = version.version
        release_images.build_fresh(base_tag)

    built = release_images.build_release(version, base_tag, build)
    return release_images.save(built, out, release_tag(version.release_id))


def publish(
    cloud: str,
    channel: str,
    version: ReleaseVersion,
    envelope: dict[str, object],
    files: dict[str, Path],
) -> None:
    """Uploads the artifacts, then publishes the manifest as the latest."""

    try:
        for name, path in files.items():
            with path.open("rb") as body:
                response = requests.put(
                    artifact_url(cloud, channel, version.release_id, name),
                    data=body,
                    timeout=60,
                )

            _raise_for(response, f"uploading {name}")

        response = requests.post(f"{cloud}{API}/{channel}", json=envelope, timeout=30)
        _raise_for(response, "publishing the manifest")
    except requests.RequestException as exc:
        raise ReleaseError(
            f"the emulator at {cloud} cannot be reached: {exc}"
        ) from None


def _raise_for(response: requests.Response, what: str) -> None:
    if response.status_code < 400:
        return

    try:
        detail = response.json().get("error_description", "")
    except ValueError:
        detail = response.text[:200]

    raise ReleaseError(f"{what} failed: HTTP {response.status_code} {detail}")


def main(argv: list[str] | None = None) -> int:
    """Builds, signs and publishes; returns the exit status."""

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=project_version())
    parser.add_argument(
        "--build-number",
        default=os.environ.get("CLD_BUILD_NUMBER")
        or datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    )
    parser.add_argument("--channel", default="stable")
    parser.add_argument(
        "--cloud", default=os.environ.get("CLD_CLOUD_URL", "http://127.0.0.1:8800")
    )
    parser.add_argument(
        "--key", type=Path, default=ROOT / ".run/release/signing-key.pem"
    )
    parser.add_argument("--wheel", type=Path, help="publish this wheel, not a new one")
    parser.add_argument(
        "--images",
        action="store_true",
        help="a container release: the services' images, built fresh",
    )
    parser.add_argument(
        "--images-from",
        metavar="TAG",
        default="",
        help="a container release over the services' images tagged TAG",
    )
    parser.add_argument("--output", type=Path, help="also keep the release here")
    parser.add_argument("--no-publish", action="store_true")
    args = parser.parse_args(argv)
    cloud = args.cloud.rstrip("/")

    try:
        version = ReleaseVersion(args.version, args.build_number)
    except VersionError as exc:
        parser.error(str(exc))

    containers = args.images or bool(args.images_from)
    commit = git_commit()

    try:
        with tempfile.TemporaryDirectory(prefix="cld-release-") as tmp:
            if containers:
                build = {
                    "version": version.version,
                    "build_number": version.build_number,
                    "commit": commit,
                    "branch": "release",
                    "stage": args.channel,
                }
                archive = container_release(version, args.images_from, build, Path(tmp))
                files = {archive: "images"}
            else:
                archive = args.wheel or build_wheel(version.version, Path(tmp))
                files = {archive: "wheel"}

            key = signing_key(args.key)
            envelope = make_envelope(
                files,
                version,
                cloud=cloud,
                channel=args.channel,
                commit=commit,
                key=key,
            )

            if args.output:
                args.output.mkdir(parents=True, exist_ok=True)
                shutil.copy2(archive, args.output / archive.name)
                (args.output / "envelope.json").write_text(json.dumps(envelope))

            if not args.no_publish:
                publish(
                    cloud,
                    args.channel,
                    version,
                    envelope,
                    {path.name: path for path in files},
                )
    except (ReleaseError, release_images.ImagesError) as exc:
        sys.stderr.write(f"release: {exc}\n")
        return 1

    summary = {
        "release": version.release_id,
        "channel": args.channel,
        "wheel": None if containers else archive.name,
        "images": archive.name if containers else None,
        "published_to": None if args.no_publish else cloud,
        "trusted_keys_file": str(args.key.with_name("release-keys.json")),
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
