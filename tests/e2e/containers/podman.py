"""Real podman for tests: a private image store, API services, clean-up."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.support.processes import ROOT, wait_for

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
tmp_dir = "{tmp}"

[network]
network_config_dir = "{networks}"
"""

STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{root}"
runroot = "{runroot}"
"""


class Store:
    """A podman image and container store of its own, under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "networks").mkdir(exist_ok=True)
        self.containers_conf = folder / "containers.conf"
        self.containers_conf.write_text(
            CONTAINERS_CONF.format(networks=folder / "networks", tmp=folder / "tmp")
        )
        self.storage_conf = folder / "storage.conf"
        self.storage_conf.write_text(
            STORAGE_CONF.format(root=folder / "root", runroot=folder / "runroot")
        )

    @property
    def env(self) -> dict[str, str]:
        """The environment that points podman at this store."""

        return {
            **os.environ,
            "CONTAINERS_CONF": str(self.containers_conf),
            "CONTAINERS_STORAGE_CONF": str(self.storage_conf),
        }

    def podman(self, *args: str, check: bool = True) -> str:
        """Runs ``podman ARGS`` on this store; returns its output."""

        done = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {done.stderr[-2000:]}")

        return done.stdout

    def succeeds(self, *args: str) -> bool:
        """True when ``podman ARGS`` exits 0."""

        done = subprocess.run(
            ["podman", *args], env=self.env, capture_output=True, timeout=300
        )
        return done.returncode == 0

    def names(self, kind: str) -> list[str]:
        """The names of every container, volume or pod in the store."""

        if kind == "container":
            out = self.podman("ps", "--all", "--format", "{{.Names}}")
        elif kind == "volume":
            out = self.podman("volume", "ls", "--format", "{{.Name}}")
        elif kind == "pod":
            out = self.podman("pod", "ps", "--format", "{{.Name}}")
        elif kind == "network":
            out = self.podman("network", "ls", "--format", "{{.Name}}")
        else:
            raise ValueError(kind)

        return out.split()

    def save(self, images: Iterable[str], archive: Path) -> Path:
        """``images`` in one ``podman save`` archive at ``archive``, as shipped."""

        self.podman(
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

    def images(self) -> list[str]:
        """Every tagged image in the store."""

        out = self.podman("images", "--format", "json")
        return [
            t for image in json.loads(out or "[]") for t in image.get("Names") or []
        ]

    def reset(self) -> None:
        """Deletes everything in the store, mounts included, then its folder."""

        self.podman("system", "reset", "--force", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


class ApiService:
    """``podman system service`` on a Unix socket, standing in for a server."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.socket = store.folder / "podman.sock"
        self.url = f"unix://{self.socket}"
        self.log = store.folder / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts the service and waits for its socket."""

        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["podman", "system", "service", "--time=0", self.url],
                env=self.store.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        wait_for(self.socket.exists, 30, "the podman API socket")

        # As the shipped socket unit makes it: the updater container reaches
        # it through root's group.
        self.socket.chmod(0o660)

    def stop(self) -> None:
        """Stops the service."""

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def podman_problem() -> str:
    """Why podman cannot run containers here; empty when it can."""

    if shutil.which("podman") is None:
        return "podman is not installed (scripts/system-deps.sh installs it as root)"

    if os.geteuid() != 0:
        return "the container tests run rootful podman and need root"

    return ""


def build_images(store: Store, names: tuple[str, ...]) -> None:
    """Builds ``names`` into ``store`` with the project's build script."""

    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy/images/build.py"), *names],
        env=store.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )

    if done.returncode != 0:
        raise AssertionError(f"building images failed:\n{done.stderr[-3000:]}")
