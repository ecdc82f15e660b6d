"""A remote server's Unix socket, forwarded to a local one by the ssh client.

The tool reaches an ssh:// server's Podman API and its registration service
through such a forward. The ssh client does the work, so the operator's own
ssh set-up (agent, config, jump hosts) applies; the servers file may name
the key and the known-hosts file to use. An unknown host key is refused.

sshd connects to the remote socket by its path, so the path must fit in a
Unix socket address (107 bytes); a longer one shows only as a connection
the server closes. Podman's default paths are far shorter.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from maintenance.servers import Server

FORWARD_TIMEOUT = 20.0
CONNECT_TIMEOUT = 10
STOP_TIMEOUT = 5.0

# How much of ssh's own complaint goes into the error.
REASON_TAIL = 400


class ForwardError(RuntimeError):
    """The socket could not be forwarded; the message names the server and why."""


def destination(server: Server) -> str:
    """``USER@HOST`` (or ``HOST``) from the server's ssh:// address."""

    url = urlsplit(server.url)
    host = url.hostname or ""
    return f"{url.username}@{host}" if url.username else host


def ssh_argv(ssh: str, server: Server, local: Path, remote: str) -> list[str]:
    """The ssh command forwarding ``remote`` on ``server`` to ``local`` here."""

    argv = [
        ssh,
        "-N",
        "-o",
        "BatchMode=yes",
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        f"ConnectTimeout={CONNECT_TIMEOUT}",
        # Never trust a host key seen for the first time: the API socket
        # gives root on the server.
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "LogLevel=ERROR",
    ]

    if server.identity:
        argv += ["-i", server.identity, "-o", "IdentitiesOnly=yes"]

    if server.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={server.known_hosts}"]

    port = urlsplit(server.url).port

    if port:
        argv += ["-p", str(port)]

    return [*argv, "-L", f"{local}:{remote}", destination(server)]


def missing_files(server: Server) -> list[str]:
    """The identity or known-hosts files the server names that are not there."""

    named = {"identity": server.identity, "known_hosts": server.known_hosts}
    return [
        f"{key} {path} does not exist"
        for key, path in named.items()
        if path and not Path(path).is_file()
    ]


@contextlib.contextmanager
def forward(server: Server, remote: str) -> Iterator[Path]:
    """A local socket reaching ``remote`` on ``server`` while the block runs."""

    ssh = shutil.which("ssh")

    if ssh is None:
        raise ForwardError(
            f"{server.name}: ssh is not installed; it is needed to reach the server"
        )

    missing = missing_files(server)

    if missing:
        raise ForwardError(f"{server.name}: {'; '.join(missing)}")

    with tempfile.TemporaryDirectory(prefix="cld-ssh.") as scratch:
        local = Path(scratch) / "forward.sock"
        complaints = Path(scratch) / "ssh.err"

        with complaints.open("wb") as err:
            process = subprocess.Popen(
                ssh_argv(ssh, server, local, remote),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

        try:
            _wait_for(process, local)
        except ForwardError as exc:
            _stop(process)
            reason = complaints.read_text(errors="replace").strip()[-REASON_TAIL:]
            raise ForwardError(
                f"{server.name}: cannot reach {destination(server)} over ssh: "
                f"{reason or exc}"
            ) from None

        try:
            yield local
        finally:
            _stop(process)


def _wait_for(process: subprocess.Popen[bytes], local: Path) -> None:
    deadline = time.monotonic() + FORWARD_TIMEOUT

    while not local.exists():
        if process.poll() is not None:
            raise ForwardError(f"ssh ended with status {process.returncode}")

        if time.monotonic() > deadline:
            raise ForwardError(f"no forward after {FORWARD_TIMEOUT:.0f}s")

        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return

    process.terminate()

    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
