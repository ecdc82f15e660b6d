"""A local management interface for tests: HTTPS, self-signed, keep-alive.

It answers GET /hello, GET /bytes/<n> (n bytes of a known pattern), POST
/sha256 (the digest of the body, read as it streams in) and a WebSocket
echo at /ws, which is what a PBX's web interface needs from a tunnel.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cloud.relay.certs import self_signed

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PATTERN = bytes(range(256)) * 1024


def pattern(size: int) -> bytes:
    """The first ``size`` bytes /bytes/<size> answers with."""

    repeats = size // len(PATTERN) + 1
    return (PATTERN * repeats)[:size]


def ws_accept(key: str) -> str:
    """The Sec-WebSocket-Accept answer to ``key``."""

    digest = hashlib.sha1((key + WS_GUID).encode()).digest()  # noqa: S324
    return base64.b64encode(digest).decode()


def read_ws_frame(sock: socket.socket) -> bytes:
    """One WebSocket frame's payload (masked or not), read from ``sock``."""

    head = _exactly(sock, 2)
    length = head[1] & 0x7F

    if length == 126:
        length = struct.unpack("!H", _exactly(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _exactly(sock, 8))[0]

    mask = _exactly(sock, 4) if head[1] & 0x80 else b""
    data = _exactly(sock, length)

    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    return data


def ws_frame(payload: bytes, mask: bytes = b"") -> bytes:
    """A final text frame carrying ``payload`` (masked when ``mask`` is given)."""

    size = len(payload)
    flag = 0x80 if mask else 0
    head = bytes([0x81])
    head += (
        bytes([flag | size])
        if size < 126
        else bytes([flag | 126]) + struct.pack("!H", size)
    )

    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    return head + mask + payload


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""

    while len(data) < size:
        chunk = sock.recv(size - len(data))

        if not chunk:
            raise ConnectionError("closed mid-frame")

        data += chunk

    return data


class Handler(BaseHTTPRequestHandler):
    """The interface's pages."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/hello":
            self._answer(b"hello from the PBX")
        elif self.path.startswith("/bytes/"):
            self._stream(int(self.path.removeprefix("/bytes/")))
        elif self.path == "/headers":
            self._answer(str(self.headers).encode())
        elif self.path == "/ws":
            self._websocket()
        else:
            self._answer(b"not here", 404)

    def do_POST(self) -> None:
        digest = hashlib.sha256()
        remaining = int(self.headers.get("Content-Length", "0"))

        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            digest.update(chunk)
            remaining -= len(chunk)

        self._answer(digest.hexdigest().encode())

    def _answer(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        block = PATTERN * 4

        while size:
            part = block[: min(size, len(block))]
            self.wfile.write(part)
            size -= len(part)

    def _websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws_accept(key))
        self.end_headers()
        self.wfile.flush()

        while True:
            try:
                message = read_ws_frame(self.connection)
            except (ConnectionError, OSError):
                break

            self.connection.sendall(ws_frame(b"echo: " + message))

        self.close_connection = True


class Origin:
    """The interface, served over HTTPS on a loopback port."""

    def __init__(self, workdir: Path, tls: bool = True) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"

        if tls:
            cert, key = self_signed(["127.0.0.1"])
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / "origin-cert.pem").write_bytes(cert)
            (workdir / "origin-key.pem").write_bytes(key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(
                workdir / "origin-cert.pem", workdir / "origin-key.pem"
            )
            self.server.socket = context.wrap_socket(
                self.server.socket, server_side=True
            )

        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """The local address a profile names for it."""

        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serves in a thread."""

        self._thread.start()

    def stop(self) -> None:
        """Stops serving."""

        self.server.shutdown()
        self.server.server_close()
