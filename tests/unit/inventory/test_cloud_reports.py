"""The emulator's report endpoint: validation, idempotency, history, admin page."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cloud.app import create_app
from cloud.config import CloudConfig
from services.common.settings import load
from services.inventory.report import encode
from tests.support.fakehosts import build_host
from tests.unit.inventory.reports import report_for

API = "/2017-09-01"


def make_app(state_dir: Path) -> Flask:
    config = load(
        CloudConfig,
        {
            "CLD_CLOUD_STATE_DIR": str(state_dir),
            "CLD_CLOUD_PUBLIC_URL": "http://c.test",
        },
    )
    app = create_app(config)
    app.config["TESTING"] = True
    return app


def sign_in(client: FlaskClient, username: str, password: str) -> str:
    answer = client.post(
        f"{API}/token",
        json={"grant_type": "password", "username": username, "password": password},
    )
    assert answer.status_code == 200, answer.json
    token: str = (answer.json or {})["access_token"]
    return token


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return make_app(tmp_path / "state").test_client()


@pytest.fixture
def token(client: FlaskClient) -> str:
    return sign_in(client, "admin@acme.example", "acme-admin-1")


@pytest.fixture
def system_id(client: FlaskClient, token: str) -> str:
    answer = client.post(
        f"{API}/systems",
        json={"installationId": str(uuid.uuid4()), "name": "lab"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201
    found: str = (answer.json or {})["systemId"]
    return found


@pytest.fixture
def report(tmp_path: Path, system_id: str) -> dict[str, Any]:
    built = report_for(build_host(tmp_path / "host", "mx-one"))
    built["system"]["systemId"] = system_id
    return built


def post(
    client: FlaskClient,
    token: str,
    system_id: str,
    body: bytes,
    key: str | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    if key is not None:
        headers["Idempotency-Key"] = key

    return client.post(f"{API}/systems/{system_id}/reports", data=body, headers=headers)


def history(client: FlaskClient, token: str, system_id: str) -> list[dict[str, Any]]:
    answer = client.get(
        f"{API}/systems/{system_id}/reports",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    items: list[dict[str, Any]] = (answer.json or {})["_embedded"]["items"]
    return items


def test_a_valid_report_is_stored_once(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    body = encode(report)

    first = post(client, token, system_id, body, report["reportId"])
    again = post(client, token, system_id, body, report["reportId"])

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json == first.json
    assert [r["report"] for r in history(client, token, system_id)] == [report]


def test_the_history_is_newest_first_and_has_a_latest(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    ids = []

    for reason in ("link", "change", "daily"):
        report = {**report, "reportId": str(uuid.uuid4()), "reason": reason}
        ids.append(report["reportId"])
        assert (
            post(client, token, system_id, encode(report), ids[-1]).status_code == 201
        )

    items = history(client, token, system_id)
    latest = client.get(
        f"{API}/systems/{system_id}/reports/latest",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert [i["reason"] for i in items] == ["daily", "change", "link"]
    assert (latest.json or {})["report"]["reportId"] == ids[-1]


def test_a_reused_key_with_another_report_is_a_conflict(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    key = report["reportId"]
    assert post(client, token, system_id, encode(report), key).status_code == 201

    other = {**report, "reason": "daily"}
    answer = post(client, token, system_id, encode(other), key)

    assert answer.status_code == 409
    assert len(history(client, token, system_id)) == 1


def test_an_invalid_report_is_refused_naming_the_field(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    report["host"]["memoryBytes"] = "lots"

    answer = post(client, token, system_id, encode(report), report["reportId"])

    assert answer.status_code == 422
    body = answer.json or {}
    assert body["error"] == "invalid_report"
    assert "host/memoryBytes" in body["error_description"]
    assert history(client, token, system_id) == []


def test_a_report_naming_another_system_is_refused(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    report["system"]["systemId"] = str(uuid.uuid4())

    answer = post(client, token, system_id, encode(report), report["reportId"])

    assert answer.status_code == 422
    assert "system/systemId" in (answer.json or {})["error_description"]


def test_a_key_and_json_are_required(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    assert post(client, token, system_id, encode(report)).status_code == 400
    assert post(client, token, system_id, encode(report), "short").status_code == 400
    assert (
        post(client, token, system_id, b"{nope", str(uuid.uuid4())).status_code == 400
    )


def test_only_the_systems_account_may_report(
    client: FlaskClient, system_id: str, report: dict[str, Any]
) -> None:
    other = sign_in(client, "admin@globex.example", "globex-admin-1")

    anonymous = client.post(f"{API}/systems/{system_id}/reports", data=b"{}")
    foreign = post(client, other, system_id, encode(report), report["reportId"])

    assert anonymous.status_code == 401
    assert foreign.status_code == 404


def test_reports_survive_an_emulator_restart(
    tmp_path: Path,
    client: FlaskClient,
    token: str,
    system_id: str,
    report: dict[str, Any],
) -> None:
    assert (
        post(client, token, system_id, encode(report), report["reportId"]).status_code
        == 201
    )

    restarted = make_app(tmp_path / "state").test_client()

    assert [r["report"] for r in history(restarted, token, system_id)] == [report]


def test_the_admin_page_shows_the_latest_report(
    client: FlaskClient, token: str, system_id: str, report: dict[str, Any]
) -> None:
    assert (
        post(client, token, system_id, encode(report), report["reportId"]).status_code
        == 201
    )
    page = client.get("/admin/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert csrf

    client.post(
        "/admin/login",
        data={
            "csrf_token": csrf.group(1),
            "username": "admin@acme.example",
            "password": "acme-admin-1",
        },
    )
    html = client.get("/admin").get_data(as_text=True)

    assert "MiVoice MX-ONE 7.6.1.0.12" in html
    assert "MX-ONE Media Server 7.6.1" in html
    assert "mx-one-lab" in html
