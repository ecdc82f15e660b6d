"""Releases as local folders, for process mode (``make run``).

Each release is its wheel installed into ``versions/<release id>/lib``
beside the others. ``current`` is a symbolic link to the release the
supervisor runs the services from (with ``lib`` as their working folder, so
its packages come first); ``previous`` points at the one before. A switch
renames a new link over ``current``, which is atomic: a service started at
any moment runs one release or the other, never a mix.

The release's dependencies are those of the environment the services run
in: a release that needs a new third-party package cannot be applied in
this mode and fails its trial instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from services.common import rpc
from services.updater.installer import InstallError
from services.updater.manifest import Release

log = logging.getLogger(__name__)

PIP_TIMEOUT = 300.0
_TAIL = 1500

# The dashboard is the one service without a gRPC health check; it needs
# its accounts file to start, which a trial must not touch.
_NO_TRIAL = frozenset({"ui"})


class ProcessInstaller:
    """Releases side by side under the updater's state folder."""

    def __init__(
        self,
        root: Path,
        services: Sequence[str],
        health_timeout: float,
        python: str = sys.executable,
    ) -> None:
        self.root = root
        self.versions = root / "versions"
        self.current_link = root / "current"
        self.previous_link = root / "previous"
        self.services = tuple(services)
        self.health_timeout = health_timeout
        self.python = python

    def current(self) -> str:
        """The release ``current`` points at; empty when there is none."""

        return _link_target(self.current_link)

    def previous(self) -> str:
        """The release ``previous`` points at; empty when there is none."""

        return _link_target(self.previous_link)

    def lib(self, release_id: str) -> Path:
        """The folder a release's packages are installed in."""

        return self.versions / release_id / "lib"

    def install(self, release: Release, artifacts: dict[str, Path]) -> None:
        """Installs the release's wheel into its own folder, atomically."""

        release_id = release.version.release_id
        target = self.versions / release_id

        if (target / "manifest.json").is_file():
            return

        wheels = [artifacts[a.name] for a in release.artifacts if a.kind == "wheel"]

        if len(wheels) != 1:
            raise InstallError(
                f"release {release_id} has {len(wheels)} wheels; process mode "
                "installs exactly one"
            )

        self.versions.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{release_id}.", dir=self.versions))

        try:
            self._pip_install(wheels[0], staging / "lib")
            _write_json(staging / "lib" / "build" / "build-info.json", _build(release))
            _write_json(staging / "manifest.json", release.as_dict())
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

        log.info("Installed release %s in %s", release_id, target)

    def trial(self, release: Release) -> list[str]:
        """Starts the release's services apart from the live ones.

        They run in a scratch folder, with metrics off and a broker address
        where nothing listens, so their presence and sockets never clash
        with the live services'. Each must answer its health check.
        """

        lib = self.lib(release.version.release_id)
        names = [s for s in self.services if s not in _NO_TRIAL]

        with _scratch() as scratch, _closed_port() as dead_port:
            env = _trial_env(scratch, dead_port)
            children = {
                name: _spawn(self.python, name, lib, env, scratch / f"{name}.log")
                for name in names
            }

            try:
                return _await_health(children, scratch, self.health_timeout)
            finally:
                for child in children.values():
                    _stop(child)

    def switch(self, release: Release) -> str:
        """Points ``current`` at the release, and ``previous`` at the old one."""

        old = self.current()
        new = release.version.release_id

        if not (self.versions / new / "manifest.json").is_file():
            raise InstallError(f"release {new} is not installed")

        if old and old != new:
            _point(self.previous_link, old)

        _point(self.current_link, new)
        log.info("Switched from %s to release %s", old or "the original build", new)
        return old

    def restore(self, release_id: str) -> None:
        """Points ``current`` back; empty goes back to the original build."""

        if release_id:
            _point(self.current_link, release_id)
        else:
            self.current_link.unlink(missing_ok=True)
            _fsync_dir(self.root)

        if _link_target(self.previous_link) == release_id:
            self.previous_link.unlink(missing_ok=True)

        log.info("Went back to %s", release_id or "the original build")

    def discard(self, release_id: str) -> None:
        """Removes an installed release that neither link points at."""

        if release_id in {self.current(), _link_target(self.previous_link)}:
            return

        shutil.rmtree(self.versions / release_id, ignore_errors=True)

    def prune(self) -> None:
        """Removes every release but the current and the previous one."""

        if not self.versions.is_dir():
            return

        for folder in self.versions.iterdir():
            if not folder.name.startswith("."):
                self.discard(folder.name)

    def _pip_install(self, wheel: Path, lib: Path) -> None:
        argv = [
            self.python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(lib),
            str(wheel),
        ]

        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstallError(f"pip could not install {wheel.name}: {exc}") from None

        if done.returncode != 0:
            raise InstallError(
                f"pip could not install {wheel.name}: "
                f"{(done.stderr or done.stdout).strip()[-_TAIL:]}"
            )


