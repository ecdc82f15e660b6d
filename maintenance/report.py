"""Plain-text renderings of outcomes, status and findings for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maintenance.actions import Outcome
from maintenance.diagnose import Finding

MARKS = {"ok": "OK  ", "warning": "WARN", "failed": "FAIL", "skipped": "--  "}


def outcome_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """One line per server: done or failed, and why."""

    lines: list[str] = []

    for outcome in outcomes:
        if outcome.ok:
            summary = "; ".join(outcome.done) or "nothing to do"
            lines.append(f"{outcome.server}: done ({summary})")
        else:
            lines.append(f"{outcome.server}: FAILED: {outcome.error}")

    return lines


def status_lines(reports: Sequence[dict[str, Any]]) -> list[str]:
    """Per server: enabled or not, version, link, then each container."""

    lines: list[str] = []

    for entry in reports:
        name = entry["server"]

        if not entry.get("reachable"):
            lines.append(f"{name}: unreachable: {entry.get('error', '')}")
            continue

        state = "enabled" if entry.get("enabled") else "disabled"

        if entry.get("partial"):
            state = "partly enabled"

        link = entry.get("link") or {}
        linked = ""

        if link.get("linked"):
            linked = f", linked to {link.get('account_name')}"
        elif link.get("linked") is False:
            linked = ", not linked"

        version = entry.get("version") or "-"
        lines.append(f"{name}: {state}, version {version}{linked}")

        for container in entry.get("containers", []):
            name, state = container["name"], container["state"]
            lines.append(f"  {name:<18} {state:<9} {container['health']}")

    return lines


def findings_lines(findings: Sequence[Finding]) -> list[str]:
    """One line per check, with the advice under a failure or a warning."""

    lines: list[str] = []

    for finding in findings:
        mark = MARKS.get(finding.status, finding.status)
        lines.append(f"[{mark}] {finding.check}: {finding.detail}")

        if finding.advice:
            lines.append(f"       {finding.advice}")

    return lines
