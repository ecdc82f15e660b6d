"""What each answer of the system manager means for a queued report."""

from __future__ import annotations

import pytest

from services.inventory.delivery import Result, classify


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (201, Result.DELIVERED),
        (200, Result.DUPLICATE),
        (401, Result.FAILED),
        (429, Result.FAILED),
        (500, Result.FAILED),
        (503, Result.FAILED),
        (400, Result.REJECTED),
        (404, Result.REJECTED),
        (409, Result.REJECTED),
        (413, Result.REJECTED),
        (422, Result.REJECTED),
    ],
)
def test_answers_are_classified(status: int, result: Result) -> None:
    assert classify(status, "why").result is result


def test_a_refusal_quotes_the_cloud() -> None:
    outcome = classify(422, "host/addresses/0: 'x' is not a 'ipv4'")

    assert "422" in outcome.detail
    assert "host/addresses/0" in outcome.detail
