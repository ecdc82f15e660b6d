"""supervisor.json: the supervisor's view of its children, for tests and tools."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.common.state import StateStore
from supervisor.children import Child

STARTING = "starting"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"


class StatusFile:
    """Rewrites the status document atomically whenever something in it changed."""

    def __init__(self, path: Path, run_dir: Path, urls: dict[str, str]) -> None:
        # Nothing secret is in it, and tools run by other users may read it.
        self.store = StateStore(path, mode=0o644)
        self.run_dir = run_dir
        self.urls = urls
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._last: dict[str, Any] | None = None

    def write(self, state: str, children: Sequence[Child]) -> None:
        """Saves the document when it differs from the one last saved."""

        document = {
            "pid": os.getpid(),
            "state": state,
            "started_at": self.started_at,
            "run_dir": str(self.run_dir),
            "urls": self.urls,
            "children": [child.status() for child in children],
        }

        if document != self._last:
            self.store.save(document)
            self._last = document
