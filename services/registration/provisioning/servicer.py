"""The Provisioning gRPC service over the provisioning engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar

import grpc
from cld.v1 import provisioning_pb2 as pb
from cld.v1 import provisioning_pb2_grpc as pb_grpc

from services.registration.provisioning.engine import Provisioner, ProvisioningError
from services.registration.provisioning.plan import Outcome, Result
from services.registration.provisioning.single import SingleUsers
from services.registration.provisioning.syncs import SyncRecord, SyncState
from services.registration.provisioning.users import PmUser

log = logging.getLogger(__name__)

T = TypeVar("T")

_OUTCOMES = {
    Outcome.CREATED: pb.USER_OUTCOME_CREATED,
    Outcome.UPDATED: pb.USER_OUTCOME_UPDATED,
    Outcome.UNCHANGED: pb.USER_OUTCOME_UNCHANGED,
    Outcome.REMOVED: pb.USER_OUTCOME_REMOVED,
    Outcome.REJECTED: pb.USER_OUTCOME_REJECTED,
    Outcome.PENDING: pb.USER_OUTCOME_PENDING,
}

_STATES = {
    SyncState.RUNNING: pb.SYNC_STATE_RUNNING,
    SyncState.WAITING: pb.SYNC_STATE_WAITING,
    SyncState.DONE: pb.SYNC_STATE_DONE,
    SyncState.SUPERSEDED: pb.SYNC_STATE_SUPERSEDED,
}


def pm_user(message: pb.User) -> PmUser:
    """PM's user from its message."""

    return PmUser(
        extension=message.extension,
        first_name=message.first_name,
        last_name=message.last_name,
        email=message.email,
        services=tuple(message.services),
    )


def user_message(user: PmUser) -> pb.User:
    """The message of a user."""

    return pb.User(
        extension=user.extension,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        services=list(user.services),
    )


def result_message(result: Result) -> pb.UserResult:
    """The message of one user's result."""

    return pb.UserResult(
        extension=result.extension,
        outcome=_OUTCOMES[result.outcome],
        reason_code=result.code,
        reason=result.reason,
        user_id=result.user_id,
    )


def sync_message(
    record: SyncRecord,
    include_results: bool = False,
    rejected_only: bool = False,
    limit: int = 0,
) -> pb.Sync:
    """The message of a sync, with its per-user results when asked.

    ``rejected_only`` keeps the rejected results, ``limit`` (0 is all) the
    first so many: the debug view asks for a page, not 5,000 users.
    """

    message = pb.Sync(
        sync_id=record.sync_id,
        state=_STATES.get(record.state, pb.SYNC_STATE_UNSPECIFIED),
        total=len(record.users),
        counts=pb.SyncCounts(**asdict(record.counts())),
        problem=record.problem,
    )
    message.started_at.FromDatetime(datetime.fromisoformat(record.started_at))

    if record.finished_at:
        message.finished_at.FromDatetime(datetime.fromisoformat(record.finished_at))

    if include_results:
        results = record.ordered_results()

        if rejected_only:
            results = [r for r in results if r.outcome is Outcome.REJECTED]

        if limit:
            results = results[:limit]

        message.results.extend(result_message(r) for r in results)

    return message


class ProvisioningServicer(pb_grpc.ProvisioningServicer):
    """Answers the dashboard's provisioning API and panel."""

    def __init__(self, provisioner: Provisioner) -> None:
        self.provisioner = provisioner
        self.single = SingleUsers(provisioner)

    def CheckConnection(  # noqa: N802
        self, request: pb.CheckConnectionRequest, context: grpc.ServicerContext
    ) -> pb.ConnectionCheck:
        check = self.single.check_connection()
        return pb.ConnectionCheck(**asdict(check))

    def PutUser(  # noqa: N802
        self, request: pb.PutUserRequest, context: grpc.ServicerContext
    ) -> pb.UserResult:
        user = pm_user(request.user)
        result = _guard(context, lambda: self.single.put_user(user))
        return result_message(result)

    def DeleteUser(  # noqa: N802
        self, request: pb.DeleteUserRequest, context: grpc.ServicerContext
    ) -> pb.UserResult:
        extension = request.extension.strip()
        result = _guard(context, lambda: self.single.delete_user(extension))
        return result_message(result)

    def GetUser(  # noqa: N802
        self, request: pb.GetUserRequest, context: grpc.ServicerContext
    ) -> pb.ProvisionedUser:
        extension = request.extension.strip()
        user, user_id, modified = _guard(
            context, lambda: self.single.get_user(extension)
        )
        message = pb.ProvisionedUser(user=user_message(user), user_id=user_id)

        if modified:
            message.modified_at.FromDatetime(
                datetime.fromisoformat(modified.replace("Z", "+00:00"))
            )

        return message

    def StartSync(  # noqa: N802
        self, request: pb.StartSyncRequest, context: grpc.ServicerContext
    ) -> pb.Sync:
        users = [pm_user(u) for u in request.users]
        record = _guard(context, lambda: self.provisioner.start_sync(users))
        return sync_message(record)

    def GetSync(  # noqa: N802
        self, request: pb.GetSyncRequest, context: grpc.ServicerContext
    ) -> pb.Sync:
        record = self.provisioner.sync(request.sync_id)

        if record is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"No sync {request.sync_id} is kept; only the latest few are.",
            )
            raise AssertionError("abort returns only by raising")

        return sync_message(
            record,
            request.include_results,
            request.rejected_only,
            request.result_limit,
        )

    def GetSyncStatus(  # noqa: N802
        self, request: pb.GetSyncStatusRequest, context: grpc.ServicerContext
    ) -> pb.SyncStatus:
        current, last = self.provisioner.status()
        book = self.provisioner.book
        message = pb.SyncStatus(
            provisioned_users=book.provisioned_users,
            user_limit=self.provisioner.user_limit,
            rejected_total=book.rejected_total,
        )

        if current is not None:
            message.current.CopyFrom(sync_message(current))

        if last is not None:
            message.last_completed.CopyFrom(sync_message(last))

        return message


def _guard(context: grpc.ServicerContext, action: Callable[[], T]) -> T:
    try:
        return action()
    except ProvisioningError as exc:
        log.info("Refused: %s", exc.message, extra={"status": exc.code.name})
        context.abort(exc.code, exc.message)
        raise AssertionError("abort returns only by raising") from None
