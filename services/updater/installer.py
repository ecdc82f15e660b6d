"""The seam between deciding to update and making a release run.

How a verified release is put beside the running one, tried, switched to
and switched back from depends on how the daemon is deployed: local
processes (``process_mode``) or containers through the Podman API (a later
piece of work, behind the same interface).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from services.updater.manifest import Release


class InstallError(Exception):
    """A release that could not be installed, tried or switched to."""


class RolledBackError(InstallError):
    """A switch that failed part-way and put back what it had replaced."""


class Installer(Protocol):
    """Puts releases side by side and switches between them atomically."""

    def current(self) -> str:
        """The release id the services run from; empty for the original build."""
        ...

    def install(self, release: Release, artifacts: dict[str, Path]) -> None:
        """Installs ``release`` beside the running one, changing nothing live."""
        ...

    def trial(self, release: Release) -> list[str]:
        """Starts the installed ``release`` apart from the live daemon.

        Returns what failed its health checks; an empty list means it came
        up healthy. The live daemon is not disturbed either way.
        """
        ...

    def switch(self, release: Release) -> str:
        """Makes ``release`` the one to run; returns the one it replaced."""
        ...

    def restore(self, release_id: str) -> None:
        """Makes ``release_id`` (empty: the original build) the one to run."""
        ...

    def discard(self, release_id: str) -> None:
        """Removes an installed release that is not running."""
        ...

    def prune(self) -> None:
        """Removes installed releases no longer needed to go back to."""
        ...
