"""What the inventory, update and tunnel panels show, from their services' answers.

Plain functions over the gRPC messages: no calls, no clock, so each panel's
content is tested from a message alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cld.v1 import inventory_pb2 as inventory_pb
from cld.v1 import tunnel_pb2 as tunnel_pb
from cld.v1 import updater_pb2 as updater_pb
from google.protobuf.message import Message

from services.ui.backends import BackendError

TUNNEL_STATES = {
    tunnel_pb.TUNNEL_STATE_STOPPED: "stopped",
    tunnel_pb.TUNNEL_STATE_STARTING: "starting",
    tunnel_pb.TUNNEL_STATE_STARTED: "started",
    tunnel_pb.TUNNEL_STATE_FAILED: "failed",
}
RELAY_STATES = {
    tunnel_pb.RELAY_STATE_IDLE: "idle",
    tunnel_pb.RELAY_STATE_CONNECTING: "connecting",
    tunnel_pb.RELAY_STATE_CONNECTED: "connected",
    tunnel_pb.RELAY_STATE_RETRYING: "retrying",
}
DAILY = "daily"
WEEKLY = "weekly"
RECURRENCES = {
    updater_pb.RECURRENCE_DAILY: DAILY,
    updater_pb.RECURRENCE_WEEKLY: WEEKLY,
}


class FormError(ValueError):
    """A form field that cannot be used; the message names it."""


def web_address(url: Any) -> str:
    """``url`` when it is a web address, else empty.

    Addresses come from other services and the cloud; only these become
    links, never a javascript: or data: one.
    """

    return (
        url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""
    )


def moment(message: Message, name: str) -> datetime | None:
    """The Timestamp field ``name`` of ``message`` in UTC, or None when unset."""

    if not message.HasField(name):
        return None

    stamp: Any = getattr(message, name)
    when: datetime = stamp.ToDatetime(tzinfo=UTC)
    return when


@dataclass(frozen=True)
class InventoryPanel:
    """What the Inventory Report Submission panel shows."""

    error: str | None = None
    linked: bool = False
    last_submission: datetime | None = None
    next_submission: datetime | None = None
    last_error: str = ""
    outbox_depth: int = 0
    rejected_count: int = 0


def inventory_panel(
    status: inventory_pb.SubmissionStatus | BackendError,
) -> InventoryPanel:
    """The panel for the inventory service's submission status."""

    if isinstance(status, BackendError):
        return InventoryPanel(error=status.message)

    return InventoryPanel(
        linked=status.linked,
        last_submission=moment(status, "last_submission"),
        next_submission=moment(status, "next_submission"),
        last_error=status.last_error,
        outbox_depth=status.outbox_depth,
        rejected_count=status.rejected_count,
    )


def pretty_report(report_json: bytes) -> str:
    """A report's JSON indented for reading; as sent when it is not JSON."""

    try:
        return json.dumps(json.loads(report_json), indent=2, ensure_ascii=False)
    except ValueError:
        return report_json.decode(errors="replace")


@dataclass(frozen=True)
class ScheduleView:
    """An update schedule as the panel words it."""

    recurrence: str = DAILY
    weekday: int = 1
    at: str = "00:00"
    time_zone: str = ""
    default: bool = False


@dataclass(frozen=True)
class HistoryRow:
    """One finished update attempt."""

    at: datetime | None
    from_version: str
    to_version: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class UpdatePanel:
    """What the CloudLink Daemon Update panel shows."""

    error: str | None = None
    schedule: ScheduleView = field(default_factory=ScheduleView)
    paused: bool = False
    last_update: datetime | None = None
    last_check: datetime | None = None
    next_check: datetime | None = None
    installed_version: str = ""
    installed_build_number: str = ""
    update_available: bool = False
    available_version: str = ""
    progress: str = ""
    progress_detail: str = ""
    last_error: str = ""
    history: tuple[HistoryRow, ...] = ()


def schedule_view(status: updater_pb.UpdateStatus) -> ScheduleView:
    """The schedule in ``status``, as HH:MM in its zone."""

    schedule = status.schedule
    recurrence = RECURRENCES.get(schedule.recurrence, DAILY)
    return ScheduleView(
        recurrence=recurrence,
        weekday=schedule.weekday if 1 <= schedule.weekday <= 7 else 1,
        at=f"{schedule.hour:02d}:{schedule.minute:02d}",
        time_zone=status.time_zone,
        default=status.default_schedule,
    )


def update_panel(status: updater_pb.UpdateStatus | BackendError) -> UpdatePanel:
    """The panel for the updater's status."""

    if isinstance(status, BackendError):
        return UpdatePanel(error=status.message)

    history = tuple(
        HistoryRow(
            at=moment(record, "at"),
            from_version=record.from_version,
            to_version=record.to_version,
            outcome=record.outcome,
            reason=record.reason,
        )
        for record in status.history
    )
    return UpdatePanel(
        schedule=schedule_view(status),
        paused=status.paused,
        last_update=moment(status, "last_update"),
        last_check=moment(status, "last_check"),
        next_check=moment(status, "next_check"),
        installed_version=status.installed_version,
        installed_build_number=status.installed_build_number,
        update_available=status.update_available,
        available_version=status.available_version,
        progress=status.progress,
        progress_detail=status.progress_detail,
        last_error=status.last_error,
        history=history,
    )


