"""Retained bus state reaching the dashboard's workers, through a real broker."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.publish as mqtt_publish
import requests

from services.common.bus import Bus, wait_until
from services.ui.live import CLOCK_DRIFT, GATEWAY, LiveState
from services.ui.watch import BusWatch
from tests.integration.ui.conftest import Dashboard, log_in
from tests.support.processes import Broker, daemon_env


def test_a_watch_keeps_the_latest_retained_state_and_forgets_cleared_topics(
    mosquitto: Broker,
) -> None:
    tunnel = Bus("tunnel", "127.0.0.1", mosquitto.port)
    tunnel.start()
    assert tunnel.wait_connected(5)
    tunnel.publish_state(CLOCK_DRIFT, {"drift_seconds": 12.0})

    # Joins after the state was published: retained messages bring it.
    live = LiveState()
    watch = BusWatch("127.0.0.1", mosquitto.port, live)
    watch.start()

    try:
        assert wait_until(lambda: live.get(CLOCK_DRIFT).get("drift_seconds") == 12.0, 5)

        tunnel.publish_state(CLOCK_DRIFT, {"drift_seconds": 80.5})
        assert wait_until(lambda: live.get(CLOCK_DRIFT).get("drift_seconds") == 80.5, 5)

        mqtt_publish.single(
            CLOCK_DRIFT, b"", retain=True, hostname="127.0.0.1", port=mosquitto.port
        )
        assert wait_until(lambda: live.get(CLOCK_DRIFT) == {}, 5)
    finally:
        watch.stop()
        tunnel.stop()


def test_every_worker_shows_state_published_after_it_started(
    tmp_path: Path, mosquitto: Broker
) -> None:
    env = daemon_env(tmp_path, mosquitto.port, "http://127.0.0.1:9")
    dashboard = Dashboard(env, tmp_path)
    dashboard.add_account()
    dashboard.start()
    inventory = Bus("inventory", "127.0.0.1", mosquitto.port)
    inventory.start()

    try:
        browser = requests.Session()
        page = log_in(browser, dashboard)
        assert "CloudLink Gateway is installed" not in page

        assert inventory.wait_connected(5)
        inventory.publish_state(
            GATEWAY, {"installed": True, "version": "2.4.1", "status_url": ""}
        )

        # Each new connection may land on either of the two workers.
        def shown_by_both() -> bool:
            answers = [
                browser.get(
                    f"{dashboard.url}/panels",
                    headers={"Connection": "close"},
                    timeout=5,
                ).json()["panels"]["gateway"]["html"]
                for _ in range(6)
            ]
            return all("CloudLink Gateway is installed" in a for a in answers)

        assert wait_until(shown_by_both, 10)
    finally:
        inventory.stop()
        dashboard.stop()
