"""What the Provisioning panel shows: users Provisioning Manager pushed to CloudLink.

Plain functions over the registration service's answers, so the panel's
content is tested from messages alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cld.v1 import provisioning_pb2 as pb

from services.ui.backends import BackendError
from services.ui.service_panels import moment

# The platform whose Provisioning Manager uses this API.
MX_ONE = "mx-one"
MX_ONE_NAME = "MiVoice MX-ONE"

# The debug view lists at most this many rejected users; the API's
# synchronization resource has them all.
REJECTED_ROWS = 100

SYNC_STATES = {
    pb.SYNC_STATE_RUNNING: "running",
    pb.SYNC_STATE_WAITING: "waiting",
    pb.SYNC_STATE_DONE: "done",
    pb.SYNC_STATE_SUPERSEDED: "superseded",
}


@dataclass(frozen=True)
class SyncView:
    """One synchronization as the panel words it."""

    sync_id: str
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    created: int
    updated: int
    unchanged: int
    removed: int
    rejected: int
    problem: str

    @property
    def applied(self) -> int:
        """Users of PM's list dealt with so far, whatever the outcome."""

        done = self.created + self.updated + self.unchanged + self.rejected
        return min(done, self.total)


@dataclass(frozen=True)
class RejectedRow:
    """A user CloudLink refused, and why."""

    extension: str
    code: str
    reason: str


@dataclass(frozen=True)
class ProvisioningPanel:
    """What the Provisioning panel shows; nothing when ``shown`` is false."""

    shown: bool = False
    error: str | None = None
    current: SyncView | None = None
    last: SyncView | None = None
    provisioned_users: int = 0
    user_limit: int = 0
    rejected_total: int = 0
    rejected: tuple[RejectedRow, ...] = ()
    rejected_more: int = 0
    rejected_error: str | None = None


def sync_view(found: pb.Sync) -> SyncView:
    """``found`` with its counts spelled out."""

    counts = found.counts
    return SyncView(
        sync_id=found.sync_id,
        state=SYNC_STATES.get(found.state, "running"),
        started_at=moment(found, "started_at"),
        finished_at=moment(found, "finished_at"),
        total=found.total,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        removed=counts.removed,
        rejected=counts.rejected,
        problem=found.problem,
    )


def on_mx_one(platform: Mapping[str, Any], host_name: str) -> bool:
    """Whether the host is MiVoice MX-ONE, by the inventory's word or the profile."""

    return platform.get("id") == MX_ONE or host_name == MX_ONE_NAME


def latest_sync_id(status: pb.SyncStatus | BackendError) -> str:
    """The sync whose rejected users the debug view lists: running, else last."""

    if isinstance(status, BackendError):
        return ""

    for name in ("current", "last_completed"):
        if status.HasField(name):
            found: pb.Sync = getattr(status, name)

            if found.counts.rejected:
                return found.sync_id

            return ""

    return ""


def provisioning_panel(
    status: pb.SyncStatus | BackendError,
    mx_one: bool,
    latest: pb.Sync | BackendError | None = None,
) -> ProvisioningPanel:
    """The panel for the sync status and, in the debug view, the latest sync.

    Shown on MiVoice MX-ONE, and anywhere a synchronization has ever run or
    users were provisioned; elsewhere it would only be noise.
    """

    if isinstance(status, BackendError):
        return ProvisioningPanel(shown=mx_one, error=status.message)

    current = sync_view(status.current) if status.HasField("current") else None
    last = (
        sync_view(status.last_completed) if status.HasField("last_completed") else None
    )
    shown = mx_one or current is not None or last is not None
    shown = shown or status.provisioned_users > 0
    rejected: list[RejectedRow] = []
    rejected_more = 0
    rejected_error = None

    if isinstance(latest, BackendError):
        rejected_error = latest.message
    elif latest is not None:
        rejected = [
            RejectedRow(r.extension, r.reason_code, r.reason)
            for r in latest.results
            if r.outcome == pb.USER_OUTCOME_REJECTED
        ][:REJECTED_ROWS]
        rejected_more = max(0, latest.counts.rejected - len(rejected))

    return ProvisioningPanel(
        shown=shown,
        current=current,
        last=last,
        provisioned_users=status.provisioned_users,
        user_limit=status.user_limit,
        rejected_total=status.rejected_total,
        rejected=tuple(rejected),
        rejected_more=rejected_more,
        rejected_error=rejected_error,
    )
