"""A minimal browser for form pages: hidden fields, posts, redirects."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}

        if tag == "form":
            self.forms.append({"action": attributes.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attributes.get("type") == "hidden":
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, dict)
            fields[attributes.get("name", "")] = attributes.get("value", "")


def forms(html: str) -> list[dict[str, object]]:
    """Each form of a page: its action and hidden fields."""

    parser = _Forms()
    parser.feed(html)
    return parser.forms


def submit(
    session: requests.Session,
    page: requests.Response,
    fields: dict[str, str],
    action: str = "",
    follow: bool = False,
) -> requests.Response:
    """Posts the form of ``page`` whose action ends with ``action``.

    The form's hidden fields are sent with ``fields``; without ``action``
    the page's first form is used.
    """

    found = [f for f in forms(page.text) if str(f["action"]).endswith(action)]
    assert found, f"no form posting to {action!r} on {page.url}"
    form = found[0]
    hidden = form["fields"]
    assert isinstance(hidden, dict)
    action = urljoin(page.url, str(form["action"]) or page.url)
    return session.post(
        action, data={**hidden, **fields}, allow_redirects=follow, timeout=10
    )


def cloud_sign_in(
    session: requests.Session,
    authorize_url: str,
    username: str,
    password: str,
    account_number: str = "",
) -> requests.Response:
    """Signs in on the emulator's page; returns its last answer, unfollowed."""

    page = session.get(authorize_url, timeout=10)
    page.raise_for_status()
    answer = submit(
        session,
        page,
        {"username": username, "password": password, "action": "sign_in"},
    )

    if answer.status_code == 200 and 'name="accountNumber"' in answer.text:
        answer = submit(
            session, answer, {"accountNumber": account_number, "action": "sign_in"}
        )

    return answer
