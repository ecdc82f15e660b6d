"""Release versions and their order: dotted numbers, then the build number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(r"\d{1,6}(\.\d{1,6}){0,3}")
_BUILD = re.compile(r"\d{1,20}")


class VersionError(ValueError):
    """A version or build number that is not in the expected form."""


@total_ordering
@dataclass(frozen=True)
class ReleaseVersion:
    """A version such as 0.2.0 with its build number, ordered as numbers."""

    version: str
    build_number: str = "0"

    def __post_init__(self) -> None:
        if not _VERSION.fullmatch(self.version):
            raise VersionError(
                f"version {self.version!r} is not dotted numbers such as 1.2.0"
            )

        if not _BUILD.fullmatch(self.build_number):
            raise VersionError(
                f"build number {self.build_number!r} is not a whole number"
            )

    @property
    def key(self) -> tuple[tuple[int, ...], int]:
        """What the order compares: 1.2 and 1.2.0 are the same version."""

        parts = [int(p) for p in self.version.split(".")]

        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()

        return tuple(parts), int(self.build_number)

    @property
    def release_id(self) -> str:
        """One name for the release, safe in paths and URLs: 0.2.0+17."""

        return f"{self.version}+{self.build_number}"

    def __str__(self) -> str:
        return f"{self.version} (build {self.build_number})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReleaseVersion):
            return NotImplemented

        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: ReleaseVersion) -> bool:
        return self.key < other.key


def running_version(version: str, build_number: str) -> ReleaseVersion:
    """The running build's version, lenient about development builds.

    A build made outside the release process may have no build number
    ("unknown") or a version with a suffix; it counts as build 0 of the
    leading numbers, so any real release is newer.
    """

    leading = re.match(r"\d+(\.\d+)*", version)
    build = build_number if _BUILD.fullmatch(build_number) else "0"
    return ReleaseVersion(leading.group(0) if leading else "0", build)
