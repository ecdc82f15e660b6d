"""The local MQTT bus: retained state, events, and each service's presence."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from services.common import topics

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]

# Keys whose values are credentials. The bus is readable by every local
# process, so a payload carrying one is refused before it is sent.
_SECRET_KEYS = {
    "access_token",
    "refresh_token",
    "token",
    "password",
    "secret",
    "code_verifier",
    "authorization",
}


class SecretOnBusError(ValueError):
    """A payload for the bus carries a credential."""


def check_no_secrets(payload: Any, path: str = "") -> None:
    """Raises SecretOnBusError when ``payload`` holds a credential anywhere."""

    if isinstance(payload, dict):
        for key, value in payload.items():
            where = f"{path}.{key}" if path else str(key)

            if str(key).lower() in _SECRET_KEYS:
                raise SecretOnBusError(f"refusing to publish a secret at {where}")

            check_no_secrets(value, where)

    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            check_no_secrets(value, f"{path}[{index}]")


def decode(message: mqtt.MQTTMessage) -> dict[str, Any] | None:
    """A message's JSON object; None (and a warning) when it is not one."""

    try:
        payload = json.loads(message.payload) if message.payload else {}
    except ValueError:
        log.warning("Ignoring a message on %s that is not JSON", message.topic)
        return None

    if not isinstance(payload, dict):
        log.warning("Ignoring a message on %s that is not an object", message.topic)
        return None

    return payload


def now_iso() -> str:
    """The current time as the bus writes it."""

    return datetime.now(UTC).isoformat(timespec="seconds")


class Bus:
    """One service's connection to the local broker.

    The connection is made in the background and remade with backoff when it
    drops, so a service starts even while the broker is down. Retained state
    this service published is sent again on every reconnect, because a
    restarted broker without persistence has forgotten it.
    """

    def __init__(self, service: str, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._retained: dict[str, bytes] = {}
        self._handlers: dict[str, list[Handler]] = {}
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cld-{service}",
            clean_session=True,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.will_set(
            topics.status(service), self._encode({"state": "offline"}), 1, True
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connects in the background and announces this service online."""

        self._retained[topics.status(self.service)] = self._encode({"state": "online"})
        self._client.connect_async(self.host, self.port, keepalive=15)
        self._client.loop_start()

    def stop(self, timeout: float = 1.0) -> None:
        """Announces this service offline and disconnects."""

        if self.connected.is_set():
            info = self._client.publish(
                topics.status(self.service),
                self._encode({"state": "offline"}),
                qos=1,
                retain=True,
            )

            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.warning("Could not announce offline before stopping")

        self._client.disconnect()
        self._client.loop_stop()

    def close_in_child(self) -> None:
        """In a forked child, drops its copy of the broker connection.

        Only the descriptor is closed, with no MQTT goodbye, so the parent's
        connection is untouched; without this, a killed parent's last will
        would wait for the children to let go of the socket.
        """

        sock = self._client.socket()

        # Detached first, so the socket object never closes a reused number.
        if isinstance(sock, socket.socket):
            os.close(sock.detach())

    def wait_connected(self, timeout: float) -> bool:
        """True once connected to the broker, False after ``timeout`` s."""

        return self.connected.wait(timeout)

    def publish_state(self, topic: str, payload: dict[str, Any]) -> None:
        """Publishes the latest state of a subject, retained."""

        data = self._encode(payload)

        with self._lock:
            self._retained[topic] = data

        self._client.publish(topic, data, qos=1, retain=True)

    def publish_event(self, topic: str, payload: dict[str, Any]) -> None:
        """Publishes a one-off event, not retained."""

        self._client.publish(topic, self._encode(payload), qos=1, retain=False)

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Calls ``handler(topic, payload)`` for each message on the filter."""

        with self._lock:
            self._handlers.setdefault(topic_filter, []).append(handler)

        if self.connected.is_set():
            self._client.subscribe(topic_filter, qos=1)

    def _encode(self, payload: dict[str, Any]) -> bytes:
        check_no_secrets(payload)
        return json.dumps({**payload, "at": now_iso()}).encode()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            log.warning("Broker refused the connection: %s", reason)
            return

        log.info("Connected to the bus at %s:%s", self.host, self.port)

        with self._lock:
            retained = dict(self._retained)
            filters = list(self._handlers)

        for topic_filter in filters:
            client.subscribe(topic_filter, qos=1)

        for topic, data in retained.items():
            client.publish(topic, data, qos=1, retain=True)

        self.connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()

        if was_connected and reason.is_failure:
            log.warning("Lost the bus (%s); reconnecting", reason)

    def _on_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        payload = decode(message)

        if payload is None:
            return

        with self._lock:
            matching = [
                handler
                for topic_filter, handlers in self._handlers.items()
                if mqtt.topic_matches_sub(topic_filter, message.topic)
                for handler in handlers
            ]

        for handler in matching:
            try:
                handler(message.topic, payload)
            except Exception:
                log.exception("Handler for %s failed", message.topic)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Polls ``predicate`` until true or ``timeout`` seconds pass."""

    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        if predicate():
            return True

        time.sleep(0.02)

    return predicate()
