"""The API's JSON from and to the Provisioning messages."""

from __future__ import annotations

from datetime import UTC, datetime

from cld.v1 import provisioning_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from services.ui.api import convert, document

STARTED = Timestamp(seconds=int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp()))


def _schema_ok(schema: str, value: object) -> None:
    # Responses are held to the same document as requests.
    document.check(schema, value, "answer")


def test_a_user_from_pm_keeps_every_field() -> None:
    body = {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "services": ["ZOOM_CLIENT"],
    }

    user = convert.user_from_json("4711", body)

    assert user == pb.User(
        extension="4711",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        services=["ZOOM_CLIENT"],
    )


def test_a_sync_list_keeps_pm_order() -> None:
    users = [
        {"extension": e, "firstName": "", "lastName": e, "email": "", "services": []}
        for e in ("3", "1", "2")
    ]

    assert [u.extension for u in convert.users_from_json({"users": users})] == [
        "3",
        "1",
        "2",
    ]


def test_a_rejection_carries_its_code_and_reason_and_nothing_empty() -> None:
    result = pb.UserResult(
        extension="4711",
        outcome=pb.USER_OUTCOME_REJECTED,
        reason_code="INVALID_EMAIL",
        reason="ada@ is not an e-mail address",
    )

    answer = convert.user_result(result)

    assert answer == {
        "extension": "4711",
        "outcome": "rejected",
        "reasonCode": "INVALID_EMAIL",
        "reason": "ada@ is not an e-mail address",
    }
    _schema_ok("UserResult", answer)


def test_every_outcome_has_a_word() -> None:
    words = {
        convert.user_result(pb.UserResult(extension="1", outcome=o))["outcome"]
        for o in pb.UserOutcome.values()
    }

    assert words == {
        "created",
        "updated",
        "unchanged",
        "removed",
        "rejected",
        "pending",
    }


def test_a_sync_has_times_in_utc_and_counts() -> None:
    found = pb.Sync(
        sync_id="s1",
        state=pb.SYNC_STATE_WAITING,
        started_at=STARTED,
        total=3,
        counts=pb.SyncCounts(created=1, rejected=1, pending=1),
        problem="CloudLink cannot be reached",
        results=[pb.UserResult(extension="1", outcome=pb.USER_OUTCOME_CREATED)],
    )

    answer = convert.sync(found)
    detailed = convert.sync(found, with_results=True)

    assert answer == {
        "id": "s1",
        "state": "waiting",
        "startedAt": "2026-03-02T09:30:00Z",
        "total": 3,
        "counts": {
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "removed": 0,
            "rejected": 1,
            "pending": 1,
        },
        "problem": "CloudLink cannot be reached",
    }
    assert detailed["results"] == [{"extension": "1", "outcome": "created"}]
    _schema_ok("Sync", detailed)


def test_a_status_leaves_out_the_syncs_that_are_not_there() -> None:
    status = pb.SyncStatus(provisioned_users=12, user_limit=5000)

    assert convert.sync_status(status) == {
        "provisionedUsers": 12,
        "userLimit": 5000,
        "rejectedTotal": 0,
    }

    status.last_completed.CopyFrom(
        pb.Sync(sync_id="s1", state=pb.SYNC_STATE_DONE, total=12)
    )
    answer = convert.sync_status(status)

    assert answer["lastCompleted"]["state"] == "done"
    assert "current" not in answer
    _schema_ok("SyncStatus", answer)


def test_a_connection_check_says_what_is_wrong() -> None:
    check = pb.ConnectionCheck(
        linked=False, problem="This system is not linked to CloudLink", user_limit=5000
    )

    answer = convert.connection_check(check)

    assert answer == {
        "linked": False,
        "cloudReachable": False,
        "problem": "This system is not linked to CloudLink",
        "provisionedUsers": 0,
        "userLimit": 5000,
    }
    _schema_ok("ConnectionCheck", answer)


def test_a_provisioned_user_has_its_cloud_id_and_change_time() -> None:
    found = pb.ProvisionedUser(
        user=pb.User(extension="4711", last_name="Lovelace", services=["ZOOM_CLIENT"]),
        user_id="u-1",
        modified_at=STARTED,
    )

    answer = convert.provisioned_user(found)

    assert answer["userId"] == "u-1"
    assert answer["modifiedAt"] == "2026-03-02T09:30:00Z"
    assert answer["services"] == ["ZOOM_CLIENT"]
    _schema_ok("ProvisionedUser", answer)
