"""The emulator as a real process: ``python -m cloud`` under gunicorn, over HTTP."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import ROOT, Cloud


def _records(cloud: Cloud) -> list[dict[str, Any]]:
    """The emulator's output, every line of which must be a JSON log record."""

    return [json.loads(line) for line in cloud.output().splitlines() if line.strip()]


def _run_to_exit(cloud: Cloud, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cloud.argv,
        env={**cloud.env, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


def test_link_survives_a_restart_and_sigterm_stops_it(cloud: Cloud) -> None:
    http = requests.Session()
    grant = http.post(
        f"{cloud.url}/2017-09-01/token",
        json={
            "grant_type": "password",
            "username": "admin@acme.example",
            "password": "acme-admin-1",
        },
        timeout=5,
    )
    assert grant.status_code == 200, grant.text
    tokens = grant.json()

    linked = http.post(
        f"{cloud.url}/2017-09-01/systems",
        json={
            "installationId": str(uuid.uuid4()),
            "name": "MX-ONE lab",
            "platform": "MiVoice MX-ONE",
            "hostname": "mx1.lab.example",
            "daemonVersion": "0.1.0",
        },
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert linked.status_code == 201, linked.text
    system = linked.json()
    assert system["portalUrl"] == f"{cloud.url}/admin"

    # The client still holding its session open must not hold up the stop.
    cloud.stop()
    assert cloud.proc is not None
    assert cloud.proc.returncode == 0

    cloud.start()
    refreshed = requests.post(
        f"{cloud.url}/2017-09-01/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        timeout=5,
    )
    assert refreshed.status_code == 200, refreshed.text

    fetched = requests.get(
        f"{cloud.url}/2017-09-01/systems/{system['systemId']}",
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        timeout=5,
    )
    assert fetched.json() == system

    cloud.stop()
    assert cloud.proc.returncode == 0

    records = _records(cloud)
    assert {r["service"] for r in records} == {"cloud"}
    assert sum(r["message"].startswith("Starting gunicorn") for r in records) == 2
    assert not [r for r in records if r["level"] in {"ERROR", "CRITICAL"}]
    assert tokens["refresh_token"] not in cloud.output()
    assert "acme-admin-1" not in cloud.output()


def test_a_bad_setting_stops_start_up(tmp_path: Path) -> None:
    result = _run_to_exit(Cloud(tmp_path), CLD_CLOUD_TOKEN_TTL="soon")

    assert result.returncode == 2
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert "CLD_CLOUD_TOKEN_TTL" in record["message"]


def test_a_bad_seed_stops_start_up(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"partners": []}')

    result = _run_to_exit(Cloud(tmp_path), CLD_CLOUD_SEED_FILE=str(seed))

    assert result.returncode == 1
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert f"{seed}: accounts" in record["message"]
