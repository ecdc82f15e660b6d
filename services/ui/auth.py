"""Login, logout and the login check every page goes through."""

from __future__ import annotations

import hmac
import logging
import math
import re
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from services.common.settings import ConfigError
from services.ui import PREFIX, accounts, proxy
from services.ui.context import dashboard
from services.ui.i18n import N_, gettext, ngettext

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix=PREFIX)

# Reachable without logging in: the login page itself, the supervisors'
# health check, the stylesheet the login page needs, and the bare redirect
# from / to the dashboard.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "dashboard.healthz", "static", "root"})

# Answered with 401 rather than sent to the login page: scripts ask them.
API_ENDPOINTS = frozenset({"dashboard.live_panels"})

API_BLUEPRINT = "api"

WRONG_LOGIN = N_("Wrong username or password")

_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")


def check_header(name: str, trusted_proxies: str) -> None:
    """Raises ConfigError when CLD_UI_AUTH_HEADER cannot be used as set."""

    if not name:
        return

    if not _HEADER_NAME.fullmatch(name):
        raise ConfigError(
            f"CLD_UI_AUTH_HEADER={name!r} is not valid: expected a header name "
            "of letters, digits and '-'"
        )

    if not trusted_proxies.strip():
        raise ConfigError(
            f"CLD_UI_AUTH_HEADER={name!r} needs CLD_UI_TRUSTED_PROXIES: the "
            "header is believed only from the proxies listed there"
        )


def install(app: Flask) -> None:
    """Makes every other page of ``app`` ask for a login first."""

    app.before_request(_require_login)


def proxied_user() -> str | None:
    """The user a trusted reverse proxy says it logged in, or None.

    Only when CLD_UI_AUTH_HEADER names a header and the request came from a
    CLD_UI_TRUSTED_PROXIES address; from anyone else the header is ignored,
    since anyone can send it. A name that is not a valid account name is
    refused outright rather than taken as no login.
    """

    header = dashboard().auth_header

    if not header or not request.environ.get(proxy.FROM_TRUSTED_PROXY):
        return None

    name = request.headers.get(header, "").strip()

    if not name:
        return None

    if not accounts.NAME_PATTERN.fullmatch(name):
        log.warning("Refused the proxy's user %r: not a valid name", name[:64])
        abort(403, description=gettext("The proxy sent a user name that is not valid."))

    return name


def current_user() -> str | None:
    """The name of the logged-in user, or None.

    A local account must still exist with the same password: removing it
    ends its sessions.
    """

    proxied = proxied_user()

    if proxied is not None:
        g.proxied = True
        return proxied

    name = session.get("user")
    stamp = session.get("stamp")

    if not isinstance(name, str) or not isinstance(stamp, str):
        return None

    account = accounts.load(dashboard().users_file).get(name)

    if account is None or not hmac.compare_digest(account.stamp, stamp):
        return None

    return name


def _require_login() -> Response | None:
    # Without an endpoint, routing already failed (404, 405) and the error
    # is answered as is; it reveals nothing behind the login.
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None

    # Provisioning Manager's API asks for its own clients' credentials; a
    # dashboard session must not open it.
    if request.blueprint == API_BLUEPRINT:
        return None

    user = current_user()

    if user is not None:
        g.user = user
        return None

    if request.endpoint in API_ENDPOINTS:
        response = jsonify({"error": "login required"})
        response.status_code = 401
        return response

    wanted = None

    if request.method == "GET":
        wanted = f"{request.script_root}{request.full_path}".rstrip("?")

    return redirect(url_for("auth.login", next=wanted, _external=True))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    """Shows the login form, and logs in with it."""

    wanted = _safe_next(request.values.get("next"))

    if request.method == "GET":
        if current_user() is not None:
            return redirect(wanted or url_for("dashboard.index"))

        return render_template("login.html", username="", error=None, next=wanted)

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    parts = dashboard()
    keys = (f"user:{username.casefold()}", f"address:{request.remote_addr}")
    wait = parts.throttle.retry_after(keys)

    if wait > 0:
        minutes = math.ceil(wait / 60)
        log.warning(
            "Refused a login for %r from %s: too many failures",
            username[:64],
            request.remote_addr,
        )
        error = ngettext(
            "Too many failed logins for this username or from this address. "
            "Try again in %(num)d minute.",
            "Too many failed logins for this username or from this address. "
            "Try again in %(num)d minutes.",
            minutes,
        )
        page = render_template(
            "login.html", username=username, error=error, next=wanted
        )
        return page, 429, {"Retry-After": str(math.ceil(wait))}

    account = accounts.authenticate(parts.users_file, username, password)

    if account is None:
        parts.throttle.failed(keys)
        log.warning("Failed login for %r from %s", username[:64], request.remote_addr)
        page = render_template(
            "login.html", username=username, error=gettext(WRONG_LOGIN), next=wanted
        )
        return page, 401, {}

    parts.throttle.succeeded(keys[0])

    # A fresh session at login, so nothing set before it (by anyone who
    # planted a cookie) carries over.
    session.clear()
    session.permanent = True
    session["user"] = account.name
    session["stamp"] = account.stamp
    log.info("%s logged in from %s", account.name, request.remote_addr)
    return redirect(wanted or url_for("dashboard.index"), 303)


@bp.post("/logout")
def logout() -> Response:
    """Ends the session.

    The session lives in a signed cookie, so a copy of the cookie taken
    before logout stays valid until it expires (sessions.LIFETIME); only
    removing the account ends every session at once.
    """

    log.info("%s logged out", g.get("user"))
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"), 303)


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a page of this dashboard, else None.

    Anything else would let a crafted login link send the browser to another
    site after logging in.
    """

    if not target or "\\" in target:
        return None

    parts = urlsplit(target)

    if parts.scheme or parts.netloc or target.startswith("//"):
        return None

    if not target.startswith(f"{request.script_root}{PREFIX}/"):
        return None

    return target
