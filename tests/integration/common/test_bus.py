"""The bus against a real Mosquitto."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from services.common import topics
from services.common.bus import Bus, wait_until
from tests.support.processes import ROOT, Broker


class Inbox:
    """Collects what a subscriber receives."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append((topic, payload))

    def last(self, topic: str) -> dict[str, Any] | None:
        with self.lock:
            found = [p for t, p in self.messages if t == topic]

        return found[-1] if found else None


def test_retained_state_reaches_a_late_subscriber(mosquitto: Broker) -> None:
    owner = Bus("registration", "127.0.0.1", mosquitto.port)
    owner.start()
    assert owner.wait_connected(5)
    owner.publish_state(topics.LINK, {"state": "linked", "account_name": "Acme"})

    inbox = Inbox()
    reader = Bus("ui", "127.0.0.1", mosquitto.port)
    reader.subscribe(topics.LINK, inbox)
    reader.start()

    assert wait_until(lambda: inbox.last(topics.LINK) is not None, 5)
    assert inbox.last(topics.LINK)["account_name"] == "Acme"  # type: ignore[index]

    owner.stop()
    reader.stop()


def test_online_then_offline_on_a_clean_stop(mosquitto: Broker) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe(topics.ALL_STATUS, inbox)
    watcher.start()

    service = Bus("tunnel", "127.0.0.1", mosquitto.port)
    service.start()
    status = topics.status("tunnel")
    assert wait_until(lambda: (inbox.last(status) or {}).get("state") == "online", 5)

    service.stop()
    assert wait_until(lambda: (inbox.last(status) or {}).get("state") == "offline", 5)
    watcher.stop()


def test_a_killed_service_is_announced_offline_by_its_will(
    mosquitto: Broker,
) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe(topics.ALL_STATUS, inbox)
    watcher.start()
    script = (
        "import time\n"
        "from services.common.bus import Bus\n"
        f"b = Bus('updater', '127.0.0.1', {mosquitto.port}); b.start()\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    status = topics.status("updater")

    try:
        assert wait_until(
            lambda: (inbox.last(status) or {}).get("state") == "online", 10
        )
        child.kill()
        child.wait()

        # The broker sends the will once the keepalive lapses or the socket
        # closes; a kill closes the socket at once.
        assert wait_until(
            lambda: (inbox.last(status) or {}).get("state") == "offline", 10
        )
    finally:
        child.kill()
        watcher.stop()


def test_a_service_started_before_the_broker_connects_later(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "late")
    service = Bus("inventory", "127.0.0.1", broker.port)
    service.start()
    service.publish_state(topics.topic("inventory", "report"), {"last": "never"})

    assert not service.wait_connected(0.5)

    broker.start()

    try:
        assert service.wait_connected(10)

        inbox = Inbox()
        reader = Bus("ui", "127.0.0.1", broker.port)
        reader.subscribe(topics.topic("inventory", "report"), inbox)
        reader.start()
        assert wait_until(
            lambda: inbox.last(topics.topic("inventory", "report")) is not None, 5
        )
        reader.stop()
    finally:
        service.stop()
        broker.stop()


def test_retained_state_is_restored_after_a_broker_restart(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "restart")
    broker.start()
    owner = Bus("registration", "127.0.0.1", broker.port)
    owner.start()
    assert owner.wait_connected(5)
    owner.publish_state(topics.LINK, {"state": "not_linked"})

    # The broker keeps no persistence here, so it forgets retained messages;
    # the owner must send them again when it reconnects.
    broker.stop()
    assert wait_until(lambda: not owner.connected.is_set(), 5)
    broker.start()

    try:
        assert owner.wait_connected(15)
        inbox = Inbox()
        reader = Bus("ui", "127.0.0.1", broker.port)
        reader.subscribe(topics.LINK, inbox)
        reader.start()
        assert wait_until(lambda: inbox.last(topics.LINK) is not None, 5)
        assert inbox.last(topics.LINK) == {
            "state": "not_linked",
            "at": inbox.last(topics.LINK)["at"],  # type: ignore[index]
        }
        reader.stop()
    finally:
        owner.stop()
        broker.stop()
