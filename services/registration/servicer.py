"""The Registration gRPC service over the link manager."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import grpc
from cld.v1 import registration_pb2 as pb
from cld.v1 import registration_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.registration.account import LinkedAccount
from services.registration.link import LinkError, LinkManager

log = logging.getLogger(__name__)

T = TypeVar("T")


def link_message(account: LinkedAccount | None, reason: str = "") -> pb.Link:
    """The Link message for ``account`` (None when not linked)."""

    if account is None:
        return pb.Link(state=pb.LINK_STATE_NOT_LINKED, reason=reason)

    message = pb.Link(
        state=pb.LINK_STATE_LINKED,
        account_name=account.account_name,
        account_number=account.account_number,
        region=account.region,
        admin_portal_url=account.admin_portal_url,
        account_guid=account.account_guid,
        partner_id=account.partner_id,
        user_id=account.user_id,
        account_type=account.account_type,
        role=account.role,
        system_id=account.system_id,
    )

    if account.linked_at:
        message.linked_at.FromDatetime(datetime.fromisoformat(account.linked_at))

    return message


class RegistrationServicer(pb_grpc.RegistrationServicer):
    """Answers the dashboard, the maintenance tool and peer services."""

    def __init__(self, manager: LinkManager) -> None:
        self.manager = manager

    def GetLink(  # noqa: N802
        self, request: pb.GetLinkRequest, context: grpc.ServicerContext
    ) -> pb.Link:
        return self._current()

    def BeginLink(  # noqa: N802
        self, request: pb.BeginLinkRequest, context: grpc.ServicerContext
    ) -> pb.BeginLinkResponse:
        url, state = _guard(context, lambda: self.manager.begin(request.redirect_uri))
        return pb.BeginLinkResponse(authorize_url=url, state=state)

    def CompleteLink(  # noqa: N802
        self, request: pb.CompleteLinkRequest, context: grpc.ServicerContext
    ) -> pb.Link:
        account = _guard(
            context, lambda: self.manager.complete(request.code, request.state)
        )
        return link_message(account)

    def LinkWithPassword(  # noqa: N802
        self, request: pb.LinkWithPasswordRequest, context: grpc.ServicerContext
    ) -> pb.Link:
        account = _guard(
            context,
            lambda: self.manager.link_with_password(
                request.username, request.password, request.account_number
            ),
        )
        return link_message(account)

    def Unlink(  # noqa: N802
        self, request: pb.UnlinkRequest, context: grpc.ServicerContext
    ) -> pb.Link:
        note = _guard(context, self.manager.unlink)
        return link_message(None, note)

    def GetAccessToken(  # noqa: N802
        self, request: pb.GetAccessTokenRequest, context: grpc.ServicerContext
    ) -> pb.AccessToken:
        token, expires, account = _guard(context, self.manager.access_token)
        expires_at = Timestamp()
        expires_at.FromSeconds(int(expires))
        return pb.AccessToken(
            token=token,
            expires_at=expires_at,
            system_id=account.system_id,
            account_guid=account.account_guid,
        )

    def _current(self) -> pb.Link:
        return link_message(self.manager.account(), self.manager.reason())


def _guard(context: grpc.ServicerContext, action: Callable[[], T]) -> T:
    try:
        return action()
    except LinkError as exc:
        log.info("Refused: %s", exc.message, extra={"status": exc.code.name})
        context.abort(exc.code, exc.message)
        raise AssertionError("abort returns only by raising") from None
