"""Durable JSON state, written atomically and never silently dropped."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class StateStore:
    """One JSON document on disk, owned by one service.

    A save writes a temporary file beside the target, flushes it to disk and
    renames it over the target, so a crash leaves either the old or the new
    document, never half of one. A document that cannot be read is moved
    aside under a new name and reported, so nothing is lost to a bad write
    by someone else or a failing disk.
    """

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = path
        self.mode = mode
        self.quarantined: Path | None = None

    def load(self) -> dict[str, Any] | None:
        """The stored document, or None when there is none (or it was corrupt)."""

        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None

        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._quarantine(f"not valid JSON: {exc}")
            return None

        if not isinstance(document, dict):
            self._quarantine("not a JSON object")
            return None

        return document

    def save(self, document: dict[str, Any]) -> None:
        """Replaces the stored document atomically."""

        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(document, indent=2, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )

        try:
            os.fchmod(fd, self.mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

        _fsync_dir(self.path.parent)

    def delete(self) -> None:
        """Removes the stored document, if any."""

        self.path.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)

    def _quarantine(self, problem: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        self.quarantined = aside
        log.error(
            "State file %s is %s; kept aside as %s and starting without it",
            self.path,
            problem,
            aside,
            extra={"state_file": str(self.path), "kept_as": str(aside)},
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)

    try:
        os.fsync(fd)
    finally:
        os.close(fd)
