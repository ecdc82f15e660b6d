"""The admin page: a cloud user's view of the systems linked to their account."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from cloud import pages, reports, users, visits
from cloud.emulator import emulator
from cloud.seed import User
from cloud.web import csrf_error_page, csrf_ok, error_page, request_extra

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A system may provision thousands of users; the page lists the first ones
# and the count, the API serves the rest.
SYNCED_SHOWN = 500

_PAGE = pages.SignInPage(
    heading="CloudLink admin",
    intro="Sign in to see the systems linked to your account.",
    context="admin",
    cancellable=False,
)


@bp.get("")
def systems() -> Response | str:
    """The signed-in user's account and its linked systems."""

    user = _signed_in()

    if user is None:
        return redirect(url_for("admin.login"))

    em = emulator()
    rows = [
        (system, em.store.is_live(system.sid))
        for system in em.store.systems(user.account_id)
    ]
    latest = reports.latest_reports(system.system_id for system, _ in rows)
    return render_template(
        "admin.html",
        user=user,
        account=em.account_of(user),
        rows=rows,
        latest=latest,
        synced=users.user_store().systems_of(user.account_id),
        synced_shown=SYNCED_SHOWN,
        public_url=lambda system_id, tunnel: visits.public_url(
            em.config.relay_url, system_id, tunnel["component"], tunnel["name"]
        ),
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Signs a cloud user in to the admin page."""

    if request.method == "GET":
        if _signed_in():
            return redirect(url_for("admin.systems"))

        return pages.show(_PAGE)

    if not csrf_ok():
        return csrf_error_page()

    outcome = pages.submit(_PAGE)

    if isinstance(outcome, str):
        return outcome

    # A fresh session, so nothing from before the sign-in carries over.
    session.clear()
    session.permanent = True
    session["admin_user"] = outcome.user_id
    log.info(
        "User %s signed in to the admin page",
        outcome.user_id,
        extra=request_extra(),
    )
    return redirect(url_for("admin.systems"))


@bp.post("/logout")
def logout() -> Response | tuple[str, int]:
    """Signs the user out."""

    if not csrf_ok():
        return csrf_error_page()

    session.clear()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))


@bp.post("/systems/<system_id>/revoke")
def revoke(system_id: str) -> Response | tuple[str, int]:
    """Revokes the refresh token of the sign-in that linked a system."""

    user = _signed_in()

    if user is None:
        return redirect(url_for("admin.login"))

    if not csrf_ok():
        return csrf_error_page()

    if not user.is_admin:
        return error_page(
            403,
            "Not allowed",
            "Only an account administrator can revoke a system's access.",
        )

    em = emulator()
    system = em.store.system(user.account_id, system_id)

    if system is None:
        return error_page(404, "No such system", "This account has no such system.")

    if em.store.revoke_session(system.sid):
        log.info(
            "User %s revoked the access of system %s",
            user.user_id,
            system.system_id,
            extra={**request_extra(), "system_id": system.system_id},
        )

    flash(
        f"Access revoked for {system.name or system.system_id}: the cloud now "
        "rejects the refresh token it was linked with."
    )
    return redirect(url_for("admin.systems"))


@bp.post("/systems/<system_id>/tunnels/<component>/<name>/open")
def open_tunnel(
    system_id: str, component: str, name: str
) -> Response | tuple[str, int]:
    """Sends the browser into a tunnel of a system, signed in as this user."""

    user = _signed_in()

    if user is None:
        return redirect(url_for("admin.login"))

    if not csrf_ok():
        return csrf_error_page()

    system = emulator().store.system(user.account_id, system_id)

    if system is None:
        return error_page(404, "No such system", "This account has no such system.")

    if not any(
        (t.get("component"), t.get("name")) == (component, name)
        for t in _tunnels(system_id)
    ):
        return error_page(
            404, "No such tunnel", "The system's latest inventory has no such tunnel."
        )

    log.info(
        "User %s opens tunnel %s/%s of system %s",
        user.user_id,
        component,
        name,
        system_id,
        extra={**request_extra(), "system_id": system_id},
    )
    return redirect(visits.entry_url(user, system_id, component, name), 303)


def _tunnels(system_id: str) -> list[dict[str, str]]:
    stored = reports.latest_reports([system_id]).get(system_id)
    found = stored.report.get("tunnels") if stored else None
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def _signed_in() -> User | None:
    user_id = session.get("admin_user")
    return emulator().seed.user(user_id) if isinstance(user_id, str) else None
