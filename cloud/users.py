"""The Users API: an account's users, as systems such as MX-ONE provision them.

Anyone with an access token of the account may read; only its
administrators may write. The account's sign-in users (from the seed) are
listed too but cannot be changed here. A refusal is answered as JSON whose
``code`` names the problem (INVALID_USER, INVALID_EMAIL, DUPLICATE_EMAIL,
EXTENSION_IN_USE, SERVICE_NOT_ENTITLED, USER_LIMIT, IDEMPOTENCY_KEY_REUSED,
NOT_FOUND, NOT_PROVISIONED) and, where one field is at fault, whose
``field`` names it.

``GET /2017-09-01/emulator/user-writes`` is the emulator's own: the write
requests it received for the caller's account since it started, by method,
so tests can see how many writes a sync sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from cloud import systems
from cloud.emulator import emulator
from cloud.errors import ApiError
from cloud.user_model import CloudUser, UserConflict, UserFields
from cloud.user_store import UserStore
from cloud.web import request_extra

log = logging.getLogger(__name__)

T = TypeVar("T")

bp = Blueprint("users", __name__, url_prefix="/2017-09-01")

PAGE_DEFAULT = 100
PAGE_MAX = 1000
NAME_MAX = 64
ROLES = frozenset({"NONE", "USER", "ACCOUNT_ADMIN"})

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_EXTENSION = re.compile(r"[0-9]{1,15}")
_SERVICE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")

_ERROR_NAMES = {
    400: "invalid_request",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
}


@bp.record_once
def _open_store(state: BlueprintSetupState) -> None:
    cloud = state.app.extensions["cloud"]
    reserved: dict[str, set[str]] = {}

    for user in cloud.seed.users.values():
        reserved.setdefault(user.account_id, set()).add(user.email.lower())

    state.app.extensions["users"] = UserStore(cloud.config.state_dir, reserved)


def user_store() -> UserStore:
    """The user store of the app handling the current request."""

    return cast(UserStore, current_app.extensions["users"])


def refusal(status: int, code: str, message: str, field: str = "") -> ApiError:
    """An API error carrying a Users API ``code``."""

    extra = {"code": code, "message": message}

    if field:
        extra["field"] = field

    return ApiError(status, _ERROR_NAMES.get(status, "invalid_request"), message, extra)


def parse_user(body: Any, entitlements: frozenset[str], creating: bool) -> UserFields:
    """The fields of a create (``creating``) or replace body, checked.

    Raises ApiError 400 INVALID_USER or INVALID_EMAIL naming the field, or
    403 SERVICE_NOT_ENTITLED.
    """

    if not isinstance(body, dict):
        raise refusal(400, "INVALID_USER", "The user must be a JSON object")

    first_name = _name(body, "firstName")
    last_name = _name(body, "lastName")
    email = body.get("email")

    if not isinstance(email, str) or len(email) > 254 or not _EMAIL.fullmatch(email):
        raise refusal(
            400, "INVALID_EMAIL", f"email {email!r} is not an e-mail address", "email"
        )

    role = body.get("role", "NONE")

    if role not in ROLES:
        raise refusal(
            400,
            "INVALID_USER",
            f"role must be one of {', '.join(sorted(ROLES))}",
            "role",
        )

    services = body.get("services", [])

    if not isinstance(services, list) or not all(
        isinstance(s, str) and _SERVICE.fullmatch(s) for s in services
    ):
        raise refusal(
            400, "INVALID_USER", "services must be a list of service names", "services"
        )

    for service in services:
        if service not in entitlements:
            raise refusal(
                403,
                "SERVICE_NOT_ENTITLED",
                f"The account is not entitled to the service {service}",
                "services",
            )

    extension = body.get("extension", "")
    system_id = body.get("systemId", "")

    if creating and not (
        isinstance(extension, str)
        and (not extension or _EXTENSION.fullmatch(extension))
    ):
        raise refusal(
            400, "INVALID_USER", "extension must be 1 to 15 digits", "extension"
        )

    if creating and not isinstance(system_id, str):
        raise refusal(400, "INVALID_USER", "systemId must be a string", "systemId")

    return UserFields(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        services=tuple(dict.fromkeys(services)),
        extension=extension if creating else "",
        system_id=system_id.lower() if creating else "",
    )


def _name(body: dict[str, Any], field: str) -> str:
    value = body.get(field)

    if not isinstance(value, str) or not value.strip() or len(value) > NAME_MAX:
        raise refusal(
            400,
            "INVALID_USER",
            f"{field} must be a non-empty string of at most {NAME_MAX} characters",
            field,
        )

    return value.strip()


def _count(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)

    if raw is None:
        return default

    if not raw.isdigit() or (maximum is not None and not 1 <= int(raw) <= maximum):
        limit = f"1 to {maximum}" if maximum else "0 or more"
        raise refusal(400, "INVALID_REQUEST", f"{name} must be a whole number, {limit}")

    return int(raw)


@bp.get("/users")
def list_users() -> Response:
    """The account's users, of one system and extension when asked, paged."""

    caller = systems.current_caller()
    top = _count("$top", PAGE_DEFAULT, PAGE_MAX)
    skip = _count("$skip", 0)
    system_id = request.args.get("systemId", "").lower()
    extension = request.args.get("extension", "")

    account_id = caller.account.account_id
    found = [
        u.document() for u in user_store().select(account_id, system_id, extension)
    ]

    if not system_id and not extension:
        found = [*_sign_in_users(account_id), *found]

    page = found[skip : skip + top]
    body: dict[str, Any] = {
        "count": len(found),
        "_embedded": {"items": page},
        "_links": {},
    }

    if skip + top < len(found):
        query = {k: v for k, v in request.args.items() if k not in ("$skip", "$top")}
        query.update({"$top": str(top), "$skip": str(skip + top)})
        body["_links"]["next"] = {
            "href": f"{emulator().config.public_url}{request.path}?{urlencode(query)}"
        }

    return jsonify(body)


