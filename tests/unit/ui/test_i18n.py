"""Languages: which one a page is in, and catalogues that translate everything."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from services.common.config import Config
from services.common.settings import ConfigError, load
from services.ui import i18n
from services.ui.app import create_app
from services.ui.live import PLATFORM, LiveState

UI = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def _extracted() -> dict[str, tuple[str, ...]]:
    """Every message the dashboard's code and templates hand to gettext."""

    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"N_": None, "gettext": None, "ngettext": (1, 2), "_": None}
    found: dict[str, tuple[str, ...]] = {}

    for _, _, message, _, _ in extract_from_dir(str(UI), method_map, keywords=keywords):
        forms = (message,) if isinstance(message, str) else tuple(message)
        found[forms[0]] = forms

    return found


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    path = i18n.SOURCE / language / "LC_MESSAGES" / "messages.po"

    with path.open("rb") as f:
        catalog = read_po(f, locale=language)

    extracted = _extracted()
    assert len(extracted) > 60

    for msgid, forms in extracted.items():
        entry = catalog.get(forms if len(forms) > 1 else msgid)
        assert entry is not None, f"{language}: {msgid!r} is not in the catalogue"
        assert not entry.fuzzy, f"{language}: {msgid!r} is fuzzy"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings), f"{language}: {msgid!r} is not translated"

        for translated in strings:
            assert set(PLACEHOLDER.findall(translated)) == set(
                PLACEHOLDER.findall(msgid)
            ), f"{language}: {msgid!r} lost a placeholder"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("fr", "fr"),
        ("fr_FR", "fr"),
        ("de-DE.UTF-8", "de"),
        ("sv_SE@euro", "sv"),
        ("PT", "pt"),
        ("ja_JP", None),
        ("", None),
    ],
)
def test_host_language_codes_name_a_catalogue(host: str, expected: str | None) -> None:
    assert i18n.supported(host) == expected


def test_the_host_language_comes_first_then_the_browser_then_english() -> None:
    assert i18n.choose("it_IT", lambda: "de") == "it"
    assert i18n.choose("ja_JP", lambda: "de") == "de"
    assert i18n.choose("", lambda: None) == "en"


def test_an_unsupported_language_setting_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="CLD_UI_LANGUAGE"):
        i18n.check_setting("klingon")

    i18n.check_setting("")
    i18n.check_setting("nl")


def test_catalogues_compile_once_and_again_when_changed(tmp_path: Path) -> None:
    source = tmp_path / "source"
    po = source / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "Dashboard"\nmsgstr "Tableau de bord"\n', encoding="utf-8")

    target = i18n.compile_catalogues(source, tmp_path / "compiled")
    mo = target / "fr" / "LC_MESSAGES" / "messages.mo"
    assert b"Tableau de bord" in mo.read_bytes()
    first = mo.stat().st_mtime_ns

    i18n.compile_catalogues(source, target)
    assert mo.stat().st_mtime_ns == first

    po.write_text('msgid "Dashboard"\nmsgstr "Le tableau"\n', encoding="utf-8")
    newer = mo.stat().st_mtime + 5
    os.utime(po, (newer, newer))
    i18n.compile_catalogues(source, target)
    assert b"Le tableau" in mo.read_bytes()


def _login_page(client: FlaskClient, accept: str = "") -> str:
    headers = {"Accept-Language": accept} if accept else {}
    return client.get("/cld/login", headers=headers).get_data(as_text=True)


def test_the_browser_language_is_used_when_the_host_says_nothing(
    client: FlaskClient,
) -> None:
    assert '<html lang="en">' in _login_page(client)
    assert "Log in" in _login_page(client)

    german = _login_page(client, "de-CH,de;q=0.9,en;q=0.5")
    assert '<html lang="de">' in german
    assert "Benutzername" in german

    assert "Username" in _login_page(client, "ja,ko;q=0.8")


def test_the_host_language_from_the_bus_beats_the_browser(
    client: FlaskClient, live: LiveState
) -> None:
    live.update(PLATFORM, {"language": "sv_SE"})

    page = _login_page(client, "de")

    assert '<html lang="sv">' in page
    assert "Användarnamn" in page


def test_the_language_setting_beats_the_bus(config: Config) -> None:
    live = LiveState()
    live.update(PLATFORM, {"language": "sv"})
    settings = load(
        Config,
        {
            "CLD_HOST_ROOT": str(config.host_root),
            "CLD_STATE_DIR": str(config.state_dir),
            "CLD_RUNTIME_DIR": str(config.runtime_dir),
            "CLD_UI_LANGUAGE": "es",
        },
    )
    client = create_app(settings, registry=CollectorRegistry(), live=live).test_client()

    assert "Nombre de usuario" in _login_page(client, "de")


def test_a_logged_in_page_and_its_flashes_are_translated(
    logged_in: FlaskClient,
) -> None:
    headers = {"Accept-Language": "fr"}
    page = logged_in.get("/cld/", headers=headers).get_data(as_text=True)

    assert "Passer à la vue de débogage" in page
    assert "Le service d&#39;enregistrement ne répond pas" in page

    form = {"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]}
    logged_in.post("/cld/logout", data=form, headers=headers)
    after = logged_in.get("/cld/login", headers=headers).get_data(as_text=True)
    assert "Vous êtes déconnecté." in after
