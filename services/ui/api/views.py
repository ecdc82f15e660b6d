"""The API's routes below /cld/api/v1, as described in openapi.yaml."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from services.ui.api import API_PREFIX, access, convert, document
from services.ui.api.credentials import ApiClients
from services.ui.api.errors import (
    RETRY_AFTER,
    ApiError,
    from_backend,
    from_http,
    unavailable,
)
from services.ui.backends import BackendError
from services.ui.clients import ProvisioningClient
from services.ui.throttle import LoginThrottle

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

EXTENSION = "cld_ui_api"

# One user's body is a few hundred bytes; PM's complete list of 5,000 users
# and more is about a megabyte. Only the synchronisation takes the larger
# body; everything else keeps the dashboard's own limit.
USER_BODY_LIMIT = 16 * 1024
SYNC_BODY_LIMIT = 4 * 1024 * 1024

_PUBLIC = frozenset({"api.openapi"})


@dataclass(frozen=True)
class Api:
    """The API's parts: the registration service, the clients, the throttle."""

    provisioning: ProvisioningClient
    clients: ApiClients
    throttle: LoginThrottle


def install(app: Flask, api: Api) -> None:
    """Serves the API on ``app``.

    The caller exempts ``bp`` from CSRF checks: API clients send no form
    token, and a browser cannot send their Basic credentials unasked.
    """

    app.extensions[EXTENSION] = api
    app.register_blueprint(bp)


def serves(path: str) -> bool:
    """Whether ``path`` belongs to the API, so errors there are answered in JSON."""

    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


def _api() -> Api:
    return cast(Api, current_app.extensions[EXTENSION])


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint in _PUBLIC:
        return None

    parts = _api()

    try:
        access.authenticate(parts.clients, parts.throttle)
    except ApiError as exc:
        return exc.response()

    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return exc.response()


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return from_http(exc)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document; readable without credentials, it holds no secret."""

    return Response(document.document_json(), mimetype="application/json")


@bp.get("/connection")
def check_connection() -> Response:
    """200 when users can be provisioned now; 503 with the problem when not."""

    try:
        check = _api().provisioning.check_connection()
    except BackendError as exc:
        raise unavailable(exc.message) from exc

    response = jsonify(convert.connection_check(check))

    if not (check.linked and check.cloud_reachable) or check.problem:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER)

    return response


@bp.get("/users/<extension>")
def get_user(extension: str) -> Response:
    """The user with ``extension`` as this system provisioned it."""

    _check("Extension", extension, "extension")

    try:
        found = _api().provisioning.get_user(extension)
    except BackendError as exc:
        raise from_backend(exc) from exc

    return jsonify(convert.provisioned_user(found))


@bp.put("/users/<extension>")
def put_user(extension: str) -> Response:
    """Creates or updates the user with ``extension``."""

    _check("Extension", extension, "extension")
    body = _json_body(USER_BODY_LIMIT)
    _check("UserFields", body, "body")

    try:
        result = _api().provisioning.put_user(convert.user_from_json(extension, body))
    except BackendError as exc:
        raise from_backend(exc) from exc

    answer = convert.user_result(result)
    _log_result("put", answer)
    response = jsonify(answer)

    if answer["outcome"] == "created":
        response.status_code = 201
        response.headers["Location"] = _location(f"users/{extension}")
    elif answer["outcome"] == "rejected":
        response.status_code = 422

    return response


@bp.delete("/users/<extension>")
def delete_user(extension: str) -> Response:
    """Removes the user with ``extension``, if this system provisioned it."""

    _check("Extension", extension, "extension")

    try:
        result = _api().provisioning.delete_user(extension)
    except BackendError as exc:
        raise from_backend(exc) from exc

    answer = convert.user_result(result)
    _log_result("delete", answer)
    response = jsonify(answer)

    if answer["outcome"] == "rejected":
        response.status_code = 422

    return response


@bp.post("/synchronizations")
def start_sync() -> Response:
    """Starts making CloudLink match PM's complete user list."""

    body = _json_body(SYNC_BODY_LIMIT)
    _check("SyncRequest", body, "body")
    users = convert.users_from_json(body)

    try:
        started = _api().provisioning.start_sync(users)
    except BackendError as exc:
        raise from_backend(exc, invalid_status=422) from exc

    log.info(
        "API client %s started synchronization %s of %d users",
        g.get("api_client"),
        started.sync_id,
        len(users),
    )
    response = jsonify(convert.sync(started))
    response.status_code = 202
    response.headers["Location"] = _location(f"synchronizations/{started.sync_id}")
    return response


@bp.get("/synchronizations/<sync_id>")
def get_sync(sync_id: str) -> Response:
    """One synchronization with every user's result."""

    _check("SyncId", sync_id, "syncId")

    try:
        found = _api().provisioning.get_sync(sync_id, include_results=True)
    except BackendError as exc:
        raise from_backend(exc) from exc

    return jsonify(convert.sync(found, with_results=True))


@bp.get("/synchronization-status")
def sync_status() -> Response:
    """The running synchronization, the last completed one, and totals."""

    try:
        status = _api().provisioning.sync_status()
    except BackendError as exc:
        raise from_backend(exc) from exc

    return jsonify(convert.sync_status(status))


def _json_body(limit: int) -> Any:
    """The request's JSON body, at most ``limit`` bytes; ApiError when unusable."""

    request.max_content_length = limit

    if request.mimetype != "application/json":
        shown = request.mimetype or "no Content-Type"
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"The body must be sent as application/json, not {shown}",
        )

    raw = request.get_data(cache=False)

    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            400, "MALFORMED_JSON", f"The body is not valid JSON: {exc}"
        ) from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _check(schema: str, value: Any, where: str) -> None:
    try:
        document.check(schema, value, where)
    except document.RequestError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from exc


def _location(path: str) -> str:
    return f"{request.script_root}{API_PREFIX}/{path}"


def _log_result(operation: str, answer: dict[str, Any]) -> None:
    log.info(
        "API client %s: %s user %s: %s %s",
        g.get("api_client"),
        operation,
        answer["extension"],
        answer["outcome"],
        answer.get("reasonCode", ""),
    )
