"""The browser sign-in request (OAuth authorization code with PKCE)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

# A person needs time to type a password and perhaps an account number, but
# a request left open for long only widens the window for a forged callback.
PENDING_TTL = 600.0


def new_verifier() -> str:
    """A fresh PKCE code verifier (43+ URL-safe characters)."""

    return secrets.token_urlsafe(48)


def challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""

    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_redirect_uri(uri: str) -> None:
    """Raises ValueError unless ``uri`` is an absolute http(s) URL."""

    parts = urlsplit(uri)

    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("redirect_uri must be an absolute http or https URL")

    if parts.fragment:
        raise ValueError("redirect_uri must not have a fragment")


def authorize_url(
    endpoint: str, client_id: str, redirect_uri: str, state: str, verifier: str
) -> str:
    """The sign-in URL the browser is sent to."""

    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}?{query}"


@dataclass
class PendingLink:
    """A sign-in the browser has been sent to and not yet come back from."""

    redirect_uri: str
    verifier: str
    expires: float


@dataclass
class PendingLinks:
    """Open sign-in requests by their ``state``, each usable once."""

    ttl: float = PENDING_TTL
    _open: dict[str, PendingLink] = field(default_factory=dict)

    def open(self, redirect_uri: str, now: float | None = None) -> tuple[str, str]:
        """Opens a request; returns its state and PKCE verifier."""

        now = time.monotonic() if now is None else now
        self._expire(now)
        state = secrets.token_urlsafe(24)
        verifier = new_verifier()
        self._open[state] = PendingLink(redirect_uri, verifier, now + self.ttl)
        return state, verifier

    def take(self, state: str, now: float | None = None) -> PendingLink | None:
        """The request for ``state``, removed; None if unknown or expired."""

        now = time.monotonic() if now is None else now
        self._expire(now)
        return self._open.pop(state, None)

    def _expire(self, now: float) -> None:
        for state in [s for s, p in self._open.items() if p.expires <= now]:
            del self._open[state]
