"""A gunicorn worker's own subscription to the retained state it shows."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from services.common.bus import decode
from services.ui.live import WATCHED, LiveState

log = logging.getLogger(__name__)


class BusWatch:
    """Feeds a LiveState from the broker, reconnecting when it drops.

    Each worker runs one, so every worker answers from current state
    without asking the others. It only listens: it has no last will and
    publishes nothing, and its client id is its own, since the master's
    connection already speaks for the ui service on the bus.
    """

    def __init__(self, host: str, port: int, state: LiveState) -> None:
        self.host = host
        self.port = port
        self.state = state
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cld-ui-watch-{os.getpid()}-{secrets.token_hex(3)}",
            clean_session=True,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connects in the background; retained state arrives on connect."""

        self._client.connect_async(self.host, self.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnects."""

        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            log.warning("Broker refused the dashboard's watch: %s", reason)
            return

        client.subscribe([(topic, 1) for topic in WATCHED])

    def _on_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        payload = decode(message)

        if payload is not None:
            self.state.update(message.topic, payload)
