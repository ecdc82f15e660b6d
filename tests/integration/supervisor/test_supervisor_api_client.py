"""Provisioning Manager's API client: made on the first run, shown beside the login."""

from __future__ import annotations

import stat
from pathlib import Path

from services.ui import accounts
from supervisor.banner import Banner
from supervisor.login import API_CLIENT, api_client_password
from supervisor.plan import Options, build, urls

RUN = Path("/srv/run")


def test_the_api_client_is_made_once_kept_privately_and_shown_again(
    tmp_path: Path,
) -> None:
    clients, kept = tmp_path / "state" / "api-clients.json", tmp_path / "api.txt"

    first = api_client_password(clients, kept)

    assert first is not None
    assert accounts.authenticate(clients, API_CLIENT, first) is not None
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().startswith(f"user: {API_CLIENT}\n")
    assert api_client_password(clients, kept) == first


def test_api_clients_made_elsewhere_are_left_alone(tmp_path: Path) -> None:
    clients, kept = tmp_path / "api-clients.json", tmp_path / "api.txt"
    accounts.add(clients, "pm-prod", "pm-password")

    assert api_client_password(clients, kept) is None
    assert not kept.exists()
    assert list(accounts.load(clients)) == ["pm-prod"]


def test_the_banner_shows_the_api_client_and_its_document() -> None:
    options = Options(run_dir=RUN)

    text = Banner(
        urls=urls(options),
        logs_dir=options.logs_dir,
        login_file=options.login_file,
        users_file=options.users_file,
        dashboard_password="s3cret-pass",
        api_login_file=options.api_login_file,
        api_client_password="pm-pass",
    ).render()

    assert (
        "provisioning-manager / pm-pass  (kept in /srv/run/api-client-login.txt)"
        in text
    )
    assert "http://127.0.0.1:8080/cld/api/v1/openapi.json" in text


def test_the_dashboard_is_told_where_the_api_clients_are() -> None:
    options = Options(run_dir=RUN)

    specs = build(options, python="/py", mosquitto="/mq", source_dir=Path("/src"))
    ui = next(spec for spec in specs if spec.name == "ui")

    assert ui.env["CLD_UI_API_CLIENTS_FILE"] == "/srv/run/state/ui/api-clients.json"
