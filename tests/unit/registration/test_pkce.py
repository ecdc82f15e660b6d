from urllib.parse import parse_qs, urlsplit

import pytest

from services.registration.pkce import (
    PendingLinks,
    authorize_url,
    challenge,
    check_redirect_uri,
)


def test_the_challenge_matches_rfc_7636() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    assert challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_authorize_url_carries_the_request() -> None:
    url = authorize_url(
        "https://cloud/2017-09-01/authorize", "cld", "http://h/cb", "st", "v" * 43
    )
    query = parse_qs(urlsplit(url).query)

    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://h/cb"]
    assert query["state"] == ["st"]
    assert query["code_challenge"] == [challenge("v" * 43)]
    assert query["code_challenge_method"] == ["S256"]


@pytest.mark.parametrize(
    "uri", ["", "/cld/link/callback", "javascript:alert(1)", "http://h/cb#x"]
)
def test_a_bad_redirect_uri_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="redirect_uri"):
        check_redirect_uri(uri)


def test_a_pending_link_is_taken_once() -> None:
    pending = PendingLinks()
    state, verifier = pending.open("http://h/cb", now=0)

    taken = pending.take(state, now=1)

    assert taken is not None
    assert taken.verifier == verifier
    assert pending.take(state, now=2) is None


def test_a_pending_link_expires() -> None:
    pending = PendingLinks(ttl=10)
    state, _ = pending.open("http://h/cb", now=0)

    assert pending.take(state, now=11) is None


def test_an_unknown_state_is_nothing() -> None:
    assert PendingLinks().take("forged") is None
