"""The API's JSON bodies to and from the Provisioning gRPC messages.

Plain functions with no calls and no clock: JSON field names are camelCase,
times RFC 3339 in UTC, enums lower-case words, and empty proto fields are
left out rather than sent as empty strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from cld.v1 import provisioning_pb2 as pb
from google.protobuf.message import Message

OUTCOMES = {
    pb.USER_OUTCOME_CREATED: "created",
    pb.USER_OUTCOME_UPDATED: "updated",
    pb.USER_OUTCOME_UNCHANGED: "unchanged",
    pb.USER_OUTCOME_REMOVED: "removed",
    pb.USER_OUTCOME_REJECTED: "rejected",
    pb.USER_OUTCOME_PENDING: "pending",
}
SYNC_STATES = {
    pb.SYNC_STATE_RUNNING: "running",
    pb.SYNC_STATE_WAITING: "waiting",
    pb.SYNC_STATE_DONE: "done",
    pb.SYNC_STATE_SUPERSEDED: "superseded",
}


def user_from_json(extension: str, fields: Mapping[str, Any]) -> pb.User:
    """The user PM sent, from a body already checked against the document."""

    return pb.User(
        extension=extension,
        first_name=fields["firstName"],
        last_name=fields["lastName"],
        email=fields["email"],
        services=list(fields["services"]),
    )


def users_from_json(body: Mapping[str, Any]) -> list[pb.User]:
    """PM's complete user list from a checked synchronization body."""

    return [user_from_json(u["extension"], u) for u in body["users"]]


def timestamp(message: Message, name: str) -> str | None:
    """The Timestamp field ``name`` as RFC 3339 UTC, or None when unset."""

    if not message.HasField(name):
        return None

    stamp: Any = getattr(message, name)
    return str(stamp.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z"))


def user_result(result: pb.UserResult) -> dict[str, Any]:
    """One user's result."""

    answer: dict[str, Any] = {
        "extension": result.extension,
        # An outcome this build does not know is still not applied.
        "outcome": OUTCOMES.get(result.outcome, "pending"),
    }
    _put(answer, "reasonCode", result.reason_code)
    _put(answer, "reason", result.reason)
    _put(answer, "userId", result.user_id)
    return answer


def provisioned_user(found: pb.ProvisionedUser) -> dict[str, Any]:
    """A user as this system provisioned it."""

    user = found.user
    answer: dict[str, Any] = {
        "extension": user.extension,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "services": list(user.services),
    }
    _put(answer, "userId", found.user_id)
    _put(answer, "modifiedAt", timestamp(found, "modified_at"))
    return answer


def connection_check(check: pb.ConnectionCheck) -> dict[str, Any]:
    """Whether provisioning can work now."""

    answer: dict[str, Any] = {
        "linked": check.linked,
        "cloudReachable": check.cloud_reachable,
        "provisionedUsers": check.provisioned_users,
        "userLimit": check.user_limit,
    }
    _put(answer, "problem", check.problem)
    _put(answer, "accountName", check.account_name)
    _put(answer, "systemId", check.system_id)
    return answer


def counts(found: pb.SyncCounts) -> dict[str, int]:
    """A synchronization's users per outcome so far."""

    return {
        "created": found.created,
        "updated": found.updated,
        "unchanged": found.unchanged,
        "removed": found.removed,
        "rejected": found.rejected,
        "pending": found.pending,
    }


def sync(found: pb.Sync, with_results: bool = False) -> dict[str, Any]:
    """A synchronization; its per-user results only when ``with_results``."""

    answer: dict[str, Any] = {
        "id": found.sync_id,
        # A state this build does not know is still going on.
        "state": SYNC_STATES.get(found.state, "running"),
        "total": found.total,
        "counts": counts(found.counts),
    }
    _put(answer, "startedAt", timestamp(found, "started_at"))
    _put(answer, "finishedAt", timestamp(found, "finished_at"))
    _put(answer, "problem", found.problem)

    if with_results:
        answer["results"] = [user_result(r) for r in found.results]

    return answer


def sync_status(status: pb.SyncStatus) -> dict[str, Any]:
    """The running synchronization, the last completed one, and totals."""

    answer: dict[str, Any] = {
        "provisionedUsers": status.provisioned_users,
        "userLimit": status.user_limit,
        "rejectedTotal": status.rejected_total,
    }

    if status.HasField("current"):
        answer["current"] = sync(status.current)

    if status.HasField("last_completed"):
        answer["lastCompleted"] = sync(status.last_completed)

    return answer


def _put(answer: dict[str, Any], name: str, value: str | None) -> None:
    if value:
        answer[name] = value
