"""The signed session cookie: its secret key and its settings."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request

from services.common.config import Config
from services.ui import PREFIX

log = logging.getLogger(__name__)

SECRET_FILE = "session-secret"  # noqa: S105 - a file name, not a secret
COOKIE_NAME = "cld_session"
_KEY_BYTES = 32

# An idle dashboard asks for the password again after this long.
LIFETIME = timedelta(hours=8)


def secret_key(state_dir: Path) -> bytes:
    """The key signing session cookies, created on first use.

    Every gunicorn worker must sign with the same key, or a login made in one
    worker is unknown to the others. The master creates it before forking;
    the file is made complete beside its final name and then hard-linked into
    place, which fails if another process got there first, so concurrent
    creators all end up reading the one winning key.
    """

    path = state_dir / SECRET_FILE
    key = _read(path)

    if key is not None:
        return key

    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{SECRET_FILE}.", dir=state_dir)

    try:
        os.fchmod(fd, 0o600)

        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(_KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())

        try:
            os.link(tmp, path)
            log.info("Created the session key %s", path)
        except FileExistsError:
            if _read(path) is None:
                log.warning("Replacing the unreadable session key %s", path)
                os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)

    key = _read(path)

    if key is None:
        raise OSError(f"cannot read back the session key {path}")

    return key


def _read(path: Path) -> bytes | None:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        return None

    return key if len(key) >= _KEY_BYTES else None


def configure(app: Flask, config: Config) -> None:
    """Sets ``app``'s session key and cookie attributes from ``config``."""

    app.config.update(
        SECRET_KEY=secret_key(config.service_state_dir("ui")),
        # The cloud emulator and other local web apps share the host name,
        # and browsers share cookies across ports: a name of our own.
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.ui_secure_cookies,
        PERMANENT_SESSION_LIFETIME=LIFETIME,
    )
    app.session_interface = _PrefixedCookieSessions()


class _PrefixedCookieSessions(SecureCookieSessionInterface):
    """Scopes the cookie to the dashboard's path, wherever a proxy mounts it.

    Provisioning Manager's API neither reads nor sets the cookie: its calls
    get a null session, which refuses to be written.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The cookie's session; a null session below the API's path."""

        if request.path.startswith(f"{PREFIX}/api/"):
            return None

        return super().open_session(app, request)

    def get_cookie_path(self, app: Flask) -> str:
        """``/cld`` below the prefix a trusted proxy forwarded, if any."""

        script_root = request.script_root if has_request_context() else ""
        return f"{script_root}{PREFIX}"
