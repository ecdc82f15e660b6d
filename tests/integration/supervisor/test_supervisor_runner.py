"""The supervisor's loop on stand-in children: restarts, stopping order, kills."""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from supervisor import runner
from supervisor.children import RUNNING
from supervisor.plan import ChildSpec, Options
from supervisor.runner import Supervisor
from tests.support.processes import wait_for


class Ready:
    """A probe that is always satisfied."""

    def ready(self) -> bool:
        return True


def child(tmp_path: Path, name: str, stage: int, code: str) -> ChildSpec:
    return ChildSpec(
        name=name,
        argv=(sys.executable, "-c", code),
        env={"PYTHONUNBUFFERED": "1"},
        probe=Ready(),
        stage=stage,
        log_file=tmp_path / "logs" / f"{name}.log",
        cwd=tmp_path,
    )


def run_until(supervisor: Supervisor, done: threading.Event) -> int:
    """Runs ``supervisor`` in this thread until ``done``, then stops it."""

    def stop_when_done() -> None:
        done.wait(15)
        supervisor.stopping.set()

    stopper = threading.Thread(target=stop_when_done)
    stopper.start()

    try:
        return supervisor.run()
    finally:
        done.set()
        stopper.join()


SLEEPER = "import time; print('up', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); time.sleep(60)"
)


@pytest.mark.timeout(20)
def test_a_crashing_child_is_restarted_with_its_exit_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    specs = [
        child(tmp_path, "steady", 0, SLEEPER),
        child(tmp_path, "crasher", 1, "print('out of luck'); raise SystemExit(3)"),
        replace(child(tmp_path, "missing", 1, ""), argv=("/nonexistent/program",)),
    ]
    supervisor = Supervisor(Options(run_dir=tmp_path, only=()), specs, os.environ)
    crasher, missing = supervisor.children[1], supervisor.children[2]
    done = threading.Event()

    def watch() -> None:
        wait_for(
            lambda: crasher.restarts >= 2 and missing.restarts >= 2,
            10,
            "two restarts of each failing child",
        )
        done.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert run_until(supervisor, done) == 0
    watcher.join()

    assert "crasher exited with code 3 after" in caplog.text
    assert "restarting in 0.5 s" in caplog.text
    assert "restarting in 1.0 s" in caplog.text
    assert "\n    out of luck" in caplog.text
    assert "Cannot start missing: [Errno 2]" in caplog.text
    assert "missing could not be started" in caplog.text
    assert supervisor.children[0].restarts == 0
    assert {c.state for c in supervisor.children} == {"stopped"}


@pytest.mark.timeout(20)
def test_stopping_goes_stage_by_stage_and_kills_what_ignores_sigterm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(runner, "STOP_WAIT", 0.5)
    specs = [
        child(tmp_path, "broker", 0, SLEEPER),
        child(tmp_path, "stubborn", 1, STUBBORN),
        child(tmp_path, "service", 1, SLEEPER),
    ]
    supervisor = Supervisor(Options(run_dir=tmp_path, only=()), specs, os.environ)
    done = threading.Event()

    def watch() -> None:
        # The stand-ins print once their SIGTERM handling is in place.
        wait_for(
            lambda: all(
                c.state == RUNNING and c.spec.log_file.read_text() == "up\n"
                for c in supervisor.children
            ),
            10,
            "every stand-in to be up",
        )
        done.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert run_until(supervisor, done) == 0
    watcher.join()

    broker, stubborn, service = supervisor.children
    assert service.exit_code == -15
    assert stubborn.exit_code == -9
    assert broker.exit_code == -15
    assert "stubborn did not stop in time; killing it" in caplog.text
    assert caplog.text.index("Stopping service, stubborn") < caplog.text.index(
        "Stopping broker"
    )
