import pytest

from services.registration.cloud_api import CloudRejectedError
from services.registration.provisioning.plan import Outcome
from services.registration.provisioning.writes import refused


@pytest.mark.parametrize(
    ("status", "cloud_code", "code"),
    [
        (409, "DUPLICATE_EMAIL", "EMAIL_IN_USE"),
        (403, "SERVICE_NOT_ENTITLED", "UNKNOWN_SERVICE"),
        (400, "INVALID_EMAIL", "INVALID_EMAIL"),
        (409, "USER_LIMIT", "USER_LIMIT"),
        (409, "IDEMPOTENCY_KEY_REUSED", "INVALID_USER"),
        (400, "", "INVALID_USER"),
    ],
)
def test_a_cloud_refusal_becomes_one_of_pms_reason_codes(
    status: int, cloud_code: str, code: str
) -> None:
    exc = CloudRejectedError(status, "conflict", "Refused for a reason", cloud_code)

    result = refused("2001", exc)

    assert (result.extension, result.outcome, result.code) == (
        "2001",
        Outcome.REJECTED,
        code,
    )
    assert result.reason == "CloudLink refused the user: Refused for a reason"


@pytest.mark.parametrize("status", [401, 429])
def test_a_refusal_of_the_token_is_not_the_users_fault(status: int) -> None:
    with pytest.raises(CloudRejectedError):
        refused("2001", CloudRejectedError(status, "invalid_token", "expired"))
