"""The parts of a platform profile and how each detection rule is checked.

Detection reads only below a host root folder, which is ``/`` in production
and a fake host in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from services.common import hostfacts

NOTES = {
    # The node may be linked to one CloudLink account only.
    "one_account_per_node": "links to one CloudLink account only",
    # The platform runs inside a parent platform (its `parent`) and only
    # this child appears in the system inventory.
    "child_only": "only the child platform appears in the inventory",
    # Two daemons (one in the parent, one in the child) form one system.
    "two_daemons": "two daemons are shown as one system",
}

RULE_KINDS = ("file", "dir", "glob", "package", "port")


@dataclass(frozen=True)
class Rule:
    """One detection check against the host."""

    kind: str
    target: str
    pattern: str = ""

    def holds(self, host_root: Path) -> bool:
        """True when the check passes below ``host_root``."""

        if self.kind == "file":
            if self.pattern:
                text = hostfacts.read_text(host_root, self.target)
                return text is not None and _search(self.pattern, text) is not None

            return hostfacts.host_path(host_root, self.target).is_file()

        if self.kind == "dir":
            return hostfacts.host_path(host_root, self.target).is_dir()

        if self.kind == "glob":
            return next(host_root.glob(self.target), None) is not None

        if self.kind == "package":
            return hostfacts.package_version(host_root, self.target) is not None

        return int(self.target) in hostfacts.listening_ports(host_root)


@dataclass(frozen=True)
class Detection:
    """Rules combined with ``any`` or ``all``."""

    mode: str
    rules: tuple[Rule, ...]

    def holds(self, host_root: Path) -> bool:
        """True when the combination of rules passes below ``host_root``."""

        results = (rule.holds(host_root) for rule in self.rules)
        return all(results) if self.mode == "all" else any(results)


@dataclass(frozen=True)
class ValueRule:
    """Where a value is read: a capture group in a file, or a package's version."""

    file: str = ""
    pattern: str = ""
    package: str = ""

    def read(self, host_root: Path) -> str | None:
        """The value on the host under ``host_root``, or None when not found."""

        if self.package:
            return hostfacts.package_version(host_root, self.package)

        text = hostfacts.read_text(host_root, self.file)

        if text is None:
            return None

        found = _search(self.pattern, text)
        return found.group(1).strip() if found else None


@dataclass(frozen=True)
class TunnelSpec:
    """A tunnel a component offers to a local management interface."""

    component: str
    name: str
    local_address: str
    description: str


@dataclass(frozen=True)
class ComponentSpec:
    """A component a platform may run, how to find it and what it tunnels."""

    id: str
    name: str
    tunnels: tuple[TunnelSpec, ...]
    detect: Detection
    version: ValueRule | None = None


@dataclass(frozen=True)
class GatewaySpec:
    """How a CloudLink Gateway installed beside the daemon is recognised."""

    detect: Detection
    version: ValueRule | None
    status_url: str


DEFAULT_GATEWAY = GatewaySpec(
    detect=Detection(
        "any",
        (
            Rule("file", "opt/cloudlink-gateway/VERSION"),
            Rule("package", "cloudlink-gateway"),
        ),
    ),
    version=ValueRule(file="opt/cloudlink-gateway/VERSION", pattern=r"([0-9][\w.-]*)"),
    status_url="http://127.0.0.1:8020/status",
)


@dataclass(frozen=True)
class Profile:
    """One supported platform."""

    id: str
    name: str
    components: tuple[ComponentSpec, ...]
    detect: Detection
    version: ValueRule | None = None
    language: ValueRule | None = None
    proxy: ValueRule | None = None
    notes: tuple[str, ...] = ()
    parent: str = ""
    gateway: GatewaySpec = DEFAULT_GATEWAY
    source: Path = field(default=Path(), compare=False)

    def component(self, component_id: str) -> ComponentSpec | None:
        """The component ``component_id`` of this platform, if any."""

        return next((c for c in self.components if c.id == component_id), None)

    def tunnels(self) -> tuple[TunnelSpec, ...]:
        """Every tunnel of every component, in profile order."""

        return tuple(t for c in self.components for t in c.tunnels)


def _search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.MULTILINE)
