"""The inventory, update and tunnel panels when their services are not running.

The runtime folder has no sockets, so every call meets a real gRPC
"unavailable": the panels and actions must say so, not fail.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from services.ui.live import GATEWAY, LiveState

Post = Callable[..., TestResponse]


def test_each_panel_says_which_service_is_not_answering(
    logged_in: FlaskClient,
) -> None:
    panels = logged_in.get("/cld/panels").get_json()["panels"]

    assert "Inventory Report Submission" in panels["inventory"]["html"]
    assert "The inventory service is not answering" in panels["inventory"]["html"]
    assert "The updater service is not answering" in panels["update"]["html"]
    assert "The tunnel service is not answering" in panels["tunnels"]["html"]


def test_the_panels_are_translated(logged_in: FlaskClient, post: Post) -> None:
    page = logged_in.get("/cld/", headers={"Accept-Language": "de"})
    html = page.get_data(as_text=True)

    assert "Übermittlung des Inventarberichts" in html
    assert "Aktualisierung des CloudLink Daemon" in html
    assert "Der Tunneldienst antwortet nicht" in html


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("/cld/inventory/submit", {}, "The inventory service is not answering"),
        (
            "/cld/update/reschedule",
            {"recurrence": "daily", "time": "03:00"},
            "The schedule was not changed: The updater service is not answering",
        ),
        ("/cld/update/pause", {}, "The updater service is not answering"),
        ("/cld/update/resume", {}, "The updater service is not answering"),
        ("/cld/update/now", {}, "The updater service is not answering"),
        (
            "/cld/tunnels/start",
            {"component": "pbx", "name": "admin"},
            "The tunnel service is not answering",
        ),
        ("/cld/tunnels/stop-all", {}, "The tunnel service is not answering"),
    ],
)
def test_an_action_on_a_silent_service_says_so(
    logged_in: FlaskClient, post: Post, path: str, form: dict[str, str], message: str
) -> None:
    response = post(logged_in, path, **form)

    assert response.status_code == 303
    assert response.headers["Location"] == "/cld/"
    assert message in logged_in.get("/cld/").get_data(as_text=True)


def test_a_malformed_schedule_is_refused_before_any_call(
    logged_in: FlaskClient, post: Post
) -> None:
    post(logged_in, "/cld/update/reschedule", recurrence="daily", time="soon")
    page = logged_in.get("/cld/").get_data(as_text=True)

    assert (
        "The schedule was not changed: time must be HH:MM, not &#39;soon&#39;" in page
    )


@pytest.mark.parametrize(
    "path",
    [
        "/cld/inventory/submit",
        "/cld/update/reschedule",
        "/cld/update/pause",
        "/cld/tunnels/start-all",
    ],
)
def test_no_action_runs_without_the_forms_token_or_by_get(
    logged_in: FlaskClient, path: str
) -> None:
    assert logged_in.post(path, data={}).status_code == 400
    assert logged_in.get(path).status_code == 405


def test_the_report_preview_explains_a_silent_inventory_service(
    logged_in: FlaskClient,
) -> None:
    page = logged_in.get("/cld/inventory/preview")

    assert page.status_code == 200
    assert "The inventory service is not answering" in page.get_data(as_text=True)


def test_the_debug_view_offers_preview_and_submit(
    logged_in: FlaskClient, post: Post
) -> None:
    standard = logged_in.get("/cld/panels").get_json()["panels"]["inventory"]["html"]
    post(logged_in, "/cld/view", view="debug")
    debug = logged_in.get("/cld/panels").get_json()["panels"]["inventory"]["html"]

    assert "Preview inventory report" not in standard
    assert "Preview inventory report" not in debug

    # Both need the inventory service's answer; without it only the error shows.
    assert "The inventory service is not answering" in debug


def test_more_than_one_gateway_instance_is_a_warning(
    logged_in: FlaskClient, live: LiveState
) -> None:
    live.update(GATEWAY, {"installed": True, "version": "2.4.1", "instances": 2})
    warnings = logged_in.get("/cld/panels").get_json()["panels"]["warnings"]["html"]

    assert "2 CloudLink Gateway instances run on this platform" in warnings
