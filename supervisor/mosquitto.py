"""The local broker's configuration, written into the run folder."""

from __future__ import annotations

import os
import pwd
from pathlib import Path


def config(host: str, port: int, data_dir: Path, user: str) -> str:
    """A Mosquitto config for one loopback listener with anonymous clients.

    No ``pid_file``: the packaged default fails in a container where its
    folder cannot be written, and the supervisor knows the pid anyway. The
    services' retained state is kept in ``data_dir`` across broker restarts.
    """

    lines = [
        f"listener {port} {host}",
        "allow_anonymous true",
        "persistence true",
        # Mosquitto appends the file name to this folder as is.
        f"persistence_location {data_dir}/",
        "log_dest stdout",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        # Run as root, Mosquitto would switch to the "mosquitto" user, which
        # cannot write the persistence database in a developer's run folder.
        f"user {user}",
    ]
    return "\n".join(lines) + "\n"


def write_config(host: str, port: int, data_dir: Path) -> Path:
    """Writes the config into ``data_dir``; returns its path."""

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "mosquitto.conf"
    user = pwd.getpwuid(os.getuid()).pw_name
    path.write_text(config(host, port, data_dir, user))
    return path
