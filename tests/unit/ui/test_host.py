"""The host platform: its name on every page, its language, its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cld.v1 import registration_pb2 as pb
from flask import render_template
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from services.common.config import Config
from services.common.settings import ConfigError, load
from services.ui import host
from services.ui.app import create_app
from services.ui.panels import link_panel


def _config(config: Config, **extra: str) -> Config:
    return load(
        Config,
        {
            "CLD_HOST_ROOT": str(config.host_root),
            "CLD_STATE_DIR": str(config.state_dir),
            "CLD_RUNTIME_DIR": str(config.runtime_dir),
            **extra,
        },
    )


def _client(config: Config) -> FlaskClient:
    return create_app(config, registry=CollectorRegistry()).test_client()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_unknown_host_shows_the_product_name_alone(client: FlaskClient) -> None:
    page = client.get("/cld/login").get_data(as_text=True)

    assert "<title>CloudLink Daemon</title>" in page
    assert 'class="platform"' not in page


def test_a_detected_platform_names_the_page_and_sets_its_language(
    config: Config,
) -> None:
    _write(
        config.host_root,
        {
            "etc/opt/eri_sn/mxone_version": "MX-ONE 7.6.1\n",
            "etc/sysconfig/language": 'RC_LANG="fr_FR.UTF-8"\n',
        },
    )

    page = _client(_config(config)).get("/cld/login", headers={"Accept-Language": "de"})
    text = page.get_data(as_text=True)

    assert "<title>CloudLink Daemon \u2013 MiVoice MX-ONE</title>" in text
    assert '<span class="platform">MiVoice MX-ONE</span>' in text
    assert '<html lang="fr">' in text
    assert "Nom d'utilisateur" in text


def test_the_configured_platform_wins_over_detection(config: Config) -> None:
    found = host.read_host(_config(config, CLD_PLATFORM="sip-dect"))

    assert found.name != ""
    assert found.language == ""


def test_the_host_time_zone_is_read_from_the_host(config: Config) -> None:
    _write(config.host_root, {"etc/timezone": "Europe/Stockholm\n"})

    assert host.read_host(_config(config)).zone == "Europe/Stockholm"
    assert host.Host().zone == "Etc/UTC"


def test_an_unknown_platform_setting_names_its_variable(config: Config) -> None:
    with pytest.raises(ConfigError, match="CLD_PLATFORM"):
        host.check(_config(config, CLD_PLATFORM="commodore-64"))

    host.check(_config(config, CLD_PLATFORM="mx-one"))


@pytest.mark.parametrize(
    ("language", "shown"),
    [("fr", "4 mai 2026, 12:30:00"), ("en", "May 4, 2026, 12:30:00\u202fPM")],
)
def test_dates_are_in_the_host_zone_in_the_readers_style(
    config: Config, language: str, shown: str
) -> None:
    _write(config.host_root, {"etc/timezone": "Europe/Paris\n"})
    link = pb.Link(state=pb.LINK_STATE_LINKED, account_name="Acme")
    link.linked_at.FromDatetime(datetime(2026, 5, 4, 10, 30, tzinfo=UTC))
    app = create_app(_config(config), registry=CollectorRegistry())

    headers = {"Accept-Language": language}

    with app.test_request_context("/cld/", headers=headers):
        page = render_template(
            "panels/registration.html", debug=False, registration=link_panel(link)
        )

    assert f"<dd>{shown}</dd>" in page
