"""The sign-in page of the authorization code flow (``/authorize``)."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from cloud import pages
from cloud.emulator import CodeGrant, emulator
from cloud.errors import ApiError
from cloud.oauth import AUTHORIZE_PARAMS, parse_authorize, redirect_with, single_values
from cloud.web import csrf_error_page, csrf_ok, error_page, request_extra

log = logging.getLogger(__name__)

bp = Blueprint("signin", __name__, url_prefix="/2017-09-01")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Response | str | tuple[str, int]:
    """Signs a user in and sends the browser back with a code.

    Any http(s) redirect_uri is accepted, as the emulator keeps no register
    of clients; the real cloud only redirects to URIs registered for the
    client.
    """

    try:
        params = single_values(request.args.items(multi=True), AUTHORIZE_PARAMS)
        auth = parse_authorize(params)
    except (ValueError, ApiError) as exc:
        log.info("Refused an authorize request: %s", exc, extra=request_extra())
        return error_page(
            400,
            "This sign-in link is not valid",
            f"{exc}. Go back to the page that sent you here and try again.",
        )

    page = pages.SignInPage(
        heading="Sign in to CloudLink",
        intro=f"Sign in with your CloudLink account to continue to {auth.client_id}.",
        context=auth,
        cancellable=True,
    )

    if request.method == "GET":
        return pages.show(page)

    if not csrf_ok():
        return csrf_error_page()

    if request.form.get("action") == "cancel":
        pages.forget()
        return redirect(
            redirect_with(
                auth.redirect_uri, {"error": "access_denied", "state": auth.state}
            )
        )

    outcome = pages.submit(page)

    if isinstance(outcome, str):
        return outcome

    code = emulator().codes.add(
        CodeGrant(
            outcome.user_id, auth.client_id, auth.redirect_uri, auth.code_challenge
        )
    )
    log.info(
        "Issued an authorization code to client %s",
        auth.client_id,
        extra={**request_extra(), "user_id": outcome.user_id},
    )
    return redirect(
        redirect_with(auth.redirect_uri, {"code": code, "state": auth.state})
    )