def schedule_from_form(form: Mapping[str, str]) -> updater_pb.UpdateSchedule:
    """The schedule the Reschedule form asks for.

    Only the form's shape is checked here; whether the hour, minute and
    weekday are in range is the updater's to say, in its own words.
    """

    recurrence = form.get("recurrence", "")

    if recurrence not in (DAILY, WEEKLY):
        raise FormError(f"recurrence must be daily or weekly, not {recurrence!r}")

    hour, sep, minute = form.get("time", "").strip().partition(":")

    if not (sep and hour.isdigit() and minute.isdigit()):
        raise FormError(f"time must be HH:MM, not {form.get('time', '')!r}")

    weekday = form.get("weekday", "0").strip() or "0"

    if recurrence == WEEKLY and not weekday.isdigit():
        raise FormError(f"weekday must be 1 (Monday) to 7 (Sunday), not {weekday!r}")

    return updater_pb.UpdateSchedule(
        recurrence=(
            updater_pb.RECURRENCE_WEEKLY
            if recurrence == WEEKLY
            else updater_pb.RECURRENCE_DAILY
        ),
        weekday=int(weekday) if recurrence == WEEKLY else 0,
        hour=int(hour),
        minute=int(minute),
    )


@dataclass(frozen=True)
class TunnelRow:
    """One tunnel of one component."""

    component: str
    component_name: str
    name: str
    description: str
    state: str
    reason: str
    local_address: str
    public_url: str
    active_streams: int


@dataclass(frozen=True)
class AccessRow:
    """One visitor connection through a tunnel."""

    opened_at: datetime | None
    component: str
    name: str
    user_id: str
    visitor_address: str
    bytes_in: int
    bytes_out: int
    status: str
    duration_seconds: float


@dataclass(frozen=True)
class TunnelsPanel:
    """What the Tunnels panel shows."""

    error: str | None = None
    tunnels: tuple[TunnelRow, ...] = ()
    relay_state: str = "idle"
    relay_error: str = ""
    catalog_problem: str = ""
    access_error: str | None = None
    access_log: tuple[AccessRow, ...] = ()

    @property
    def any_stopped(self) -> bool:
        """Whether Start all has anything to start."""

        return any(t.state in ("stopped", "failed") for t in self.tunnels)

    @property
    def any_running(self) -> bool:
        """Whether Stop all has anything to stop."""

        return any(t.state in ("starting", "started") for t in self.tunnels)


def component_names(platform: Mapping[str, Any]) -> dict[str, str]:
    """Component ids to their names, from the inventory's platform payload."""

    names = {}
    components = platform.get("components")

    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and isinstance(component.get("id"), str):
            names[component["id"]] = str(component.get("name") or component["id"])

    return names


def tunnels_panel(
    listing: tunnel_pb.TunnelList | BackendError,
    access: tunnel_pb.AccessLog | BackendError | None = None,
    names: Mapping[str, str] | None = None,
) -> TunnelsPanel:
    """The panel for the tunnel list and, in the debug view, the access log."""

    if isinstance(listing, BackendError):
        return TunnelsPanel(error=listing.message)

    names = names or {}
    rows = tuple(
        TunnelRow(
            component=t.component,
            component_name=names.get(t.component, t.component),
            name=t.name,
            description=t.description,
            state=TUNNEL_STATES.get(t.state, "stopped"),
            reason=t.reason,
            local_address=t.local_address,
            public_url=web_address(t.public_url),
            active_streams=t.active_streams,
        )
        for t in listing.tunnels
    )
    return TunnelsPanel(
        tunnels=rows,
        relay_state=RELAY_STATES.get(listing.relay_state, "idle"),
        relay_error=listing.relay_error,
        catalog_problem=listing.catalog_problem,
        access_error=access.message if isinstance(access, BackendError) else None,
        access_log=_access_rows(access),
    )


def _access_rows(
    access: tunnel_pb.AccessLog | BackendError | None,
) -> tuple[AccessRow, ...]:
    if access is None or isinstance(access, BackendError):
        return ()

    entries: Sequence[tunnel_pb.AccessEntry] = access.entries
    return tuple(
        AccessRow(
            opened_at=moment(e, "opened_at"),
            component=e.component,
            name=e.name,
            user_id=e.user_id,
            visitor_address=e.visitor_address,
            bytes_in=e.bytes_in,
            bytes_out=e.bytes_out,
            status=e.status,
            duration_seconds=e.duration_seconds,
        )
        for e in entries
    )
