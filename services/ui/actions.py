"""The inventory, update and tunnel panels' actions, and the report preview."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from services.ui import PREFIX
from services.ui.backends import BackendError
from services.ui.context import dashboard
from services.ui.i18n import gettext
from services.ui.service_panels import FormError, pretty_report, schedule_from_form

log = logging.getLogger(__name__)

bp = Blueprint("actions", __name__, url_prefix=PREFIX)

# What the cloud answered a report submitted on demand: stored, or already
# stored before; anything else leaves the report queued for a retry.
STORED = ("delivered", "duplicate")


@bp.get("/inventory/preview")
def preview_report() -> str:
    """The report the next submission would carry, for the debug view."""

    try:
        report = pretty_report(dashboard().inventory.preview())
    except BackendError as exc:
        return render_template("preview.html", report=None, error=gettext(exc.message))

    return render_template("preview.html", report=report, error=None)


@bp.post("/inventory/submit")
def submit_report() -> Response:
    """Submits an inventory report now."""

    try:
        status = dashboard().inventory.submit()
    except BackendError as exc:
        flash(gettext(exc.message), "error")
        return _to_dashboard()

    if status.last_result in STORED:
        log.info("Inventory report %s submitted from the dashboard", status.report_id)
        flash(gettext("Submitted"), "info")
    elif status.last_error:
        flash(
            gettext("Queued; will retry: %(error)s", error=status.last_error),
            "error",
        )
    else:
        flash(gettext("Queued; will retry"), "info")

    return _to_dashboard()


@bp.post("/update/reschedule")
def reschedule() -> Response:
    """Sets when updates are checked for and applied."""

    try:
        schedule = schedule_from_form(request.form)
    except FormError as exc:
        flash(gettext("The schedule was not changed: %(reason)s", reason=exc), "error")
        return _to_dashboard()

    try:
        dashboard().updater.reschedule(schedule)
    except BackendError as exc:
        reason = gettext(exc.message)
        flash(
            gettext("The schedule was not changed: %(reason)s", reason=reason), "error"
        )
    else:
        flash(gettext("The update schedule was changed"), "info")

    return _to_dashboard()


@bp.post("/update/pause")
def pause_updates() -> Response:
    """Holds scheduled updates back until resumed."""

    if _act(dashboard().updater.pause):
        flash(gettext("Updates are paused"), "info")

    return _to_dashboard()


@bp.post("/update/resume")
def resume_updates() -> Response:
    """Lets scheduled updates run again."""

    if _act(dashboard().updater.resume):
        flash(gettext("Updates are resumed"), "info")

    return _to_dashboard()


@bp.post("/update/now")
def update_now() -> Response:
    """Starts an update now."""

    if _act(dashboard().updater.update_now):
        flash(gettext("The update has started"), "info")

    return _to_dashboard()


@bp.post("/tunnels/start")
def start_tunnel() -> Response:
    """Starts one tunnel."""

    component, name = _tunnel_ref()
    _act(lambda: dashboard().tunnel.start(component, name))
    return _to_dashboard()


@bp.post("/tunnels/stop")
def stop_tunnel() -> Response:
    """Stops one tunnel."""

    component, name = _tunnel_ref()
    _act(lambda: dashboard().tunnel.stop(component, name))
    return _to_dashboard()


@bp.post("/tunnels/start-all")
def start_all_tunnels() -> Response:
    """Starts every tunnel."""

    _act(dashboard().tunnel.start_all)
    return _to_dashboard()


@bp.post("/tunnels/stop-all")
def stop_all_tunnels() -> Response:
    """Stops every tunnel."""

    _act(dashboard().tunnel.stop_all)
    return _to_dashboard()


def _tunnel_ref() -> tuple[str, str]:
    return request.form.get("component", ""), request.form.get("name", "")


def _act(action: Callable[[], object]) -> bool:
    """Runs ``action``; a failure becomes a message on the dashboard."""

    try:
        action()
    except BackendError as exc:
        flash(gettext(exc.message), "error")
        return False

    return True


def _to_dashboard() -> Response:
    return redirect(url_for("dashboard.index"), 303)
