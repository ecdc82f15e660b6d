"""The dashboard's languages: which one a request gets, and its catalogues."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask_babel  # type: ignore[import-untyped]
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request

from services.common.settings import ConfigError

log = logging.getLogger(__name__)

DEFAULT = "en"
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "sv")

SOURCE = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


def compiled_dir(runtime_dir: Path) -> Path:
    """Where the compiled catalogues go: generated at start-up, never shipped."""

    return runtime_dir / "ui-translations"


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks ``message`` for translation where it is shown, not where it is made."""

    return message


def gettext(message: str, **values: Any) -> str:
    """``message`` in the current request's language, with ``values`` put in."""

    return str(flask_babel.gettext(message, **values))


def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
    """The form of a message for ``count``, in the current request's language."""

    return str(flask_babel.ngettext(singular, plural, count, **values))


def current_language() -> str:
    """The language the current request is answered in."""

    return str(flask_babel.get_locale() or DEFAULT)


def supported(language: str) -> str | None:
    """The dashboard language a host language code names, or None.

    Hosts write their language as ``fr``, ``fr_FR``, ``fr-FR.UTF-8`` or
    ``de_DE@euro``; only the language part chooses the catalogue.
    """

    code = language.strip().replace("-", "_").split("_")[0].split(".")[0]
    code = code.split("@")[0].lower()
    return code if code in LANGUAGES else None


def check_setting(raw: str) -> None:
    """Raises ConfigError naming CLD_UI_LANGUAGE when it is set to no language."""

    if raw and supported(raw) is None:
        raise ConfigError(
            f"CLD_UI_LANGUAGE={raw!r} is not valid: expected one of "
            f"{', '.join(LANGUAGES)} or empty"
        )


def choose(host: str | None, accepted: Callable[[], str | None]) -> str:
    """The host's language when supported, else the browser's, else English."""

    if host:
        chosen = supported(host)

        if chosen is not None:
            return chosen

    return accepted() or DEFAULT


def compile_catalogues(source: Path, target: Path) -> Path:
    """Compiles each ``.po`` below ``source`` into a ``.mo`` below ``target``.

    Catalogues already up to date are left alone; each new file is written
    beside its final name and moved into place, so workers compiling at the
    same moment never read half a file. Returns ``target``.
    """

    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")

        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue

        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])

        mo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".messages.", dir=mo.parent)

        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)

            os.replace(tmp, mo)
        finally:
            Path(tmp).unlink(missing_ok=True)

    return target


def install(
    app: Flask, translations: Path, host_language: Callable[[], str], zone: str
) -> None:
    """Gives ``app`` its catalogues, its language per request and its time zone.

    ``host_language`` is asked on every request, so a language the host
    platform announces after start-up is followed at once. Dates are shown
    in ``zone``, the host's, whatever the browser's.
    """

    def locale() -> str:
        return choose(
            host_language(),
            lambda: request.accept_languages.best_match(LANGUAGES),
        )

    flask_babel.Babel(
        app,
        locale_selector=locale,
        timezone_selector=lambda: zone,
        default_translation_directories=str(translations),
    )
