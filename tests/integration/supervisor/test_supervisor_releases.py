"""The supervisor follows the updater's release switches."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from supervisor.children import RUNNING
from supervisor.plan import Options
from supervisor.releases import FAILED_STARTS, Releases
from supervisor.runner import Supervisor
from tests.integration.supervisor.test_supervisor_runner import child, run_until
from tests.support.processes import wait_for

# Writes the folder it runs in, then idles: where a service would import from.
SHOW_CWD = "import os, time; print('cwd', os.getcwd(), flush=True); time.sleep(60)"


class FileProbe:
    """Ready once the child has made a file, as a health check would pass."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ready(self) -> bool:
        return self.path.exists()


def install(state_dir: Path, release: str) -> Path:
    lib = state_dir / "updater" / "versions" / release / "lib"
    lib.mkdir(parents=True)
    return lib


def point(state_dir: Path, link: str, release: str) -> None:
    path = state_dir / "updater" / link
    fresh = path.with_name(f".{link}.new")
    fresh.symlink_to(Path("versions") / release)
    os.replace(fresh, path)


def test_services_start_from_the_source_until_a_release_is_current(
    tmp_path: Path,
) -> None:
    releases = Releases(tmp_path / "state", tmp_path / "src")

    assert releases.cwd() == tmp_path / "src"
    assert releases.switched() is None

    lib = install(tmp_path / "state", "0.2.0+2")
    point(tmp_path / "state", "current", "0.2.0+2")

    assert releases.cwd() == lib
    assert releases.switched() == "0.2.0+2"
    assert releases.switched() is None


def test_undo_goes_back_to_the_previous_release(tmp_path: Path) -> None:
    state = tmp_path / "state"
    old, new = install(state, "0.1.0+1"), install(state, "0.2.0+2")
    point(state, "previous", "0.1.0+1")
    point(state, "current", "0.2.0+2")
    releases = Releases(state, tmp_path / "src")
    assert releases.cwd() == new

    releases.undo()

    assert releases.cwd() == old


@pytest.mark.timeout(30)
def test_a_switch_restarts_each_service_in_the_new_release(tmp_path: Path) -> None:
    state = tmp_path / "state"
    options = Options(run_dir=tmp_path, only=())
    specs = [
        replace(child(tmp_path, name, 0, SHOW_CWD), follows_release=True)
        for name in ("registration", "inventory")
    ]
    supervisor = Supervisor(options, specs, os.environ)
    first, second = supervisor.children
    done = threading.Event()
    lib = install(state, "0.2.0+2")

    def switch() -> None:
        wait_for(lambda: first.state == RUNNING and second.state == RUNNING, 10, "up")
        old = (first.pid, second.pid)
        point(state, "current", "0.2.0+2")
        wait_for(
            lambda: (
                first.pid != old[0] and second.pid != old[1] and second.state == RUNNING
            ),
            20,
            "both services replaced",
        )
        done.set()

    watcher = threading.Thread(target=switch)
    watcher.start()
    assert run_until(supervisor, done) == 0
    watcher.join()

    for name in ("registration", "inventory"):
        log = (tmp_path / "logs" / f"{name}.log").read_text()
        assert f"cwd {lib}" in log
    assert first.restarts == 0


@pytest.mark.timeout(40)
def test_a_release_whose_updater_cannot_start_is_undone(tmp_path: Path) -> None:
    state = tmp_path / "state"
    install(state, "0.1.0+1")
    install(state, "0.2.0+2")
    point(state, "current", "0.1.0+1")
    ready = tmp_path / "ready"
    crash_in_new = (
        "import os, pathlib, sys, time\n"
        "if '0.2.0' in os.getcwd(): sys.exit(4)\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(60)\n"
    )
    spec = replace(
        child(tmp_path, "updater", 0, crash_in_new),
        follows_release=True,
        probe=FileProbe(ready),
    )
    supervisor = Supervisor(Options(run_dir=tmp_path, only=()), [spec], os.environ)
    updater = supervisor.children[0]
    done = threading.Event()

    def switch_then_wait() -> None:
        wait_for(lambda: updater.state == RUNNING, 10, "the updater to run")
        ready.unlink()
        point(state, "previous", "0.1.0+1")
        point(state, "current", "0.2.0+2")
        wait_for(
            lambda: (
                os.readlink(state / "updater" / "current").endswith("0.1.0+1")
                and updater.state == RUNNING
            ),
            30,
            "the switch to be undone",
        )
        done.set()

    watcher = threading.Thread(target=switch_then_wait)
    watcher.start()
    assert run_until(supervisor, done) == 0
    watcher.join()

    assert updater.restarts >= FAILED_STARTS
