"""The whole daemon under its supervisor: log in, link, restart, disconnect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.browser import cloud_sign_in, submit
from tests.support.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.e2e


class Daemon:
    """``python -m supervisor`` in a test's own run folder."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.ui_port = free_port()
        self.cloud_port = free_port()
        command = [
            sys.executable,
            "-m",
            "supervisor",
            "--run-dir",
            str(run_dir),
            "--ui-port",
            str(self.ui_port),
            "--cloud-port",
            str(self.cloud_port),
            "--mqtt-port",
            str(free_port()),
            "--metrics-port-base",
            "0",
        ]
        self.output = run_dir.parent / "supervisor.out"
        run_dir.parent.mkdir(parents=True, exist_ok=True)

        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}/cld/"

    def status(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.run_dir / "supervisor.json").read_text()))
        except (OSError, ValueError):
            return {}

    def child(self, name: str) -> dict[str, Any]:
        return next(c for c in self.status()["children"] if c["name"] == name)

    def all_running(self) -> bool:
        children = self.status().get("children", [])
        return bool(children) and all(c["state"] == "running" for c in children)

    def password(self) -> str:
        return (self.run_dir / "dashboard-login.txt").read_text().split()[-1]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    running = Daemon(tmp_path / "run")

    try:
        wait_for(running.all_running, 60, "every child to run")
        yield running
    finally:
        if running.proc.poll() is None:
            running.stop()

        if os.environ.get("CI"):
            sys.stdout.write(running.output.read_text(errors="replace")[-4000:])


def log_in(daemon: Daemon) -> requests.Session:
    browser = requests.Session()
    page = browser.get(daemon.dashboard, timeout=10)
    assert "Log in" in page.text

    answer = submit(
        browser,
        page,
        {"username": "admin", "password": daemon.password()},
        action="/login",
        follow=True,
    )
    assert "Link to CloudLink" in answer.text
    return browser


def test_link_restart_and_disconnect_from_the_dashboard(daemon: Daemon) -> None:
    browser = log_in(daemon)
    dashboard = browser.get(daemon.dashboard, timeout=10)

    # The dashboard sends the browser to the cloud's sign-in page...
    to_cloud = submit(browser, dashboard, {}, action="/link")
    assert to_cloud.status_code in {302, 303}
    authorize_url = to_cloud.headers["Location"]
    assert authorize_url.startswith(f"http://127.0.0.1:{daemon.cloud_port}/")

    # ...which sends it back to the dashboard with a code once signed in.
    back = cloud_sign_in(browser, authorize_url, "admin@acme.example", "acme-admin-1")
    assert back.status_code in {302, 303}
    linked = browser.get(back.headers["Location"], timeout=20)
    assert "Acme Dental" in linked.text
    assert "Disconnect from CloudLink" in linked.text

    # The link is the registration service's state: it survives its restart.
    old_pid = daemon.child("registration")["pid"]
    os.kill(old_pid, signal.SIGKILL)
    wait_for(
        lambda: (
            daemon.child("registration")["pid"] != old_pid
            and daemon.child("registration")["state"] == "running"
        ),
        30,
        "the registration service to be restarted",
    )
    again = browser.get(daemon.dashboard, timeout=10)
    assert "Acme Dental" in again.text
    assert "100001" in again.text

    unlinked = submit(browser, again, {}, action="/unlink", follow=True)
    assert "Link to CloudLink" in unlinked.text
    assert "Acme Dental" not in unlinked.text

    assert daemon.stop() == 0
