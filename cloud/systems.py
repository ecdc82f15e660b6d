"""The system manager's REST API: linking systems, and the caller's account."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from cloud.emulator import emulator
from cloud.errors import ApiError
from cloud.registration import parse_registration
from cloud.seed import Account
from cloud.store import System
from cloud.tokens import TokenError
from cloud.web import json_body, request_extra

log = logging.getLogger(__name__)

bp = Blueprint("systems", __name__, url_prefix="/2017-09-01")

_CHALLENGE = 'Bearer realm="CloudLink"'


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from, by its access token."""

    claims: dict[str, Any]
    account: Account

    @property
    def user_id(self) -> str:
        """The user the token was issued to."""

        return str(self.claims["userId"])

    def require_admin(self, action: str) -> None:
        """Refuses the request unless the caller administers the account."""

        if self.claims["role"] != "ACCOUNT_ADMIN":
            raise ApiError(
                403,
                "forbidden",
                f"Only an account administrator can {action} CloudLink",
            )


@bp.post("/systems")
def link() -> tuple[Response, int, dict[str, str]]:
    """Links the caller's system; linking the same installation again is a no-op."""

    caller = current_caller()
    caller.require_admin("link a system to")
    registration = parse_registration(json_body())

    em = emulator()
    user = em.seed.user(caller.user_id)
    system, created = em.store.link_system(
        caller.account.account_id,
        registration.details(),
        caller.user_id,
        user.email if user else "",
        str(caller.claims["sid"]),
    )

    if created:
        log.info(
            "Linked system %s (%s) to account %s",
            system.system_id,
            system.name,
            caller.account.number,
            extra={**request_extra(), "system_id": system.system_id},
        )

    document = system_document(system, caller.account)
    return jsonify(document), 201 if created else 200, {"Location": _self(system)}


@bp.get("/systems")
def list_systems() -> Response:
    """The systems linked to the caller's account."""

    caller = current_caller()
    items = [
        system_document(system, caller.account)
        for system in emulator().store.systems(caller.account.account_id)
    ]
    return jsonify({"count": len(items), "_embedded": {"items": items}})


@bp.get("/systems/<system_id>")
def get_system(system_id: str) -> Response:
    """One system of the caller's account."""

    caller = current_caller()
    return jsonify(system_document(owned_system(caller, system_id), caller.account))


@bp.delete("/systems/<system_id>")
def unlink(system_id: str) -> Response:
    """Unlinks a system of the caller's account."""

    caller = current_caller()
    caller.require_admin("unlink a system from")
    system = owned_system(caller, system_id)
    emulator().store.unlink_system(caller.account.account_id, system.system_id)
    log.info(
        "Unlinked system %s from account %s",
        system.system_id,
        caller.account.number,
        extra={**request_extra(), "system_id": system.system_id},
    )
    return Response(status=204)


@bp.get("/accounts/<account_id>")
def get_account(account_id: str) -> Response:
    """The caller's account, by GUID or number; any other is not found."""

    caller = current_caller()
    account = caller.account

    if account_id.lower() not in (account.account_id, account.number):
        raise ApiError(404, "not_found", "No such account is visible to this token")

    return jsonify(
        {
            "accountId": account.account_id,
            "accountNumber": account.number,
            "name": account.name,
            "accountType": account.account_type,
            "partnerId": account.partner_id,
            "partnerName": account.partner_name,
            "region": account.region,
        }
    )


def system_document(system: System, account: Account) -> dict[str, Any]:
    """A system as the API shows it."""

    return {
        "systemId": system.system_id,
        "installationId": system.installation_id,
        "accountId": account.account_id,
        "accountNumber": account.number,
        "accountName": account.name,
        "partnerId": account.partner_id,
        "region": account.region,
        "name": system.name,
        "platform": system.platform,
        "hostname": system.hostname,
        "daemonVersion": system.daemon_version,
        "portalUrl": emulator().config.portal_url,
        "createdOn": system.created_on,
        "linkedOn": system.linked_on,
        "linkedBy": system.linked_by,
        "_links": {"self": {"href": _self(system)}},
    }


def _self(system: System) -> str:
    return f"{emulator().config.public_url}/2017-09-01/systems/{system.system_id}"


def current_caller() -> Caller:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")

    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthorized",
            "A bearer access token is required",
            headers={"WWW-Authenticate": _CHALLENGE},
        )

    em = emulator()

    try:
        claims = em.verifier.verify(token.strip())
    except TokenError as exc:
        log.info("Refused an access token: %s", exc, extra=request_extra())
        claims = None

    account = em.seed.account(claims["accountId"]) if claims else None

    if claims is None or account is None:
        raise ApiError(
            401,
            "invalid_token",
            "The access token is invalid or has expired",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )

    return Caller(claims, account)


def owned_system(caller: Caller, system_id: str) -> System:
    system = emulator().store.system(caller.account.account_id, system_id)

    if system is None:
        raise ApiError(404, "not_found", f"No system {system_id} in this account")

    return system
