"""The ui service as a real gunicorn process, and a browser-like client for it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.processes import ROOT, Process, free_port, wait_for

USER = "alice"
PASSWORD = "correct horse battery"


class Dashboard(Process):
    """``python -m services.ui`` on a free loopback port."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/cld"
        env = {**env, "CLD_UI_BIND": f"127.0.0.1:{self.port}", "CLD_UI_WORKERS": "2"}
        argv = [sys.executable, "-m", "services.ui"]
        super().__init__("ui", argv, env, workdir / "logs" / "ui.log")

    def start(self) -> None:
        super().start()
        wait_for(self.healthy, 20, "the dashboard to answer")

    def healthy(self) -> bool:
        """True when the dashboard answers its health check."""

        assert self.proc is not None

        if self.proc.poll() is not None:
            raise AssertionError(f"ui exited:\n{self.output()[-3000:]}")

        try:
            return requests.get(f"{self.url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def add_account(self, name: str = USER, password: str = PASSWORD) -> None:
        """Adds a dashboard account with the accounts CLI."""

        subprocess.run(
            [sys.executable, "-m", "services.ui.accounts", "add", name],
            input=f"{password}\n",
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(browser: requests.Session, dashboard: Dashboard) -> str:
    """Logs in through the login form; returns the dashboard page."""

    form = browser.get(f"{dashboard.url}/", timeout=5)
    assert form.url.startswith(f"{dashboard.url}/login")

    page = browser.post(
        f"{dashboard.url}/login",
        data={
            "csrf_token": csrf_token(form.text),
            "username": USER,
            "password": PASSWORD,
        },
        timeout=5,
    )
    assert page.status_code == 200, page.text
    assert page.url == f"{dashboard.url}/"
    return page.text


def press(
    browser: requests.Session, dashboard: Dashboard, page: str, action: str
) -> requests.Response:
    """Presses the button posting to ``action`` on ``page``."""

    assert f'action="/cld/{action}"' in page, f"no {action} button on the page"
    return browser.post(
        f"{dashboard.url}/{action}",
        data={"csrf_token": csrf_token(page)},
        timeout=30,
    )
