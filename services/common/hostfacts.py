"""Reading the host's files below a host root folder, never outside it.

Production reads below ``/``; tests build a fake host in a folder and point
the same code at it. Every reader answers None (or empty) for what is
missing or unreadable, because a host lacking a file is a fact, not an error.
"""

from __future__ import annotations

import re
from pathlib import Path

# Version files and configuration snippets are small; a larger file is not
# what a profile meant to read.
MAX_READ = 1024 * 1024

_LISTEN = "0A"


def host_path(host_root: Path, relative: str) -> Path:
    """``relative`` below ``host_root``; leading slashes are ignored."""

    return host_root / relative.lstrip("/")


def read_text(host_root: Path, relative: str) -> str | None:
    """The text of a host file, or None when it is missing or unreadable."""

    try:
        with host_path(host_root, relative).open("rb") as f:
            return f.read(MAX_READ).decode("utf-8", errors="replace")
    except OSError:
        return None


def listening_ports(host_root: Path) -> set[int]:
    """TCP ports in the LISTEN state, from proc/net/tcp and tcp6."""

    ports: set[int] = set()

    for name in ("proc/net/tcp", "proc/net/tcp6"):
        text = read_text(host_root, name) or ""

        for line in text.splitlines()[1:]:
            fields = line.split()

            if len(fields) > 3 and fields[3] == _LISTEN:
                _, _, port = fields[1].rpartition(":")

                try:
                    ports.add(int(port, 16))
                except ValueError:
                    continue

    return ports


def package_version(host_root: Path, name: str) -> str | None:
    """The installed version of package ``name`` (dpkg or rpm), or None."""

    return _dpkg_version(host_root, name) or _rpm_version(host_root, name)


def _dpkg_version(host_root: Path, name: str) -> str | None:
    text = read_text(host_root, "var/lib/dpkg/status")

    if text is None:
        return None

    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line
        )

        if fields.get("Package") == name and fields.get("Status", "").endswith(
            " installed"
        ):
            return fields.get("Version", "").strip() or "unknown"

    return None


def _rpm_version(host_root: Path, name: str) -> str | None:
    database = host_path(host_root, "var/lib/rpm/rpmdb.sqlite")

    if database.is_file():
        return _rpm_sqlite_version(database, name)

    # The older Berkeley DB format keeps an index file whose keys are the
    # package names; its records are not parsed, so the version is unknown.
    index = host_path(host_root, "var/lib/rpm/Name")

    try:
        data = index.read_bytes()
    except OSError:
        return None

    pattern = rb"(?<![\w.+-])" + re.escape(name.encode()) + rb"(?![\w.+-])"
    return "unknown" if re.search(pattern, data) else None


def _rpm_sqlite_version(database: Path, name: str) -> str | None:
    # Imported here: only RPM hosts need it, and it costs every service
    # that reads profiles a megabyte of memory.
    import sqlite3

    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    except sqlite3.Error:
        return None

    try:
        row = connection.execute(
            "SELECT 1 FROM Name WHERE key = ? LIMIT 1", (name,)
        ).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        connection.close()

    # Versions live in binary header blobs; being installed is what counts.
    return "unknown" if row else None
