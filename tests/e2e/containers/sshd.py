"""A private sshd on loopback, and the client files that reach it as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import Process, free_port, port_open, wait_for

SSHD = "/usr/sbin/sshd"

# Its own keys, files and port: nothing of the machine's ssh set-up is used.
# StrictModes is off because the test's folders sit below the world-writable
# /tmp, which sshd would otherwise refuse to read an authorized key from.
# TCP forwarding stays on for local forwards: sshd 9.2 turned off refuses
# Unix socket forwards too.
SSHD_CONFIG = """\
ListenAddress 127.0.0.1:{port}
HostKey {folder}/host_ed25519
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding local
AllowStreamLocalForwarding local
PermitTTY no
X11Forwarding no
"""


@dataclass(frozen=True)
class ClientFiles:
    """What the tool needs to reach the sshd: a key and the known host key."""

    identity: Path
    known_hosts: Path


def sshd_problem() -> str:
    """Why a private sshd cannot run here; empty when it can."""

    if not os.access(SSHD, os.X_OK):
        return "sshd is not installed (scripts/system-deps.sh installs it as root)"

    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "the ssh client is not installed"

    if os.geteuid() != 0:
        return "the private sshd logs in as root and needs root"

    return ""


def keygen(path: Path, comment: str) -> None:
    """A new ed25519 key pair at ``path`` and ``path``.pub, without passphrase."""

    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
        check=True,
        timeout=30,
    )


class Sshd(Process):
    """``sshd -D -e`` with its own config, host key and one authorized key."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.config = folder / "sshd_config"
        super().__init__(
            "sshd",
            [SSHD, "-D", "-e", "-f", str(self.config)],
            dict(os.environ),
            folder / "sshd.log",
        )
        self.client = self._prepare()

    def _prepare(self) -> ClientFiles:
        host_key = self.folder / "host_ed25519"
        keygen(host_key, "cld-test-host")
        identity = self.folder / "client_ed25519"
        keygen(identity, "cld-test-client")
        authorized = self.folder / "authorized_keys"
        shutil.copyfile(identity.with_suffix(".pub"), authorized)
        authorized.chmod(0o600)

        # ssh records a host on another port than 22 as [HOST]:PORT.
        public = host_key.with_suffix(".pub").read_text().split()
        known_hosts = self.folder / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")

        self.config.write_text(SSHD_CONFIG.format(port=self.port, folder=self.folder))
        return ClientFiles(identity=identity, known_hosts=known_hosts)

    def start(self) -> None:
        """Starts sshd and waits until it accepts connections."""

        # sshd refuses to start without its privilege separation folder,
        # which the package's service would otherwise make at boot.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        super().start()
        wait_for(lambda: port_open(self.port) or self.exited(), 15, "sshd to listen")

        if self.exited():
            raise AssertionError(f"sshd did not start:\n{self.output()}")

    def exited(self) -> bool:
        """True when the sshd process has ended."""

        return self.proc is not None and self.proc.poll() is not None
