"""The panels endpoint the page polls, and the CloudLink Gateway panel."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.ui.live import CLOCK_DRIFT, GATEWAY, LiveState
from services.ui.panels import PANELS, digest, gateway_panel


def _panels(client: FlaskClient) -> dict[str, dict[str, str]]:
    response = client.get("/cld/panels")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    panels: dict[str, dict[str, str]] = response.get_json()["panels"]
    return panels


def test_the_panels_need_a_login_and_say_so_in_json(client: FlaskClient) -> None:
    response = client.get("/cld/panels")

    assert response.status_code == 401
    assert response.get_json() == {"error": "login required"}


def test_every_panel_comes_with_a_digest_that_ignores_the_form_token(
    logged_in: FlaskClient,
) -> None:
    first = _panels(logged_in)
    second = _panels(logged_in)

    assert set(first) == set(PANELS)
    assert first["registration"]["digest"] == second["registration"]["digest"]
    assert first["warnings"]["html"] == ""


def test_a_digest_changes_with_the_content_only() -> None:
    page = '<form><input name="csrf_token" value="T1"></form>'

    assert digest(page, "T1") == digest(page.replace("T1", "T2"), "T2")
    assert digest(page, "T1") != digest(page.replace("form>", "div>"), "T1")


def test_new_bus_state_changes_only_the_panels_it_touches(
    logged_in: FlaskClient, live: LiveState
) -> None:
    before = _panels(logged_in)

    live.update(CLOCK_DRIFT, {"drift_seconds": 300.0})
    after = _panels(logged_in)

    assert "Clock drift detected: 300s" in after["warnings"]["html"]
    assert after["warnings"]["digest"] != before["warnings"]["digest"]
    assert after["about"]["digest"] == before["about"]["digest"]


def test_the_page_carries_its_panels_and_the_script_that_polls_them(
    logged_in: FlaskClient,
) -> None:
    response = logged_in.get("/cld/")
    page = response.get_data(as_text=True)

    assert 'data-live="/cld/panels"' in page
    assert '<script src="/cld/static/live.js" defer></script>' in page
    assert 'id="panel-warnings"' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]

    script = logged_in.get("/cld/static/live.js")
    assert script.status_code == 200
    script.close()


def test_the_gateway_panel_shows_only_when_a_gateway_is_installed(
    logged_in: FlaskClient, live: LiveState
) -> None:
    assert _panels(logged_in)["gateway"]["html"] == ""

    live.update(
        GATEWAY,
        {
            "installed": True,
            "version": "2.4.1",
            "status_url": "http://127.0.0.1:8020/status",
        },
    )
    html = _panels(logged_in)["gateway"]["html"]

    assert "CloudLink Gateway is installed" in html
    assert "2.4.1" in html
    assert '<a href="http://127.0.0.1:8020/status" rel="noreferrer">Status</a>' in html


def test_a_gateway_status_address_that_is_not_a_web_address_is_no_link() -> None:
    panel = gateway_panel({"installed": True, "status_url": "javascript:alert(1)"})

    assert panel.installed
    assert panel.status_url == ""
    assert not gateway_panel({"installed": "yes"}).installed
