"""The dashboard page, the panels it polls, its view switch, link and unlink."""

from __future__ import annotations

import hmac
import logging

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

from services.ui import PREFIX, panels
from services.ui.backends import BackendError
from services.ui.context import dashboard
from services.ui.i18n import N_, gettext

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, url_prefix=PREFIX)

VIEWS = ("standard", "debug")

WRONG_SESSION = N_("This link request did not start from this dashboard session.")

# Seconds between a dashboard's looks for changed panels.
POLL_INTERVAL = 3


@bp.get("/healthz")
def healthz() -> Response:
    """Answers supervisors: the dashboard is up."""

    return jsonify({"status": "ok"})


@bp.get("/")
def index() -> str:
    """The dashboard, in the standard or the debug view."""

    debug = session.get("view") == "debug"
    return render_template(
        "dashboard.html",
        debug=debug,
        slots=panels.render_all(debug),
        poll_interval=POLL_INTERVAL,
    )


@bp.get("/panels")
def live_panels() -> Response:
    """Every panel as the page shows it now, for the page to swap changed ones."""

    slots = panels.render_all(session.get("view") == "debug")
    response = jsonify(
        {"panels": {s.id: {"digest": s.digest, "html": str(s.html)} for s in slots}}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/view")
def switch_view() -> Response:
    """Switches between the standard and the debug view."""

    view = request.form.get("view", "")

    if view not in VIEWS:
        abort(400, description=gettext("There is no %(view)r view.", view=view))

    session["view"] = view
    return _to_dashboard()


@bp.post("/link")
def link() -> Response:
    """Sends the browser to the cloud's sign-in page to link this system."""

    callback = url_for(".link_callback", _external=True)

    try:
        begun = dashboard().registration.begin_link(callback)
    except BackendError as exc:
        flash(gettext(exc.message), "error")
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
        flash(gettext(WRONG_SESSION), "error")
        return _to_dashboard()

    session.pop("link_state")
    error = request.args.get("error")
    code = request.args.get("code", "")

    if error == "access_denied":
        flash(gettext("Linking was cancelled"), "info")

    elif error:
        reason = request.args.get("error_description") or error
        flash(
            gettext("CloudLink did not link this system: %(reason)s", reason=reason),
            "error",
        )

    elif not code:
        flash(
            gettext("CloudLink sent no link code back; start linking again."),
            "error",
        )

    else:
        try:
            linked = dashboard().registration.complete_link(code, state)
        except BackendError as exc:
            flash(gettext(exc.message), "error")
        else:
            log.info("Linked to CloudLink account %s", linked.account_name)
            flash(
                gettext(
                    "Linked to CloudLink account %(account)s",
                    account=linked.account_name,
                ),
                "info",
            )

    return _to_dashboard()


@bp.post("/unlink")
def unlink() -> Response:
    """Disconnects this system from CloudLink."""

    try:
        result = dashboard().registration.unlink()
    except BackendError as exc:
        flash(gettext(exc.message), "error")
        return _to_dashboard()

    log.info("Disconnected from CloudLink")
    flash(gettext("Disconnected from CloudLink"), "info")

    # The link is gone locally in any case; a note says what the cloud did not.
    if result.reason:
        flash(gettext(result.reason), "error")

    return _to_dashboard()


def _to_dashboard() -> Response:
    return redirect(url_for(".index"), 303)
