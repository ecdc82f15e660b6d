"""Remote access from the admin page: one-time codes the relay trades for a token.

The admin page is served by the cloud, the tunnels by the relay at other
host names, so the page cannot set the relay's visitor cookie itself. It
hands the browser a one-time code for one tunnel instead; the relay trades
the code here for an access token of the signed-in user and sets its
cookie on the tunnel's own host.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify

from cloud.emulator import emulator
from cloud.errors import ApiError
from cloud.expiring import ExpiringMap
from cloud.seed import User
from cloud.tokens import access_claims
from cloud.web import json_body, no_store, request_extra
from services.tunnel.messages import public_label

log = logging.getLogger(__name__)

bp = Blueprint("visits", __name__, url_prefix="/2017-09-01/relay")

# Long enough for a browser to follow a redirect, short enough that a code
# seen in a log is useless.
CODE_TTL = 60.0

# Where the relay takes a code on a tunnel's host (cloud/relay/entry.py).
ENTRY_PATH = "/.cld-relay/enter"

_EXTENSION = "cloud_visits"


@dataclass(frozen=True)
class Visit:
    """A code's promise: this user may enter the tunnel with this label."""

    user_id: str
    label: str


def _codes() -> ExpiringMap[Visit]:
    codes: ExpiringMap[Visit] = current_app.extensions.setdefault(
        _EXTENSION, ExpiringMap(CODE_TTL)
    )
    return codes


def public_url(template: str, system_id: str, component: str, name: str) -> str:
    """A tunnel's public URL, from the relay's URL template."""

    return template.replace("{label}", public_label(system_id, component, name))


def entry_url(user: User, system_id: str, component: str, name: str) -> str:
    """Where the browser goes to enter a tunnel as ``user``: a one-time link."""

    template = emulator().config.relay_url
    label = public_label(system_id, component, name)
    code = _codes().add(Visit(user.user_id, label))
    base = public_url(template, system_id, component, name)
    return f"{base}{ENTRY_PATH}?{urlencode({'code': code})}"


@bp.post("/visits")
def redeem() -> Response:
    """Trades a one-time code for the visitor's access token (relay only)."""

    body = json_body()
    code = body.get("code") if isinstance(body, dict) else None
    label = body.get("label") if isinstance(body, dict) else None

    if not isinstance(code, str) or not isinstance(label, str):
        raise ApiError(400, "invalid_request", "A code and a label are required")

    visit = _codes().take(code)

    # A code is for one tunnel: presented at another host, it is spent.
    if visit is None or not secrets.compare_digest(visit.label, label):
        raise ApiError(400, "invalid_grant", "The code is unknown, used or expired")

    em = emulator()
    user = em.seed.user(visit.user_id)

    if user is None:
        raise ApiError(400, "invalid_grant", "The code's user no longer exists")

    # A visit is not a sign-in session of its own; the sid only names it.
    claims = access_claims(
        user,
        em.account_of(user),
        issuer=em.config.issuer,
        sid=f"visit-{secrets.token_hex(8)}",
        issued_at=int(time.time()),
        ttl=em.token_ttl,
    )
    log.info(
        "User %s entered tunnel %s from the admin page",
        user.user_id,
        label,
        extra={**request_extra(), "user_id": user.user_id},
    )
    return no_store(
        jsonify(
            {
                "access_token": em.signer.issue(claims),
                "token_type": "Bearer",
                "expires_in": em.token_ttl,
            }
        )
    )
