"""The API's error answers: ``{"error": {"code", "message"}}`` with a fitting status."""

from __future__ import annotations

import grpc
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from services.ui.backends import BackendError

# Seconds PM is asked to wait when the cloud or the registration service
# cannot be reached; long enough for a restart, short for a network blip.
RETRY_AFTER = 30

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

# The service is fine but cannot do it now; nothing changed and the same
# request can be sent again.
_RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


class ApiError(Exception):
    """A request answered with an error; ``code`` is stable, ``message`` plain."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        """The error as the API answers it."""

        response = jsonify({"error": {"code": self.code, "message": self.message}})
        response.status_code = self.status
        response.headers.update(self.headers)
        return response


def unavailable(message: str) -> ApiError:
    """503 for something that may work again shortly, with Retry-After."""

    return ApiError(503, "UNAVAILABLE", message, {"Retry-After": str(RETRY_AFTER)})


def from_backend(exc: BackendError, invalid_status: int = 400) -> ApiError:
    """The answer for a failed call to the registration service.

    ``invalid_status`` is the status for INVALID_ARGUMENT: 400 where the
    request's shape is at fault, 422 where its content is (a user list with
    one extension twice).
    """

    code = exc.code

    if code in _RETRYABLE:
        return unavailable(exc.message)

    if code == grpc.StatusCode.NOT_FOUND:
        return ApiError(404, "NOT_FOUND", exc.message)

    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return ApiError(409, "NOT_LINKED", exc.message)

    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return ApiError(invalid_status, "INVALID_REQUEST", exc.message)

    if code == grpc.StatusCode.ALREADY_EXISTS:
        return ApiError(409, "CONFLICT", exc.message)

    return ApiError(502, "REGISTRATION_FAILED", exc.message)


def from_http(exc: HTTPException) -> Response:
    """A routing or protocol error (404, 405, 413…) as the API answers it."""

    status = exc.code or 500
    code = _HTTP_CODES.get(status, exc.name.upper().replace(" ", "_"))

    if status == 404:
        message = f"There is nothing at {request.path} in this API"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.path}"
    elif status == 413:
        limit = request.max_content_length
        message = f"The body is larger than the {limit} bytes this operation takes"
    else:
        message = exc.description or exc.name

    response = ApiError(status, code, message).response()

    # A 405 lists the allowed methods in Allow; keep such headers.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value

    return response
