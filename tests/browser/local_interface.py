"""A component's local web interface for the browser tests: one HTTPS page."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cloud.relay.certs import self_signed

TITLE = "Test PBX administration"

PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title></head>
<body><h1>{TITLE}</h1><p>Extensions: 42 · Trunks: 2</p></body></html>
""".encode()


class _Pages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        status, body = (200, PAGE) if self.path == "/" else (404, b"not here")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LocalInterface:
    """The page, served over HTTPS with a self-signed certificate on loopback."""

    def __init__(self, workdir: Path) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
        self.server.daemon_threads = True
        cert, key = self_signed(["127.0.0.1"])
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "cert.pem").write_bytes(cert)
        (workdir / "key.pem").write_bytes(key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(workdir / "cert.pem", workdir / "key.pem")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """The local address the platform profile names."""

        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        """Serves in a thread."""

        self._thread.start()

    def stop(self) -> None:
        """Stops serving."""

        self.server.shutdown()
        self.server.server_close()
