"""The maintenance tool's configuration file: the daemon and its servers.

The file is TOML::

    [daemon]
    version = "0.1.0"                      # image tag run on every server
    images_archive = "/opt/cld/images.tar" # loaded where images are missing
    [daemon.env]                           # settings for every service
    CLD_CLOUD_URL = "https://api.mitel.io"

    [[server]]
    name = "server-1"
    url = "unix:///run/podman/podman.sock" # or ssh://user@host/run/podman/podman.sock
    host_root = "/"                        # the host folder the daemon inspects
    [server.env]                           # this server's own settings
    CLD_UI_BIND = "127.0.0.1:8080"

    [[server]]
    name = "server-2"
    url = "ssh://root@10.0.0.2:22/run/podman/podman.sock"
    identity = "/root/.ssh/cld_ed25519"    # ssh key; default: ssh's own choice
    known_hosts = "/etc/cld/known_hosts"   # holds the server's host key;
                                           # default: ssh's own known_hosts

An ssh server's host key must already be known: the tool never accepts an
unknown one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_FILE = Path("/etc/cld/servers.toml")

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SETTING_PATTERN = re.compile(r"CLD_[A-Z0-9_]+")

# Set by the tool itself for every container; a file may not move them.
RESERVED_SETTINGS = frozenset({"CLD_STATE_DIR", "CLD_RUNTIME_DIR", "CLD_HOST_ROOT"})


class ServersError(ValueError):
    """The configuration file cannot be used; the message says why."""


@dataclass(frozen=True)
class Server:
    """One server and how its Podman API is reached."""

    name: str
    url: str
    host_root: str = "/"
    env: Mapping[str, str] = field(default_factory=dict)
    identity: str = ""
    known_hosts: str = ""

    @property
    def remote(self) -> bool:
        """True when the server is reached over ssh."""

        return self.url.startswith("ssh://")

    @property
    def socket_path(self) -> str:
        """The Podman API socket's path on the server itself."""

        return urlsplit(self.url).path


@dataclass(frozen=True)
class Deployment:
    """What the tool deploys, and to which servers."""

    version: str
    servers: tuple[Server, ...]
    images_archive: str = ""
    env: Mapping[str, str] = field(default_factory=dict)

    def server(self, name: str) -> Server:
        """The server called ``name``; ServersError when there is none."""

        for server in self.servers:
            if server.name == name:
                return server

        known = ", ".join(s.name for s in self.servers)
        raise ServersError(f"there is no server named {name!r}; known: {known}")

    def select(self, names: list[str]) -> tuple[Server, ...]:
        """The servers named, in the file's order; all of them for no names."""

        if not names:
            return self.servers

        wanted = {self.server(name).name for name in names}
        return tuple(s for s in self.servers if s.name in wanted)

    def settings(self, server: Server) -> dict[str, str]:
        """The environment every service on ``server`` gets."""

        return {**self.env, **server.env}


def load(path: Path) -> Deployment:
    """Reads and checks the configuration file at ``path``."""

    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ServersError(f"{path}: no such configuration file") from None
    except OSError as exc:
        raise ServersError(f"{path}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServersError(f"{path}: not valid TOML: {exc}") from None

    try:
        return parse(document)
    except ServersError as exc:
        raise ServersError(f"{path}: {exc}") from None


def parse(document: Mapping[str, Any]) -> Deployment:
    """The deployment a parsed configuration file describes."""

    daemon = _table(document.get("daemon", {}), "[daemon]")
    version = _text(daemon.get("version", ""), "[daemon] version")

    if not VERSION_PATTERN.fullmatch(version):
        raise ServersError(f"[daemon] version {version!r} is not an image tag")

    archive = daemon.get("images_archive", "")

    if not isinstance(archive, str):
        raise ServersError("[daemon] images_archive must be a path")
    entries = document.get("server", [])

    if not isinstance(entries, list) or not entries:
        raise ServersError("no [[server]] is listed")

    servers = tuple(_server(entry, index) for index, entry in enumerate(entries, 1))
    names = [s.name for s in servers]
    twice = sorted({n for n in names if names.count(n) > 1})

    if twice:
        raise ServersError(
            f"server names must differ; listed twice: {', '.join(twice)}"
        )

    return Deployment(
        version=version,
        servers=servers,
        images_archive=archive,
        env=_settings(daemon.get("env", {}), "[daemon.env]"),
    )


def _server(entry: object, index: int) -> Server:
    where = f"server #{index}"
    table = _table(entry, where)
    name = _text(table.get("name", ""), f"{where} name")

    if not NAME_PATTERN.fullmatch(name):
        raise ServersError(
            f"{where} name {name!r} must be letters, digits, '.', '_' or '-'"
        )

    where = f"server {name!r}"
    url = _text(table.get("url", ""), f"{where} url")
    parts = urlsplit(url)

    if parts.scheme not in {"unix", "ssh"} or not parts.path.endswith(".sock"):
        raise ServersError(
            f"{where} url {url!r} must be unix:///PATH.sock or "
            "ssh://USER@HOST[:PORT]/PATH.sock"
        )

    if parts.scheme == "ssh" and not parts.hostname:
        raise ServersError(f"{where} url {url!r} names no host")

    host_root = _text(table.get("host_root", "/"), f"{where} host_root")

    if not host_root.startswith("/"):
        raise ServersError(f"{where} host_root {host_root!r} must be an absolute path")

    env = _settings(table.get("env", {}), f"{where} env")
    identity = _ssh_file(table, "identity", parts.scheme, where)
    known_hosts = _ssh_file(table, "known_hosts", parts.scheme, where)
    return Server(
        name=name,
        url=url,
        host_root=host_root,
        env=env,
        identity=identity,
        known_hosts=known_hosts,
    )


def _ssh_file(table: Mapping[str, Any], key: str, scheme: str, where: str) -> str:
    """The absolute path under ``key``, given only for a server reached by ssh."""

    if key not in table:
        return ""

    path = _text(table[key], f"{where} {key}")

    if scheme != "ssh":
        raise ServersError(f"{where} {key} is for ssh:// servers only")

    if not path.startswith("/"):
        raise ServersError(f"{where} {key} {path!r} must be an absolute path")

    return path


def _settings(value: object, where: str) -> dict[str, str]:
    table = _table(value, where)
    settings: dict[str, str] = {}

    for key, raw in table.items():
        if not SETTING_PATTERN.fullmatch(key):
            raise ServersError(f"{where}: {key!r} is not a CLD_ setting")

        if key in RESERVED_SETTINGS:
            raise ServersError(f"{where}: {key} is set by the tool and cannot be given")

        if isinstance(raw, bool):
            raw = "true" if raw else "false"

        if not isinstance(raw, str | int | float):
            raise ServersError(f"{where}: {key} must be a string or a number")

        settings[key] = str(raw)

    return settings


def _table(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ServersError(f"{where} must be a table")

    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ServersError(f"{where} is missing or not a string")

    return value
