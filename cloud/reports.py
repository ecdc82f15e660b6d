"""The system manager's inventory reports: validated, deduplicated, kept.

A daemon posts each report with an ``Idempotency-Key``; a retry with the
same key and body is answered 200 with what was stored the first time, so a
report is never stored twice. A report that does not match the schema
``schemas/inventory-report.v1.json`` is answered 422 with the first problem.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from jsonschema import Draft202012Validator, FormatChecker

from cloud import systems
from cloud.errors import ApiError, invalid_request
from cloud.store import timestamp
from cloud.web import request_extra
from services.common.state import StateStore

log = logging.getLogger(__name__)

bp = Blueprint("reports", __name__, url_prefix="/2017-09-01")

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas/inventory-report.v1.json"

# Enough history to compare a system with itself over weeks of daily
# reports; the oldest go first so the state file stays bounded.
HISTORY = 100

_KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")


@dataclass(frozen=True)
class StoredReport:
    """One report as the cloud received it."""

    key: str
    received_on: str
    report: dict[str, Any]

    def document(self) -> dict[str, Any]:
        """The report as the API shows it."""

        return {
            "idempotencyKey": self.key,
            "receivedOn": self.received_on,
            "reason": self.report.get("reason", ""),
            "createdAt": self.report.get("createdAt", ""),
            "report": self.report,
        }


class ReportStore:
    """Each system's report history, saved to one JSON file on every change."""

    def __init__(self, path: Path) -> None:
        self._file = StateStore(path)
        self._lock = threading.Lock()
        document = self._file.load() or {}
        self._history: dict[str, list[StoredReport]] = {
            system_id: [
                StoredReport(e["key"], e["receivedOn"], e["report"]) for e in entries
            ]
            for system_id, entries in document.get("systems", {}).items()
        }

    def add(
        self, system_id: str, key: str, report: dict[str, Any]
    ) -> tuple[StoredReport, bool]:
        """Stores ``report`` unless ``key`` was seen; True when newly stored.

        Raises ApiError 409 when the key was used for a different report.
        """

        with self._lock:
            history = self._history.get(system_id, [])
            seen = next((r for r in history if r.key == key), None)

            if seen is not None:
                if seen.report != report:
                    raise ApiError(
                        409,
                        "conflict",
                        f"Idempotency-Key {key} was used for a different report",
                    )

                return seen, False

            stored = StoredReport(key, timestamp(), report)
            updated = {**self._history, system_id: [*history, stored][-HISTORY:]}
            self._save(updated)
            self._history = updated

        return stored, True

    def history(self, system_id: str) -> list[StoredReport]:
        """The system's reports, newest first."""

        with self._lock:
            return list(reversed(self._history.get(system_id, [])))

    def latest(self, system_id: str) -> StoredReport | None:
        """The system's newest report."""

        with self._lock:
            history = self._history.get(system_id)
            return history[-1] if history else None

    def _save(self, history: dict[str, list[StoredReport]]) -> None:
        self._file.save(
            {
                "version": 1,
                "systems": {
                    system_id: [
                        {"key": r.key, "receivedOn": r.received_on, "report": r.report}
                        for r in entries
                    ]
                    for system_id, entries in history.items()
                },
            }
        )


@bp.record_once
def _open_store(state: BlueprintSetupState) -> None:
    cloud = state.app.extensions["cloud"]
    state.app.extensions["reports"] = ReportStore(
        cloud.config.state_dir / "reports.json"
    )


def report_store() -> ReportStore:
    """The report store of the app handling the current request."""

    return cast(ReportStore, current_app.extensions["reports"])


@cache
def validator() -> Draft202012Validator:
    """The schema every report must match."""

    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def problems(report: Any) -> list[str]:
    """What is wrong with ``report``, each naming where; empty when valid."""

    found = []

    for error in sorted(validator().iter_errors(report), key=lambda e: e.path):
        where = "/".join(str(p) for p in error.absolute_path) or "(the report)"
        found.append(f"{where}: {error.message}")

    return found


@bp.post("/systems/<system_id>/reports")
def submit(system_id: str) -> tuple[Response, int]:
    """Stores an inventory report of a system of the caller's account."""

    caller = systems.current_caller()
    system = systems.owned_system(caller, system_id)
    key = request.headers.get("Idempotency-Key", "")

    if not _KEY.fullmatch(key):
        raise invalid_request(
            "An Idempotency-Key header of 8 to 128 letters, digits, dots, "
            "dashes, colons or underscores is required"
        )

    report = request.get_json(force=True, silent=True)

    if report is None:
        raise invalid_request("The request body is not valid JSON")

    found = problems(report)

    if not found and report["system"]["systemId"] != system.system_id:
        found = ["system/systemId: does not name the system it is posted to"]

    if found:
        log.info(
            "Refused an inventory report of system %s: %s",
            system.system_id,
            found[0],
            extra={**request_extra(), "system_id": system.system_id},
        )
        raise ApiError(
            422,
            "invalid_report",
            f"The report does not match inventory-report.v1: {found[0]}",
            {"problems": "; ".join(found[:10])},
        )

    stored, created = report_store().add(system.system_id, key, report)

    if created:
        log.info(
            "Stored inventory report %s of system %s (%s)",
            report["reportId"],
            system.system_id,
            report["reason"],
            extra={**request_extra(), "system_id": system.system_id},
        )

    return jsonify(stored.document()), 201 if created else 200


@bp.get("/systems/<system_id>/reports")
def list_reports(system_id: str) -> Response:
    """A system's reports, newest first."""

    system = systems.owned_system(systems.current_caller(), system_id)
    items = [r.document() for r in report_store().history(system.system_id)]
    return jsonify({"count": len(items), "_embedded": {"items": items}})


@bp.get("/systems/<system_id>/reports/latest")
def latest_report(system_id: str) -> Response:
    """A system's newest report."""

    system = systems.owned_system(systems.current_caller(), system_id)
    latest = report_store().latest(system.system_id)

    if latest is None:
        raise ApiError(404, "not_found", f"System {system.system_id} has no report")

    return jsonify(latest.document())


def latest_reports(system_ids: Iterable[str]) -> dict[str, StoredReport]:
    """The newest report of each of ``system_ids`` that has one."""

    store = report_store()
    return {
        system_id: report
        for system_id in system_ids
        if (report := store.latest(system_id)) is not None
    }
