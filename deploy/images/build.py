"""Builds the daemon's images with no registry: ``python deploy/images/build.py``.

A Debian base is made once with debootstrap and the Python dependencies are
built into wheels once; both are kept under build/images so later builds,
even into a fresh image store, take seconds. Each image is tagged
``localhost/cld-NAME:VERSION``; one JSON line per image is printed with its
size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "deploy" / "images"
CONTAINERS_CONF = ROOT / "deploy" / "podman" / "containers.conf"

SERVICES = ("registration", "inventory", "updater", "tunnel", "ui")
IMAGES = (*SERVICES, "mosquitto")
WITH_CLOUD = (*IMAGES, "cloud")

# Each base is a root filesystem tarball: its image name and Debian packages.
BASES = {
    "cld-base": "python3,python3-venv,ca-certificates",
    "cld-mosquitto-base": "mosquitto",
}
BASE_TAG = "bookworm"

APP_PARTS = ("services", "platforms")
CLOUD_PARTS = ("cloud", "schemas")


class BuildError(RuntimeError):
    """A step of the build failed; the message says which."""


def project_version() -> str:
    """The version in pyproject.toml."""

    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def requirements() -> str:
    """The runtime dependencies of pyproject.toml, one per line."""

    with (ROOT / "pyproject.toml").open("rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]

    return "".join(f"{line}\n" for line in dependencies)


def run(argv: list[str], env: dict[str, str], what: str) -> str:
    """Runs a build step at low priority; raises BuildError with its output."""

    done = subprocess.run(
        ["nice", "-n", "10", *argv], env=env, capture_output=True, text=True
    )

    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BuildError(f"{what} failed (exit {done.returncode}):\n{tail}")

    return done.stdout


def base_tarball(cache: Path, name: str, env: dict[str, str]) -> Path:
    """The cached root filesystem of base ``name``, made when missing."""

    tarball = cache / f"{name}-{BASE_TAG}.tar"

    if not tarball.exists():
        run(
            [str(HERE / "make-base.sh"), str(tarball), BASES[name]],
            env,
            f"making the {name} root filesystem",
        )

    return tarball


def wheels(cache: Path, env: dict[str, str]) -> Path:
    """The cached wheel folder for the current requirements, built when missing.

    The folder is named by a hash of the requirements, so changing a
    dependency builds a new set instead of mixing with the old one.
    """

    wanted = requirements()
    digest = hashlib.sha256(wanted.encode()).hexdigest()[:12]
    folder = cache / f"wheels-{digest}"

    if folder.exists():
        return folder

    partial = Path(tempfile.mkdtemp(prefix="wheels.", dir=cache))
    (partial / "requirements.txt").write_text(wanted)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--wheel-dir",
            str(partial),
            "--requirement",
            str(partial / "requirements.txt"),
        ],
        env,
        "building the wheels",
    )
    partial.rename(folder)
    return folder


def stage_context(context: Path, wheel_dir: Path, version: str) -> None:
    """Lays out the build context: wheels, the app, the emulator."""

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(wheel_dir, context / "wheels", copy_function=_link_or_copy)
    app = context / "app"

    for part in APP_PARTS:
        shutil.copytree(ROOT / part, app / part, ignore=ignore)

    gen = ROOT / "build" / "gen"

    if not (gen / "cld").is_dir():
        raise BuildError(f"no generated gRPC code in {gen}: run make proto first")

    shutil.copytree(gen / "cld", app / "gen" / "cld", ignore=ignore)
    shutil.copy2(HERE / "healthcheck.py", app / "healthcheck.py")
    (app / "build-info.json").write_text(json.dumps(build_info(version), indent=2))

    for part in CLOUD_PARTS:
        shutil.copytree(ROOT / part, context / part, ignore=ignore)


def build_info(version: str) -> dict[str, str]:
    """The About panel's build identity, with the image's version."""

    try:
        recorded = json.loads((ROOT / "build" / "build-info.json").read_text())
    except (OSError, ValueError):
        recorded = {}

    return {**recorded, "version": version, "stage": recorded.get("stage", "image")}


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def podman_env() -> dict[str, str]:
    """The environment for podman, with the project's containers.conf by default."""

    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def image_exists(podman: str, image: str, env: dict[str, str]) -> bool:
    """True when ``image`` is in the image store."""

    found = subprocess.run(
        [podman, "image", "exists", image], env=env, capture_output=True
    )
    return found.returncode == 0


def image_size(podman: str, image: str, env: dict[str, str]) -> int:
    """The size in bytes of ``image``, shared layers included."""

    out = run(
        [podman, "image", "inspect", "--format", "{{.Size}}", image],
        env,
        f"inspecting {image}",
    )
    return int(out.strip())


def build(
    version: str, names: tuple[str, ...], cache: Path, podman: str = "podman"
) -> list[dict[str, object]]:
    """Builds every image in ``names``; returns one record per image."""

    env = podman_env()
    cache.mkdir(parents=True, exist_ok=True)

    for base in BASES:
        image = f"localhost/{base}:{BASE_TAG}"

        if not image_exists(podman, image, env):
            tarball = base_tarball(cache, base, env)
            run([podman, "import", str(tarball), image], env, f"importing {image}")

    wheel_dir = wheels(cache, env)
    records: list[dict[str, object]] = []

    with tempfile.TemporaryDirectory(prefix="context.", dir=cache) as scratch:
        context = Path(scratch)
        stage_context(context, wheel_dir, version)
        order = ("python", *names)

        for name in order:
            started = time.monotonic()
            image = f"localhost/cld-{name}:{version}"
            run(
                [
                    podman,
                    "build",
                    "--quiet",
                    # The OCI image format has no place for a HEALTHCHECK.
                    "--format",
                    "docker",
                    "--file",
                    str(HERE / f"{name}.Containerfile"),
                    "--build-arg",
                    f"VERSION={version}",
                    "--tag",
                    image,
                    str(context),
                ],
                env,
                f"building {image}",
            )
            records.append(
                {
                    "image": image,
                    "size_mb": round(image_size(podman, image, env) / 1e6, 1),
                    "build_s": round(time.monotonic() - started, 1),
                }
            )

    return records


def main() -> int:
    """Builds the images named on the command line (all by default)."""

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=project_version())
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "images")
    parser.add_argument("--with-cloud", action="store_true")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(WITH_CLOUD))
    args = parser.parse_args()
    names = tuple(args.names) or (WITH_CLOUD if args.with_cloud else IMAGES)
    unknown = sorted(set(names) - set(WITH_CLOUD))

    if unknown:
        parser.error(
            f"no image named {', '.join(unknown)}; known: {', '.join(WITH_CLOUD)}"
        )
    started = time.monotonic()

    try:
        records = build(args.version, names, args.cache)
    except BuildError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1

    for record in records:
        sys.stdout.write(json.dumps(record) + "\n")

    total = round(time.monotonic() - started, 1)
    sys.stdout.write(
        json.dumps({"images_built": len(records), "total_s": total}) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
