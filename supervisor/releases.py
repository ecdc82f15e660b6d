"""Which release the services run from, and following the updater's switches.

The updater installs releases side by side and switches the ``current``
link (services/updater/process_mode.py); the supervisor only reads that
link, restarts the services one at a time when it moves, and puts it back
when the new release's updater cannot even start, since a broken updater
cannot roll itself back.
"""

from __future__ import annotations

import logging
from pathlib import Path

from services.updater.process_mode import ProcessInstaller

log = logging.getLogger(__name__)

# Starts in a row without once becoming ready, after a switch, before the
# switch is undone.
FAILED_STARTS = 3


class Releases:
    """The updater's release links under the services' state folder."""

    def __init__(self, state_dir: Path, source_dir: Path) -> None:
        self.installer = ProcessInstaller(state_dir / "updater", (), 0.0)
        self.source_dir = source_dir
        self.running = self.installer.current()

    def cwd(self) -> Path:
        """Where a service starts now: the current release, or the source."""

        current = self.installer.current()

        if not current:
            return self.source_dir

        return self.installer.lib(current)

    def switched(self) -> str | None:
        """The release switched to since the last call, or None.

        An empty string means the switch went back to the original build.
        """

        current = self.installer.current()

        if current == self.running:
            return None

        self.running = current
        return current

    def undo(self) -> None:
        """Goes back to the release before the current one."""

        previous = self.installer.previous()
        log.error(
            "Release %s cannot start its updater; going back to %s",
            self.running,
            previous or "the original build",
        )
        self.installer.restore(previous)
