from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

AUTHORIZE = "/2017-09-01/authorize"
REDIRECT = "http://127.0.0.1:8080/cld/link/callback"

Hidden = Callable[[TestResponse, str], str]


@pytest.fixture
def url(pkce: tuple[str, str]) -> str:
    params = {
        "response_type": "code",
        "client_id": "cld-daemon",
        "redirect_uri": REDIRECT,
        "state": "st-42",
        "code_challenge": pkce[1],
        "code_challenge_method": "S256",
    }
    return f"{AUTHORIZE}?{urlencode(params)}"


@pytest.fixture
def submit(
    client: FlaskClient, url: str, hidden: Hidden
) -> Callable[..., TestResponse]:
    """Posts the sign-in form as a browser would, with the page's CSRF token."""

    def post(page: TestResponse | None = None, **form: str) -> TestResponse:
        page = page or client.get(url)
        form.setdefault("csrf_token", hidden(page, "csrf_token"))
        form.setdefault("action", "sign_in")
        return client.post(url, data=form)

    return post


def _query(response: TestResponse) -> dict[str, list[str]]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_the_sign_in_page(client: FlaskClient, url: str) -> None:
    page = client.get(url)

    assert page.status_code == 200
    assert "<title>CloudLink</title>" in _text(page)
    assert 'name="password" type="password"' in _text(page)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_signing_in_returns_a_code_for_the_token_endpoint(
    client: FlaskClient, submit: Callable[..., TestResponse], pkce: tuple[str, str]
) -> None:
    query = _query(submit(username="admin@acme.example", password="acme-admin-1"))

    assert query["state"] == ["st-42"]
    response = client.post(
        "/2017-09-01/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": pkce[0],
            "client_id": "cld-daemon",
        },
    )
    assert response.status_code == 200


def test_wrong_credentials_show_the_page_again(
    submit: Callable[..., TestResponse],
) -> None:
    page = submit(username="admin@acme.example", password="nope")

    assert page.status_code == 200
    assert "The username or password is incorrect" in _text(page)
    assert 'value="admin@acme.example"' in _text(page)
    assert "nope" not in _text(page)


def test_missing_credentials(submit: Callable[..., TestResponse]) -> None:
    assert "Enter your e-mail address and password" in _text(
        submit(username="admin@acme.example")
    )


def test_an_email_in_two_accounts_asks_for_the_account(
    submit: Callable[..., TestResponse], hidden: Hidden
) -> None:
    step = submit(username="shared@example.com", password="shared-admin-1")

    assert "belongs to several CloudLink accounts" in _text(step)
    assert "Account number" in _text(step)
    assert "shared-admin-1" not in _text(step)
    pending = hidden(step, "pending")

    wrong = submit(step, step="account", pending=pending, accountNumber="100009")
    assert "is not a user of account 100009" in _text(wrong)

    empty = submit(wrong, step="account", pending=pending, accountNumber="")
    assert "Enter an account number" in _text(empty)

    query = _query(
        submit(empty, step="account", pending=pending, accountNumber="100002")
    )
    assert query["code"]
    assert query["state"] == ["st-42"]

    again = submit(step, step="account", pending=pending, accountNumber="100002")
    assert "Please sign in again" in _text(again)


def test_a_pending_sign_in_expires(
    submit: Callable[..., TestResponse], hidden: Hidden, clock: Any
) -> None:
    step = submit(username="shared@example.com", password="shared-admin-1")
    clock.advance(301)

    late = submit(
        step, step="account", pending=hidden(step, "pending"), accountNumber="100001"
    )

    assert "took too long" in _text(late)


def test_a_pending_sign_in_is_bound_to_its_request(
    client: FlaskClient, submit: Callable[..., TestResponse], hidden: Hidden
) -> None:
    step = submit(username="shared@example.com", password="shared-admin-1")
    other = (
        AUTHORIZE
        + "?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": "other-client",
                "redirect_uri": "https://evil.example/cb",
                "code_challenge": "A" * 43,
                "code_challenge_method": "S256",
            }
        )
    )

    response = client.post(
        other,
        data={
            "csrf_token": hidden(step, "csrf_token"),
            "step": "account",
            "pending": hidden(step, "pending"),
            "accountNumber": "100001",
        },
    )

    assert response.status_code == 200
    assert "took too long" in _text(response)


def test_cancel_sends_access_denied(submit: Callable[..., TestResponse]) -> None:
    query = _query(submit(action="cancel"))

    assert query == {"error": ["access_denied"], "state": ["st-42"]}


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, url: str
) -> None:
    client.get(url)

    for token in ["", "forged"]:
        response = client.post(
            url,
            data={
                "csrf_token": token,
                "username": "admin@acme.example",
                "password": "acme-admin-1",
            },
        )
        assert response.status_code == 400
        assert "This form has expired" in _text(response)


def test_a_form_posted_from_another_browser_is_refused(
    app: Any, url: str, hidden: Hidden
) -> None:
    token = hidden(app.test_client().get(url), "csrf_token")

    response = app.test_client().post(
        url,
        data={
            "csrf_token": token,
            "username": "admin@acme.example",
            "password": "acme-admin-1",
        },
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri must be"),
        ({"redirect_uri": ""}, "redirect_uri is required"),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be S256"),
        ({"code_challenge": ""}, "code_challenge is required"),
        ({"response_type": "token"}, "response_type must be code"),
        ({"client_id": ""}, "client_id is required"),
    ],
)
def test_invalid_parameters_show_an_error_page(
    client: FlaskClient, url: str, change: dict[str, str], problem: str
) -> None:
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    params.update(change)

    for method in (client.get, client.post):
        response = method(f"{AUTHORIZE}?{urlencode(params)}")
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert problem in _text(response)


def test_a_repeated_parameter_shows_an_error_page(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url + "&state=again")

    assert response.status_code == 400
    assert "state is given more than once" in _text(response)
