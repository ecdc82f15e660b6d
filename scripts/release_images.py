"""The images of a container release, and their ``podman save`` archive.

Each service's release image is a thin layer over an image already in the
local store: the release's build identity (what the About panel and the
updater read as the running version) and its version label. The layer
below is either built fresh from the working tree (``deploy/images``) or
an existing tag, which makes a release in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from services.common.containers import VERSION_LABEL, image
from services.common.topics import SERVICES
from services.updater.container_plan import release_tag
from services.updater.versions import ReleaseVersion

ROOT = Path(__file__).resolve().parents[1]
CONTAINERS_CONF = ROOT / "deploy" / "podman" / "containers.conf"
BUILD_SCRIPT = ROOT / "deploy" / "images" / "build.py"
PODMAN_TIMEOUT = 900

LAYER = f"""\
ARG BASE
FROM ${{BASE}}
ARG VERSION
COPY build-info.json /opt/cld/app/build-info.json
LABEL {VERSION_LABEL}="${{VERSION}}"
"""


class ImagesError(Exception):
    """Images that could not be built or saved; the message says which step."""


def podman_env() -> dict[str, str]:
    """The environment for podman, with the project's containers.conf by default."""

    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def podman(*args: str) -> str:
    """Runs ``podman ARGS``; ImagesError with its output when it fails."""

    done = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=PODMAN_TIMEOUT,
        check=False,
    )

    if done.returncode != 0:
        raise ImagesError(f"podman {args[0]} failed: {done.stderr.strip()[-2000:]}")

    return done.stdout


def build_fresh(tag: str) -> None:
    """Builds every service's image from the working tree, tagged ``tag``."""

    done = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--version", tag, *SERVICES],
        env=podman_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PODMAN_TIMEOUT,
        check=False,
    )

    if done.returncode != 0:
        raise ImagesError(f"building the images failed:\n{done.stderr[-3000:]}")


def build_release(
    version: ReleaseVersion, base_tag: str, build: dict[str, str]
) -> list[str]:
    """Tags every service's release image over its ``base_tag`` image."""

    tag = release_tag(version.release_id)
    built: list[str] = []

    with tempfile.TemporaryDirectory(prefix="cld-release-images-") as tmp:
        context = Path(tmp)
        (context / "build-info.json").write_text(json.dumps(build, indent=2))
        (context / "Containerfile").write_text(LAYER)

        for service in SERVICES:
            base = image(service, base_tag)

            if subprocess.run(
                ["podman", "image", "exists", base], env=podman_env(), check=False
            ).returncode:
                raise ImagesError(
                    f"there is no image {base} to make the release from; run "
                    "`make images` or name another tag"
                )

            podman(
                "build",
                "--quiet",
                # The OCI format has no place for the image's HEALTHCHECK.
                "--format",
                "docker",
                "--build-arg",
                f"BASE={base}",
                "--build-arg",
                f"VERSION={version.version}",
                "--tag",
                image(service, tag),
                str(context),
            )
            built.append(image(service, tag))

    return built


def save(images: list[str], folder: Path, tag: str) -> Path:
    """The images in one multi-image ``podman save`` archive in ``folder``."""

    archive = folder / f"cld-images-{tag}.tar"
    podman(
        "save",
        "--quiet",
        "--multi-image-archive",
        "--format",
        "docker-archive",
        "--output",
        str(archive),
        *images,
    )
    return archive
