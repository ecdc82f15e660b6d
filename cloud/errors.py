"""The JSON error answer shared by the token endpoint and the REST API."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        extra: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, str]:
        """The JSON body of the answer."""

        return {
            "error": self.error,
            "error_description": self.description,
            **self.extra,
        }


def invalid_request(description: str, **extra: str) -> ApiError:
    """A malformed request: a field missing, repeated or of the wrong form."""

    return ApiError(400, "invalid_request", description, extra)


def invalid_grant(description: str) -> ApiError:
    """Credentials, a code or a refresh token that is not good."""

    return ApiError(400, "invalid_grant", description)
