"""Login, logout and the login check every page goes through."""

from __future__ import annotations

import hmac
import logging
import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from services.ui import PREFIX, accounts
from services.ui.context import dashboard

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix=PREFIX)

# Reachable without logging in: the login page itself, the supervisors'
# health check, the stylesheet the login page needs, and the bare redirect
# from / to the dashboard.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "dashboard.healthz", "static", "root"})

WRONG_LOGIN = "Wrong username or password"


def install(app: Flask) -> None:
    """Makes every other page of ``app`` ask for a login first."""

    app.before_request(_require_login)


def current_user() -> str | None:
    """The name of the logged-in account, or None.

    The account must still exist with the same password: removing it ends
    its sessions.
    """

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

    user = current_user()

    if user is not None:
        g.user = user
        return None

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
        error = (
            "Too many failed logins for this username or from this address. "
            f"Try again in {minutes} minute{'s' if minutes > 1 else ''}."
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
            "login.html", username=username, error=WRONG_LOGIN, next=wanted
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
    flash("You are logged out.", "info")
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