@bp.post("/users")
def create_user() -> tuple[Response, int, dict[str, str]]:
    """Creates a user; a retry with the same Idempotency-Key answers 200."""

    caller = _writer("POST")
    key = request.headers.get("Idempotency-Key", "")

    if key and not _KEY.fullmatch(key):
        raise refusal(
            400,
            "INVALID_REQUEST",
            "Idempotency-Key must be 8 to 128 letters, digits, dots, dashes, "
            "colons or underscores",
        )

    body = request.get_json(force=True, silent=True)
    fields = parse_user(body, caller.account.entitlements, creating=True)

    account_id = caller.account.account_id

    if (
        fields.system_id
        and emulator().store.system(account_id, fields.system_id) is None
    ):
        raise refusal(
            400,
            "INVALID_USER",
            f"systemId {fields.system_id} is no system of this account",
            "systemId",
        )

    body_hash = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    user, created = _guard(
        lambda: user_store().create(
            account_id,
            fields,
            emulator().config.user_limit,
            key,
            body_hash,
        )
    )

    if created:
        log.info(
            "Created user %s of system %s",
            user.user_id,
            user.system_id or "(none)",
            extra={**request_extra(), "user_id": user.user_id},
        )

    return jsonify(user.document()), 201 if created else 200, {"Location": _self(user)}


@bp.get("/users/<user_id>")
def get_user(user_id: str) -> Response:
    """One user of the caller's account."""

    account_id = systems.current_caller().account.account_id
    signs_in = [u for u in _sign_in_users(account_id) if u["userId"] == user_id.lower()]

    if signs_in:
        return jsonify(signs_in[0])

    return jsonify(_owned(account_id, user_id).document())


@bp.put("/users/<user_id>")
def replace_user(user_id: str) -> Response:
    """Replaces the mutable fields of a user: names, e-mail, services, role."""

    caller = _writer("PUT")
    _owned(caller.account.account_id, user_id)
    fields = parse_user(
        request.get_json(force=True, silent=True),
        caller.account.entitlements,
        creating=False,
    )
    user = _guard(
        lambda: user_store().replace(caller.account.account_id, user_id, fields)
    )

    if user is None:
        raise _not_found(user_id)

    return jsonify(user.document())


@bp.delete("/users/<user_id>")
def delete_user(user_id: str) -> Response:
    """Removes a user of the caller's account."""

    caller = _writer("DELETE")
    _owned(caller.account.account_id, user_id)

    if not user_store().delete(caller.account.account_id, user_id):
        raise _not_found(user_id)

    log.info("Deleted user %s", user_id, extra=request_extra())
    return Response(status=204)


@bp.get("/emulator/user-writes")
def user_writes() -> Response:
    """The write requests received for the caller's account, by method."""

    caller = systems.current_caller()
    return jsonify(user_store().write_counts(caller.account.account_id))


def _writer(method: str) -> systems.Caller:
    caller = systems.current_caller()
    user_store().count_write(caller.account.account_id, method)
    caller.require_admin("provision users in")
    return caller


def _owned(account_id: str, user_id: str) -> CloudUser:
    user = user_store().get(account_id, user_id)

    if user is not None:
        return user

    if any(u["userId"] == user_id.lower() for u in _sign_in_users(account_id)):
        raise refusal(
            403,
            "NOT_PROVISIONED",
            f"User {user_id} signs in to CloudLink; the Users API does not change it",
        )

    raise _not_found(user_id)


def _sign_in_users(account_id: str) -> list[dict[str, Any]]:
    """The account's users from the seed (its sign-ins), read-only here."""

    documents = []

    for user in emulator().seed.users.values():
        if user.account_id != account_id:
            continue

        first, _, last = user.name.partition(" ")
        documents.append(
            {
                "accountId": account_id,
                "userId": user.user_id,
                "email": user.email,
                "firstName": first,
                "lastName": last,
                "name": user.name,
                "role": user.role,
                "services": [],
                "extension": "",
                "systemId": "",
                "createdOn": "",
                "modifiedOn": "",
            }
        )

    return documents


def _not_found(user_id: str) -> ApiError:
    return refusal(404, "NOT_FOUND", f"No user {user_id} in this account")


def _guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except UserConflict as exc:
        raise refusal(409, exc.code, exc.message, exc.field) from None


def _self(user: CloudUser) -> str:
    return f"{emulator().config.public_url}/2017-09-01/users/{user.user_id}"
