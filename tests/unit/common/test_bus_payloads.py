import pytest

from services.common import topics
from services.common.bus import SecretOnBusError, check_no_secrets


@pytest.mark.parametrize(
    "payload",
    [
        {"refresh_token": "x"},
        {"account": {"Password": "x"}},
        {"items": [{"ok": 1}, {"access_token": "y"}]},
    ],
)
def test_a_payload_with_a_credential_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(SecretOnBusError):
        check_no_secrets(payload)


def test_public_details_pass() -> None:
    check_no_secrets({"state": "linked", "account_name": "Acme", "tokens": 3})


def test_topics_follow_one_scheme() -> None:
    assert topics.status("tunnel") == "cld/tunnel/status"
    assert topics.LINK == "cld/registration/link"

    with pytest.raises(ValueError, match="unknown service"):
        topics.topic("printer", "status")
