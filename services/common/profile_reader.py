"""Validation of a parsed profile document into a Profile.

Every field is checked, so a malformed profile stops with a message naming
the file and the field instead of misdetecting a host later.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from services.common.profile_model import (
    DEFAULT_GATEWAY,
    NOTES,
    RULE_KINDS,
    ComponentSpec,
    Detection,
    GatewaySpec,
    Profile,
    Rule,
    TunnelSpec,
    ValueRule,
)

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and field."""


class ProfileReader:
    """Turns a parsed TOML document into a Profile, naming the field at fault."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> ProfileError:
        return ProfileError(f"{self.path}: {where}: {problem}")

    def profile(self, doc: dict[str, Any]) -> Profile:
        self.known(doc, "", _PROFILE_KEYS)
        profile_id = self.ident(doc, "id")

        if profile_id != self.path.stem:
            raise self.fail("id", f"is {profile_id!r} but the file is {self.path.name}")

        allowed_hosts = self.strings(doc, "allowed_hosts")
        components = self.table_list(doc, "components")

        if not components:
            raise self.fail("components", "a platform needs at least one component")

        specs = tuple(
            self.component(c, f"components[{i}]", allowed_hosts)
            for i, c in enumerate(components)
        )
        self.unique([c.id for c in specs], "components", "id")

        notes = self.strings(doc, "notes")

        for index, note in enumerate(notes):
            if note not in NOTES:
                raise self.fail(
                    f"notes[{index}]",
                    f"{note!r} is not one of {', '.join(sorted(NOTES))}",
                )

        parent = self.text(doc, "parent", required=False)

        if "child_only" in notes and not parent:
            raise self.fail("parent", "a child_only platform must name its parent")

        return Profile(
            id=profile_id,
            name=self.text(doc, "name"),
            components=specs,
            detect=self.detection(doc, "detect"),
            version=self.value_rule(doc, "version"),
            language=self.value_rule(doc, "language"),
            proxy=self.value_rule(doc, "proxy"),
            notes=tuple(notes),
            parent=parent,
            gateway=self.gateway(doc.get("gateway"), allowed_hosts),
            source=self.path,
        )

    def component(
        self, doc: dict[str, Any], where: str, allowed_hosts: list[str]
    ) -> ComponentSpec:
        self.known(doc, where, {"id", "name", "detect", "version", "tunnels"})
        component_id = self.ident(doc, "id", where)
        tunnels = tuple(
            self.tunnel(t, f"{where}.tunnels[{i}]", component_id, allowed_hosts)
            for i, t in enumerate(self.table_list(doc, "tunnels", where))
        )
        self.unique([t.name for t in tunnels], f"{where}.tunnels", "name")
        return ComponentSpec(
            id=component_id,
            name=self.text(doc, "name", where=where),
            tunnels=tunnels,
            detect=self.detection(doc, "detect", where),
            version=self.value_rule(doc, "version", where),
        )

    def tunnel(
        self, doc: dict[str, Any], where: str, component: str, allowed: list[str]
    ) -> TunnelSpec:
        self.known(doc, where, {"name", "local_address", "description"})
        address = self.text(doc, "local_address", where=where)
        self.check_address(address, f"{where}.local_address", allowed)
        return TunnelSpec(
            component=component,
            name=self.ident(doc, "name", where),
            local_address=address,
            description=self.text(doc, "description", where=where),
        )

    def gateway(self, doc: Any, allowed_hosts: list[str]) -> GatewaySpec:
        if doc is None:
            return DEFAULT_GATEWAY

        if not isinstance(doc, dict):
            raise self.fail("gateway", "must be a table")

        self.known(doc, "gateway", {"detect", "version", "status_url"})
        status_url = self.text(doc, "status_url", where="gateway")
        self.check_address(status_url, "gateway.status_url", allowed_hosts)
        return GatewaySpec(
            detect=self.detection(doc, "detect", "gateway"),
            version=self.value_rule(doc, "version", "gateway"),
            status_url=status_url,
        )

    def detection(self, doc: dict[str, Any], key: str, where: str = "") -> Detection:
        at = _join(where, key)
        value = doc.get(key)

        if not isinstance(value, dict):
            raise self.fail(at, "must be a table with `any` or `all`")

        modes = [mode for mode in ("any", "all") if mode in value]

        if len(modes) != 1 or len(value) != 1:
            raise self.fail(at, "must hold exactly one of `any` or `all`")

        mode = modes[0]
        rules = value[mode]

        if not isinstance(rules, list) or not rules:
            raise self.fail(f"{at}.{mode}", "must be a non-empty list of rules")

        return Detection(
            mode,
            tuple(self.rule(r, f"{at}.{mode}[{i}]") for i, r in enumerate(rules)),
        )

    def rule(self, doc: Any, where: str) -> Rule:
        if not isinstance(doc, dict):
            raise self.fail(where, "must be a table")

        self.known(doc, where, {*RULE_KINDS, "pattern"})
        kinds = [kind for kind in RULE_KINDS if kind in doc]

        if len(kinds) != 1:
            raise self.fail(where, f"must hold exactly one of {', '.join(RULE_KINDS)}")

        kind = kinds[0]
        pattern = self.text(doc, "pattern", where=where, required=False)

        if pattern and kind != "file":
            raise self.fail(f"{where}.pattern", "only a `file` rule takes a pattern")

        if pattern:
            self.check_pattern(pattern, f"{where}.pattern", groups=0)

        if kind == "port":
            port = doc["port"]

            if not isinstance(port, int) or not 0 < port < 65536:
                raise self.fail(f"{where}.port", "must be a port number 1-65535")

            return Rule(kind, str(port))

        target = self.text(doc, kind, where=where)

        if kind == "package":
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9+._-]*", target):
                raise self.fail(f"{where}.package", f"{target!r} is no package name")
        else:
            self.check_host_path(target, f"{where}.{kind}")

        return Rule(kind, target, pattern)

    def value_rule(
        self, doc: dict[str, Any], key: str, where: str = ""
    ) -> ValueRule | None:
        at = _join(where, key)
        value = doc.get(key)

        if value is None:
            return None

        if not isinstance(value, dict):
            raise self.fail(
                at, "must be a table with `file` and `pattern`, or `package`"
            )

        self.known(value, at, {"file", "pattern", "package"})

        if "package" in value:
            if set(value) != {"package"}:
                raise self.fail(at, "a `package` rule takes nothing else")

            return ValueRule(package=self.text(value, "package", where=at))

        file = self.text(value, "file", where=at)
        pattern = self.text(value, "pattern", where=at)
        self.check_host_path(file, f"{at}.file")
        self.check_pattern(pattern, f"{at}.pattern", groups=1)
        return ValueRule(file=file, pattern=pattern)

    def check_address(self, address: str, where: str, allowed: list[str]) -> None:
        url = urlsplit(address)

        if url.scheme not in {"http", "https"}:
            raise self.fail(where, f"{address!r} must be an http:// or https:// URL")

        try:
            host = url.hostname or ""
            url.port  # noqa: B018 (parsing the port is the check)
        except ValueError as exc:
            raise self.fail(where, f"{address!r}: {exc}") from None

        if url.username or url.password or url.query or url.fragment:
            raise self.fail(where, f"{address!r} must carry no credentials or query")

        if host in allowed:
            return

        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False

        if not loopback:
            raise self.fail(
                where,
                f"{address!r} is not a loopback address (127.0.0.0/8 or [::1]) "
                "nor one of the profile's allowed_hosts",
            )

    def check_host_path(self, path: str, where: str) -> None:
        parts = PurePosixPath(path).parts

        if path.startswith("/") or ".." in parts or not parts:
            raise self.fail(
                where, f"{path!r} must be relative to the host root, without `..`"
            )

    def check_pattern(self, pattern: str, where: str, groups: int) -> None:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise self.fail(
                where, f"{pattern!r} is not a regular expression: {exc}"
            ) from None

        if compiled.groups < groups:
            raise self.fail(where, f"{pattern!r} needs a capture group for the value")

    def known(self, doc: dict[str, Any], where: str, keys: set[str]) -> None:
        unknown = sorted(set(doc) - keys)

        if unknown:
            raise self.fail(
                _join(where, unknown[0]),
                f"is not a known field (known: {', '.join(sorted(keys))})",
            )

    def text(
        self, doc: dict[str, Any], key: str, where: str = "", required: bool = True
    ) -> str:
        value = doc.get(key)

        if value is None and not required:
            return ""

        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(_join(where, key), "must be a non-empty string")

        return value

    def ident(self, doc: dict[str, Any], key: str, where: str = "") -> str:
        value = self.text(doc, key, where=where)

        if not _ID.fullmatch(value):
            raise self.fail(
                _join(where, key),
                f"{value!r} must be lower-case letters, digits and dashes",
            )

        return value

    def strings(self, doc: dict[str, Any], key: str) -> list[str]:
        value = doc.get(key, [])

        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")

        return list(value)

    def table_list(
        self, doc: dict[str, Any], key: str, where: str = ""
    ) -> list[dict[str, Any]]:
        value = doc.get(key, [])

        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(_join(where, key), "must be a list of tables")

        return value

    def unique(self, values: list[str], where: str, key: str) -> None:
        seen: set[str] = set()

        for index, value in enumerate(values):
            if value in seen:
                raise self.fail(f"{where}[{index}].{key}", f"{value!r} is repeated")

            seen.add(value)


_PROFILE_KEYS = {
    "id",
    "name",
    "detect",
    "version",
    "language",
    "proxy",
    "notes",
    "parent",
    "allowed_hosts",
    "gateway",
    "components",
}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
