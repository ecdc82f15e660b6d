"""A small HTTP CONNECT proxy for tests: records requests, may want credentials.

It runs an asyncio loop in a thread of the test process. Every request head
is recorded (method, target, Proxy-Authorization); a CONNECT with the right
credentials (or any, when none are required) gets 200 and the bytes are
relayed both ways; a CONNECT without them gets 407; anything else gets 405.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ProxyRequest:
    """One request head the proxy received."""

    method: str
    target: str
    authorization: str


class ConnectProxy:
    """The proxy on 127.0.0.1; ``url`` is what a client is configured with."""

    def __init__(self, username: str = "", password: str = "") -> None:
        self.username = username
        self.password = password
        self.requests: list[ProxyRequest] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, username: str = "", password: str = "") -> str:
        """The proxy URL, with the credentials given (not necessarily right)."""

        userinfo = f"{username}:{password}@" if username else ""
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        """Listens (on ``port``, or any free one) and serves in a thread."""

        if not self._thread.is_alive():
            self._thread.start()

        self.port = asyncio.run_coroutine_threadsafe(
            self._listen(port), self._loop
        ).result(10)

    def stop(self) -> None:
        """Stops listening and drops every relayed connection."""

        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)

    def shutdown(self) -> None:
        """Stops the proxy for good."""

        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def connects(self) -> list[ProxyRequest]:
        """The CONNECT requests received so far."""

        return [r for r in list(self.requests) if r.method == "CONNECT"]

    async def _listen(self, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

        for task in list(self._tasks):
            task.cancel()

        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)

        try:
            await self._answer(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, target, _ = head.split("\r\n", 1)[0].split(" ", 2)
        headers = dict(
            line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line
        )
        authorization = next(
            (
                v.strip()
                for k, v in headers.items()
                if k.lower() == "proxy-authorization"
            ),
            "",
        )
        self.requests.append(ProxyRequest(method, target, authorization))

        if method != "CONNECT":
            writer.write(
                b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
            )
            return

        if self.username and authorization != self._expected():
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
            )
            return

        host, _, port = target.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(
            host.strip("[]"), int(port)
        )
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        try:
            await asyncio.gather(_relay(reader, up_writer), _relay(up_reader, writer))
        finally:
            up_writer.close()

    def _expected(self) -> str:
        secret = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(secret).decode()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

        if writer.can_write_eof():
            writer.write_eof()
