"""The daemon's version and build identity, shown in About and in metrics."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

# Written by `make build-info`; images carry their own copy.
_DEFAULT_FILE = Path(__file__).resolve().parents[2] / "build" / "build-info.json"


@dataclass(frozen=True)
class BuildInfo:
    """Which build of the daemon this is."""

    version: str
    build_number: str
    commit: str
    branch: str
    stage: str

    def as_labels(self) -> dict[str, str]:
        """The build as Prometheus labels."""

        return asdict(self)


@cache
def build_info() -> BuildInfo:
    """The running build, from the build-info file when there is one."""

    path = Path(os.environ.get("CLD_BUILD_INFO_FILE", _DEFAULT_FILE))

    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        recorded = {}

    return BuildInfo(
        version=str(recorded.get("version") or _installed_version()),
        build_number=str(recorded.get("build_number", "0")),
        commit=str(recorded.get("commit", "unknown")),
        branch=str(recorded.get("branch", "unknown")),
        stage=str(recorded.get("stage", "development")),
    )


def _installed_version() -> str:
    # Imported only when no build-info file names the version: the metadata
    # machinery (zip, csv and e-mail parsing) would stay in every service.
    from importlib import metadata

    try:
        return metadata.version("cloudlink-daemon")
    except metadata.PackageNotFoundError:
        return "0.0.0"
