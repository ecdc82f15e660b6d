"""The dashboard's panels: their data from the backends and the bus, rendered."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel.dates import get_day_names
from cld.v1 import registration_pb2 as pb
from flask import render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from services.common.version import build_info
from services.ui import fanout, warning_area
from services.ui.backends import BackendError
from services.ui.context import dashboard
from services.ui.i18n import current_language, gettext
from services.ui.live import GATEWAY, PLATFORM
from services.ui.provisioning_panel import (
    REJECTED_ROWS,
    latest_sync_id,
    on_mx_one,
    provisioning_panel,
)
from services.ui.service_panels import (
    component_names,
    inventory_panel,
    tunnels_panel,
    update_panel,
    web_address,
)

# In page order. The Warnings area stands above the others.
PANELS = (
    "warnings",
    "about",
    "registration",
    "provisioning",
    "inventory",
    "update",
    "gateway",
    "tunnels",
)

__all__ = ["PANELS", "Slot", "digest", "gateway_panel", "render_all", "web_address"]


@dataclass(frozen=True)
class LinkPanel:
    """What the CloudLink Registration panel shows."""

    linked: bool
    link: pb.Link
    portal_url: str
    error: str | None = None
    linked_at: datetime | None = None


@dataclass(frozen=True)
class GatewayPanel:
    """What the CloudLink Gateway Integration panel shows, when installed."""

    installed: bool
    version: str
    status_url: str


@dataclass(frozen=True)
class Slot:
    """One rendered panel; an empty one is not shown.

    ``digest`` changes only when what the panel shows changes, so a page
    replaces a panel only when it must.
    """

    id: str
    html: Markup
    digest: str


def link_panel(link: pb.Link | None, error: str | None = None) -> LinkPanel:
    """The panel for ``link``, or for the error that kept it from being read."""

    if link is None:
        return LinkPanel(False, pb.Link(), "", error)

    linked = link.state == pb.LINK_STATE_LINKED
    linked_at = (
        link.linked_at.ToDatetime(tzinfo=UTC)
        if linked and link.HasField("linked_at")
        else None
    )
    return LinkPanel(linked, link, web_address(link.admin_portal_url), None, linked_at)


def gateway_panel(payload: Mapping[str, Any]) -> GatewayPanel:
    """The panel for the inventory service's view of the CloudLink Gateway."""

    return GatewayPanel(
        installed=payload.get("installed") is True,
        version=str(payload.get("version") or ""),
        status_url=web_address(payload.get("status_url")),
    )


def weekday_names() -> list[tuple[int, str]]:
    """ISO weekday numbers with their names in the current request's language."""

    names = get_day_names("wide", locale=current_language())
    return [(day, names[day - 1]) for day in range(1, 8)]


def digest(html: str, csrf_token: str) -> str:
    """A fingerprint of ``html`` that ignores the form token it carries.

    The token is signed afresh for each request; a panel whose only change
    is its token has not changed.
    """

    stable = html.replace(csrf_token, "")
    return hashlib.sha256(stable.encode()).hexdigest()[:16]


def render_all(debug: bool) -> list[Slot]:
    """Every panel for the current request, its backend calls made together."""

    parts = dashboard()
    calls: dict[str, Callable[[], Any]] = {
        "registration": parts.registration.get_link,
        "inventory": parts.inventory.submission_status,
        "update": parts.updater.status,
        "tunnels": parts.tunnel.tunnels,
        "provisioning": parts.provisioning.sync_status,
    }

    if debug:
        calls["access_log"] = parts.tunnel.access_log

    answers = {name: _translated(a) for name, a in fanout.call_all(calls).items()}
    link = answers["registration"]

    if isinstance(link, BackendError):
        registration = link_panel(None, link.message)
    else:
        registration = link_panel(link)

    state = parts.live.snapshot()
    sync_status = answers["provisioning"]
    latest = None

    # The rejected users are in the latest sync's results, which only the
    # status names; the one extra call is made when there are some to show,
    # and asks for no more of them than the view lists.
    sync_id = latest_sync_id(sync_status) if debug else ""

    if sync_id:
        latest = _translated(
            fanout.call_all(
                {
                    "sync": lambda: parts.provisioning.get_sync(
                        sync_id, True, rejected_only=True, limit=REJECTED_ROWS
                    )
                }
            )["sync"]
        )

    context = {
        "debug": debug,
        "build": build_info(),
        "registration": registration,
        "gateway": gateway_panel(state.get(GATEWAY, {})),
        "inventory": inventory_panel(answers["inventory"]),
        "update": update_panel(answers["update"]),
        "tunnels": tunnels_panel(
            answers["tunnels"],
            answers.get("access_log"),
            component_names(state.get(PLATFORM, {})),
        ),
        "provisioning": provisioning_panel(
            sync_status,
            on_mx_one(state.get(PLATFORM, {}), parts.host.name),
            latest,
        ),
        "weekdays": weekday_names(),
        "warnings": warning_area.warnings(state, datetime.now(UTC), parts.clock_check),
    }
    token = generate_csrf()
    slots = []

    for name in PANELS:
        # render_template escapes what it puts in; its output is HTML.
        html = Markup(render_template(f"panels/{name}.html", **context).strip())  # noqa: S704
        slots.append(Slot(name, html, digest(html, token)))

    return slots


def _translated(answer: Any) -> Any:
    """``answer``, its message in the reader's language when it is an error."""

    if isinstance(answer, BackendError):
        return BackendError(gettext(answer.message), answer.code)

    return answer
