"""Writes the build's identity (version, commit, branch, build number) for About."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"

    return out.stdout.strip() or "unknown"


def main(target: str) -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    info = {
        "version": project["version"],
        "build_number": os.environ.get("CLD_BUILD_NUMBER")
        or git("rev-list", "--count", "HEAD"),
        "commit": git("rev-parse", "--short=12", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "stage": os.environ.get("CLD_BUILD_STAGE", "development"),
    }
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
