"""The dashboard page, its views, and the link flow's checks and errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cld.v1 import registration_pb2 as pb
from flask import Flask, render_template
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services.common.version import build_info
from services.ui.backends import NOT_ANSWERING
from services.ui.dashboard import WRONG_SESSION
from services.ui.panels import link_panel

Post = Callable[..., TestResponse]


def _page(client: FlaskClient) -> str:
    return client.get("/cld/").get_data(as_text=True)


def test_the_standard_view_shows_the_version_only(logged_in: FlaskClient) -> None:
    page = _page(logged_in)

    assert "<title>CloudLink Daemon</title>" in page
    assert build_info().version in page
    assert "Switch to debug view" in page
    assert "Build number" not in page
    assert "Git commit" not in page


def test_the_debug_view_adds_the_build_and_stays_on(
    logged_in: FlaskClient, post: Post
) -> None:
    switched = post(logged_in, "/cld/view", view="debug")

    assert switched.status_code == 303
    assert switched.location == "/cld/"
    page = _page(logged_in)
    assert "Switch to standard view" in page

    for label in ("Build number", "Git commit", "Git branch", "Stage"):
        assert label in page

    post(logged_in, "/cld/view", view="standard")
    assert "Build number" not in _page(logged_in)


def test_an_unknown_view_is_refused(logged_in: FlaskClient, post: Post) -> None:
    assert post(logged_in, "/cld/view", view="fancy").status_code == 400


def test_a_silent_registration_service_is_explained_not_crashed_on(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.get("/cld/")

    assert response.status_code == 200
    assert NOT_ANSWERING in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cld/link", "/cld/unlink"])
def test_an_action_on_a_silent_registration_service_says_so(
    logged_in: FlaskClient, post: Post, path: str
) -> None:
    response = post(logged_in, path)

    assert response.status_code == 303
    assert response.location == "/cld/"
    assert f'<li class="message error" role="alert">{NOT_ANSWERING}' in _page(logged_in)


def test_a_callback_without_a_link_in_progress_does_nothing(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.get("/cld/link/callback?code=abc&state=s1")

    assert response.status_code == 303
    page = _page(logged_in)
    assert WRONG_SESSION in page
    assert "Linked to" not in page


@pytest.mark.parametrize(
    "query", ["code=abc&state=forged", "code=abc", "error=access_denied&state=x"]
)
def test_a_callback_with_another_state_does_nothing(
    logged_in: FlaskClient, query: str
) -> None:
    with logged_in.session_transaction("/cld/") as session:
        session["link_state"] = "s1"

    logged_in.get(f"/cld/link/callback?{query}")

    assert WRONG_SESSION in _page(logged_in)

    # The link in progress survives a forged callback.
    with logged_in.session_transaction("/cld/") as session:
        assert session["link_state"] == "s1"


def test_a_cancelled_sign_in_says_so(logged_in: FlaskClient) -> None:
    with logged_in.session_transaction("/cld/") as session:
        session["link_state"] = "s1"

    response = logged_in.get("/cld/link/callback?error=access_denied&state=s1")

    assert response.status_code == 303
    assert "Linking was cancelled" in _page(logged_in)

    with logged_in.session_transaction("/cld/") as session:
        assert "link_state" not in session


def test_a_callback_whose_completion_fails_says_why(logged_in: FlaskClient) -> None:
    with logged_in.session_transaction("/cld/") as session:
        session["link_state"] = "s1"

    logged_in.get("/cld/link/callback?code=abc&state=s1")

    assert NOT_ANSWERING in _page(logged_in)


def test_a_linked_panel_links_only_web_addresses() -> None:
    linked = pb.Link(
        state=pb.LINK_STATE_LINKED,
        account_name="Acme",
        admin_portal_url="javascript:alert(1)",
    )

    assert link_panel(linked).linked
    assert link_panel(linked).portal_url == ""

    linked.admin_portal_url = "https://portal.example/acme"
    assert link_panel(linked).portal_url == "https://portal.example/acme"


def test_an_unspecified_link_state_is_shown_as_not_linked() -> None:
    assert not link_panel(pb.Link()).linked


LINKED = pb.Link(
    state=pb.LINK_STATE_LINKED,
    account_name="Acme Dental",
    account_number="100001",
    region="eu",
    admin_portal_url="https://portal.example/acme",
    account_guid="guid-1",
    partner_id="partner-1",
    user_id="user-1",
    account_type="CUSTOMER",
    role="ACCOUNT_ADMIN",
    system_id="system-1",
)


def _render(app: Flask, link: pb.Link, *, debug: bool) -> str:
    with app.test_request_context("/cld/"):
        return render_template(
            "panels/registration.html",
            debug=debug,
            build=build_info(),
            registration=link_panel(link),
        )


def test_a_linked_system_shows_its_account_and_a_disconnect_button(
    app: Flask,
) -> None:
    page = _render(app, LINKED, debug=False)

    assert '<a href="https://portal.example/acme" rel="noreferrer">Acme Dental</a>' in (
        page
    )
    assert "100001" in page
    assert "<dd>eu</dd>" in page
    assert "Disconnect from CloudLink" in page
    assert "Link to CloudLink" not in page

    for hidden in ("guid-1", "partner-1", "user-1", "CUSTOMER", "ACCOUNT_ADMIN"):
        assert hidden not in page


def test_the_debug_view_adds_the_account_details(app: Flask) -> None:
    page = _render(app, LINKED, debug=True)

    for label, value in [
        ("Account GUID", "guid-1"),
        ("Partner ID", "partner-1"),
        ("User ID", "user-1"),
        ("Type", "CUSTOMER"),
        ("Role", "ACCOUNT_ADMIN"),
        ("System ID", "system-1"),
    ]:
        assert f"<dt>{label}</dt>" in page
        assert value in page


def test_a_lost_link_says_why(app: Flask) -> None:
    lost = pb.Link(state=pb.LINK_STATE_NOT_LINKED, reason="The cloud revoked it")

    page = _render(app, lost, debug=False)

    assert "The link was lost: The cloud revoked it" in page
    assert "Link to CloudLink" in page
    assert "Disconnect from CloudLink" not in page
