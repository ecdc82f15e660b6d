"""What every request shares: request ids, the access log, headers, errors."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException

from cloud.errors import ApiError, invalid_request

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Pages need nothing but their own stylesheet; no script runs anywhere.
_CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"

HTML_BLUEPRINTS = frozenset({"signin", "admin"})


def install(app: Flask) -> None:
    """Adds the shared request hooks and error answers to ``app``."""

    app.before_request(_start)
    app.after_request(_finish)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)


def no_store(response: Response) -> Response:
    """``response`` marked never to be cached, as token answers must be."""

    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def json_body() -> Any:
    """The request's JSON body, whatever its content type says."""

    body = request.get_json(force=True, silent=True)

    if body is None:
        raise invalid_request("The request body is not valid JSON")

    return body


def csrf_ok() -> bool:
    """Whether the posted form carries this browser session's CSRF token."""

    # Flask-WTF signals a bad token with a ValidationError, a ValueError.
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValueError as exc:
        log.warning("Refused a form: %s", exc, extra=request_extra())
        return False

    return True


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    """An HTML page explaining what went wrong."""

    return render_template("error.html", title=title, message=message), status


def csrf_error_page() -> tuple[str, int]:
    """The page for a form that lacks a good CSRF token."""

    return error_page(
        400,
        "This form has expired",
        "The form was open too long or did not come from this site. "
        "Go back, reload the page and try again.",
    )


def request_extra() -> dict[str, Any]:
    """Log fields naming the current request."""

    return {"request_id": g.get("request_id", "")}


def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.started = time.monotonic()


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")

    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"

    # The query string is left out: it may carry codes and states.
    log.log(
        logging.DEBUG if request.path == "/health" else logging.INFO,
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            **request_extra(),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(1000 * (time.monotonic() - g.get("started", 0)), 1),
        },
    )
    return response


def _wants_html() -> bool:
    if request.blueprint:
        return request.blueprint in HTML_BLUEPRINTS

    return not request.path.startswith(("/2017-09-01/", "/health"))


def _api_error(exc: ApiError) -> Response:
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return no_store(response)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500

    # Such as the Allow header of a 405.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}

    if _wants_html():
        page, _ = error_page(status, exc.name, exc.description or "")
        return Response(page, status, headers, mimetype="text/html")

    error = re.sub(r"\W+", "_", exc.name.lower()).strip("_")
    return _api_error(
        ApiError(status, error, exc.description or exc.name, None, headers)
    )