def _build(release: Release) -> dict[str, str]:
    return {
        "version": release.version.version,
        "build_number": release.version.build_number,
        "commit": release.commit or "unknown",
        "branch": "release",
        "stage": release.channel,
    }


def _link_target(link: Path) -> str:
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return ""


def _point(link: Path, release_id: str) -> None:
    """Makes ``link`` point at ``versions/<release_id>`` in one rename."""

    fresh = link.with_name(f".{link.name}.new")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(Path("versions") / release_id)
    os.replace(fresh, link)
    _fsync_dir(link.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)

    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    # In the system's temporary folder: a Unix socket path must stay under
    # 108 bytes, which a deep state folder would not leave room for.
    folder = Path(tempfile.mkdtemp(prefix="cld-trial-"))

    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _closed_port() -> Iterator[int]:
    """A loopback port held bound but not listening: connections are refused."""

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def _trial_env(scratch: Path, mqtt_port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CLD_") and k != "PYTHONPATH"
    }
    env.update(
        {
            "CLD_STATE_DIR": str(scratch / "state"),
            "CLD_RUNTIME_DIR": str(scratch / "run"),
            "CLD_MQTT_HOST": "127.0.0.1",
            "CLD_MQTT_PORT": str(mqtt_port),
            "CLD_CLOUD_URL": "http://127.0.0.1:9",
            "PYTHONUNBUFFERED": "1",
        }
    )

    for name in ("registration", "inventory", "updater", "tunnel", "ui"):
        env[f"CLD_{name.upper()}_METRICS_PORT"] = "0"

    return env


def _spawn(
    python: str, service: str, lib: Path, env: dict[str, str], log_file: Path
) -> subprocess.Popen[bytes]:
    with log_file.open("wb") as out:
        return subprocess.Popen(
            [python, "-m", f"services.{service}"],
            cwd=lib,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _await_health(
    children: dict[str, subprocess.Popen[bytes]], scratch: Path, timeout: float
) -> list[str]:
    runtime = scratch / "run"
    waiting = dict(children)
    problems: list[str] = []
    deadline = time.monotonic() + timeout

    while waiting and time.monotonic() < deadline:
        for name, child in list(waiting.items()):
            if child.poll() is not None:
                problems.append(
                    f"{name} exited with code {child.returncode}: "
                    f"{_tail(scratch / f'{name}.log')}"
                )
                del waiting[name]
            elif rpc.check_health(runtime, name, timeout=0.5):
                del waiting[name]

        time.sleep(0.1)

    problems.extend(
        f"{name} did not answer its health check within {timeout:.0f}s"
        for name in waiting
    )
    return problems


def _tail(log_file: Path) -> str:
    try:
        text = log_file.read_text(errors="replace").strip()
    except OSError:
        return "no output"

    return text[-_TAIL:] or "no output"


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return

    child.terminate()

    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
