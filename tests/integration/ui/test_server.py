"""The dashboard as a real gunicorn: serves, announces itself, counts, stops fast."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import requests

from services.common import topics
from services.common.bus import Bus, wait_until
from services.ui.backends import NOT_ANSWERING
from tests.integration.common.test_bus import Inbox
from tests.integration.ui.conftest import Dashboard, log_in
from tests.support.processes import Broker, Process, daemon_env


def test_the_dashboard_serves_announces_itself_and_stops_fast(
    tmp_path: Path, mosquitto: Broker
) -> None:
    env = daemon_env(tmp_path, mosquitto.port, "http://127.0.0.1:9")
    status = topics.status("ui")
    inbox = Inbox()
    watcher = Bus("updater", "127.0.0.1", mosquitto.port)
    watcher.subscribe(status, inbox)
    watcher.start()
    dashboard = Dashboard(env, tmp_path)
    dashboard.add_account()
    dashboard.start()

    try:
        assert wait_until(
            lambda: (inbox.last(status) or {}).get("state") == "online", 5
        )

        browser = requests.Session()
        page = log_in(browser, dashboard)
        assert NOT_ANSWERING in page

        # New connections spread over both workers; each must accept the
        # session the other signed.
        for _ in range(6):
            again = browser.get(
                f"{dashboard.url}/", headers={"Connection": "close"}, timeout=5
            )
            assert again.url == f"{dashboard.url}/"

        port = env["CLD_UI_METRICS_PORT"]
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert (
            'cld_ui_requests_total{endpoint="dashboard.index",method="GET",status="200"}'
            in metrics
        )
        assert "cld_ui_request_duration_seconds_bucket" in metrics
        assert "cld_bus_connected 1.0" in metrics
        build = next(m for m in metrics.splitlines() if m.startswith("cld_build_info"))
        assert 'service="ui"' in build

        dashboard.stop()
        assert dashboard.proc is not None
        assert dashboard.proc.returncode == 0
        assert wait_until(
            lambda: (inbox.last(status) or {}).get("state") == "offline", 5
        )

        lines = dashboard.output().splitlines()
        assert lines
        assert all(json.loads(line)["service"] == "ui" for line in lines)
        assert any(json.loads(line)["logger"] == "gunicorn.error" for line in lines)
    finally:
        dashboard.kill()
        watcher.stop()


def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CLD_STATE_DIR": str(tmp_path / "state"),
        "CLD_RUNTIME_DIR": str(tmp_path / "run"),
        "CLD_UI_TRUSTED_PROXIES": "proxy.example",
    }
    argv = [sys.executable, "-m", "services.ui"]
    process = Process("ui", argv, env, tmp_path / "log")
    process.start()
    assert process.proc is not None

    assert process.proc.wait(10) == 2
    assert "CLD_UI_TRUSTED_PROXIES" in process.output()
