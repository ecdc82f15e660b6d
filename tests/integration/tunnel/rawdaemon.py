"""A daemon's side of the relay protocol spoken by hand, over real TLS."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from services.tunnel import wire
from services.tunnel.wire import Frame, FrameBuffer, ProtocolError


class RawPeer:
    """One TLS connection speaking frames, for poking at the other side."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock
        self.buffer = FrameBuffer()
        self.pending: list[Frame] = []

    @classmethod
    def connect(cls, port: int, ca_file: Path) -> RawPeer:
        context = ssl.create_default_context(cafile=str(ca_file))
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        return cls(context.wrap_socket(raw, server_hostname="127.0.0.1"))

    def send(self, frame: Frame) -> None:
        self.sock.sendall(wire.encode(frame))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> Frame | None:
        """The next frame, or None once the peer closed the connection."""

        while not self.pending:
            try:
                data = self.sock.recv(65536)
            except (ConnectionError, ssl.SSLError):
                return None

            if not data:
                return None

            self.pending.extend(self.buffer.feed(data))

        return self.pending.pop(0)

    def closed_after(self) -> list[Frame]:
        """Every frame until the peer closes; fails if it does not."""

        frames = []

        while (frame := self.receive()) is not None:
            frames.append(frame)

        return frames

    def close(self) -> None:
        self.sock.close()


__all__ = ["ProtocolError", "RawPeer"]
