"""The relay's entry path: a code in the address, a cookie for this host only."""

from __future__ import annotations

from cloud.relay import entry, http1


def _head(target: str, method: str = "GET") -> http1.RequestHead:
    return http1.RequestHead(method, target, "HTTP/1.1", [("Host", "x")])


def test_only_a_get_to_the_entry_path_with_one_code_is_an_entry() -> None:
    assert entry.entry_code(_head("/.cld-relay/enter?code=abc")) == "abc"
    assert entry.entry_code(_head("/.cld-relay/enter?code=abc", "POST")) is None
    assert entry.entry_code(_head("/.cld-relay/enter")) is None
    assert entry.entry_code(_head("/.cld-relay/enter?code=a&code=b")) is None
    assert entry.entry_code(_head("/other?code=abc")) is None


def test_the_cookie_stays_on_the_tunnels_host_away_from_scripts() -> None:
    cookie = entry.visitor_cookie("cld_relay_token", "T", 59.7, secure=False)

    assert cookie == "cld_relay_token=T; Path=/; Max-Age=59; HttpOnly; SameSite=Lax"
    assert "Domain" not in cookie
    assert entry.visitor_cookie("c", "T", -5, secure=True).endswith("; Secure")
    assert "Max-Age=0" in entry.visitor_cookie("c", "T", -5, secure=True)


def test_the_welcome_sets_the_cookie_and_leads_to_the_first_page() -> None:
    answer = entry.welcome("c=T; Path=/").decode()

    assert answer.startswith("HTTP/1.1 303 See Other\r\n")
    assert "\r\nLocation: /\r\n" in answer
    assert "\r\nSet-Cookie: c=T; Path=/\r\n" in answer
