"""The dashboard page, its view switch, and the link and unlink actions."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from cld.v1 import registration_pb2 as pb
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from services.common.version import build_info
from services.ui import PREFIX
from services.ui.backends import BackendError
from services.ui.context import dashboard

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, url_prefix=PREFIX)

VIEWS = ("standard", "debug")

WRONG_SESSION = "This link request did not start from this dashboard session."


@dataclass(frozen=True)
class LinkPanel:
    """What the CloudLink Registration panel shows."""

    linked: bool
    link: pb.Link
    portal_url: str
    error: str | None = None


def link_panel(link: pb.Link | None, error: str | None = None) -> LinkPanel:
    """The panel for ``link``, or for the error that kept it from being read."""

    if link is None:
        return LinkPanel(False, pb.Link(), "", error)

    # The portal address comes from the cloud; only a web address becomes a
    # link, never a javascript: or data: one.
    url = link.admin_portal_url
    portal_url = url if url.startswith(("https://", "http://")) else ""
    return LinkPanel(link.state == pb.LINK_STATE_LINKED, link, portal_url)


@bp.get("/healthz")
def healthz() -> Response:
    """Answers supervisors: the dashboard is up."""

    return jsonify({"status": "ok"})


@bp.get("/")
def index() -> str:
    """The dashboard, in the standard or the debug view."""

    try:
        panel = link_panel(dashboard().registration.get_link())
    except BackendError as exc:
        panel = link_panel(None, exc.message)

    return render_template(
        "dashboard.html",
        debug=session.get("view") == "debug",
        build=build_info(),
        registration=panel,
    )


@bp.post("/view")
def switch_view() -> Response:
    """Switches between the standard and the debug view."""

    view = request.form.get("view", "")

    if view not in VIEWS:
        abort(400, description=f"There is no {view!r} view.")

    session["view"] = view
    return _to_dashboard()


@bp.post("/link")
def link() -> Response:
    """Sends the browser to the cloud's sign-in page to link this system."""

    callback = url_for(".link_callback", _external=True)

    try:
        begun = dashboard().registration.begin_link(callback)
    except BackendError as exc:
        flash(exc.message, "error")
        return _to_dashboard()

    # The cloud sends this back; it proves the browser that returns is the
    # one that started here (no one else can make us link to their account).
    session["link_state"] = begun.state
    return redirect(begun.authorize_url, 303)


@bp.get("/link/callback")
def link_callback() -> Response:
    """Where the cloud sends the browser back after its sign-in page."""

    expected = session.get("link_state")
    state = request.args.get("state", "")

    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), state.encode()
    ):
        log.warning("Refused a link callback whose state is not this session's")
        flash(WRONG_SESSION, "error")
        return _to_dashboard()

    session.pop("link_state")
    error = request.args.get("error")
    code = request.args.get("code", "")

    if error == "access_denied":
        flash("Linking was cancelled", "info")

    elif error:
        reason = request.args.get("error_description") or error
        flash(f"CloudLink did not link this system: {reason}", "error")

    elif not code:
        flash("CloudLink sent no link code back; start linking again.", "error")

    else:
        try:
            linked = dashboard().registration.complete_link(code, state)
        except BackendError as exc:
            flash(exc.message, "error")
        else:
            log.info("Linked to CloudLink account %s", linked.account_name)
            flash(f"Linked to CloudLink account {linked.account_name}", "info")

    return _to_dashboard()


@bp.post("/unlink")
def unlink() -> Response:
    """Disconnects this system from CloudLink."""

    try:
        result = dashboard().registration.unlink()
    except BackendError as exc:
        flash(exc.message, "error")
        return _to_dashboard()

    log.info("Disconnected from CloudLink")
    flash("Disconnected from CloudLink", "info")

    # The link is gone locally in any case; a note says what the cloud did not.
    if result.reason:
        flash(result.reason, "error")

    return _to_dashboard()


def _to_dashboard() -> Response:
    return redirect(url_for(".index"), 303)
