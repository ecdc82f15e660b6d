import base64
import hashlib
from typing import Any

import pytest

from cloud.errors import ApiError
from cloud.oauth import (
    AUTHORIZE_PARAMS,
    is_redirect_uri,
    parse_authorize,
    pkce_matches,
    redirect_with,
    required,
    s256,
    single_values,
)

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert s256(VERIFIER) == CHALLENGE
    assert pkce_matches(VERIFIER, CHALLENGE)


@pytest.mark.parametrize(
    "verifier",
    [VERIFIER[:-1] + "Y", VERIFIER[:42], VERIFIER + "!", "é" * 43, ""],
)
def test_pkce_refuses_other_verifiers(verifier: str) -> None:
    assert not pkce_matches(verifier, CHALLENGE)


def test_pkce_refuses_a_plain_challenge() -> None:
    digest = hashlib.sha256(b"x" * 43).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    assert pkce_matches("x" * 43, challenge)
    assert not pkce_matches("x" * 43, "x" * 43)


def _params(**changes: str | None) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "cld-daemon",
        "redirect_uri": "http://127.0.0.1:8080/cld/link/callback",
        "state": "abc",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }

    for name, value in changes.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value

    return params


def test_parse_authorize() -> None:
    request = parse_authorize(_params())

    assert request.client_id == "cld-daemon"
    assert request.state == "abc"
    assert request.code_challenge == CHALLENGE
    assert parse_authorize(_params(state=None)).state is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"response_type": "token"}, "response_type"),
        ({"response_type": None}, "response_type"),
        ({"client_id": None}, "client_id"),
        ({"client_id": "a b"}, "client_id"),
        ({"redirect_uri": None}, "redirect_uri is required"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
        ({"redirect_uri": "/relative"}, "redirect_uri"),
        ({"redirect_uri": "https://x.example/cb#frag"}, "redirect_uri"),
        ({"code_challenge_method": "plain"}, "code_challenge_method"),
        ({"code_challenge_method": None}, "code_challenge_method"),
        ({"code_challenge": None}, "code_challenge"),
        ({"code_challenge": "short"}, "code_challenge"),
        ({"state": "s" * 2000}, "state"),
    ],
)
def test_parse_authorize_refuses(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_authorize(_params(**changes))


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("http://127.0.0.1:8080/cb", True),
        ("https://host.example/cb?x=1", True),
        ("https://host.example:0/cb", False),
        ("https://host.example:99999/cb", False),
        ("https:///cb", False),
        ("https://host.example/a b", False),
        ("data:text/html,hi", False),
    ],
)
def test_is_redirect_uri(uri: str, ok: bool) -> None:
    assert is_redirect_uri(uri) is ok


def test_redirect_with_keeps_the_existing_query() -> None:
    uri = redirect_with("https://h.example/cb?a=1", {"code": "c d", "state": None})

    assert uri == "https://h.example/cb?a=1&code=c+d"


def test_single_values() -> None:
    assert single_values([("code", "x"), ("other", 5)], {"code"}) == {"code": "x"}

    with pytest.raises(ApiError, match="code is given more than once"):
        single_values([("code", "x"), ("code", "y")], {"code"})

    with pytest.raises(ApiError, match="code must be a string"):
        single_values([("code", 5)], {"code"})

    with pytest.raises(ApiError, match="password is too long"):
        single_values([("password", "p" * 2000)], AUTHORIZE_PARAMS | {"password"})


def test_required() -> None:
    assert required({"code": "x"}, "code") == "x"

    with pytest.raises(ApiError, match="code is required") as raised:
        required({"code": ""}, "code")

    assert raised.value.status == 400
    assert raised.value.body()["error"] == "invalid_request"
