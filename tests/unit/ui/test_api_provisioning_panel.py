"""The Provisioning panel's content, from the registration service's answers."""

from __future__ import annotations

import html as markup
from datetime import UTC, datetime

import grpc
from cld.v1 import provisioning_pb2 as pb
from flask import Flask, render_template

from services.ui.backends import BackendError
from services.ui.provisioning_panel import (
    REJECTED_ROWS,
    latest_sync_id,
    on_mx_one,
    provisioning_panel,
)

MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _sync(sync_id: str, state: int, **counts: int) -> pb.Sync:
    found = pb.Sync(sync_id=sync_id, state=state, total=sum(counts.values()))
    found.counts.CopyFrom(pb.SyncCounts(**counts))
    found.started_at.FromDatetime(MOMENT)

    if state == pb.SYNC_STATE_DONE:
        found.finished_at.FromDatetime(MOMENT)

    return found


def _render(app: Flask, debug: bool = False, **panel: object) -> str:
    with app.test_request_context():
        page = render_template(
            "panels/provisioning.html",
            provisioning=provisioning_panel(**panel),  # type: ignore[arg-type]
            debug=debug,
        )

    return markup.unescape(page)


def test_the_panel_is_shown_on_mx_one_or_once_users_were_provisioned() -> None:
    never = pb.SyncStatus(user_limit=5000)
    provisioned = pb.SyncStatus(user_limit=5000, provisioned_users=3)
    synced = pb.SyncStatus(user_limit=5000)
    synced.last_completed.CopyFrom(_sync("s1", pb.SYNC_STATE_DONE, created=0))

    assert not provisioning_panel(never, mx_one=False).shown
    assert provisioning_panel(never, mx_one=True).shown
    assert provisioning_panel(provisioned, mx_one=False).shown
    assert provisioning_panel(synced, mx_one=False).shown


def test_mx_one_is_known_by_the_inventorys_platform_or_the_profile_name() -> None:
    assert on_mx_one({"id": "mx-one"}, "")
    assert on_mx_one({}, "MiVoice MX-ONE")
    assert not on_mx_one({"id": "mivb"}, "MiVoice Business")


def test_a_registration_service_that_does_not_answer_is_said_on_mx_one() -> None:
    error = BackendError("not answering", grpc.StatusCode.UNAVAILABLE)

    assert provisioning_panel(error, mx_one=True).error == "not answering"
    assert not provisioning_panel(error, mx_one=False).shown


def test_the_last_full_sync_shows_its_time_and_counts(app: Flask) -> None:
    status = pb.SyncStatus(provisioned_users=4210, user_limit=5000)
    status.last_completed.CopyFrom(
        _sync(
            "s1",
            pb.SYNC_STATE_DONE,
            created=4000,
            updated=120,
            unchanged=90,
            removed=7,
            rejected=3,
        )
    )

    page = _render(app, status=status, mx_one=True)

    assert "4210 of 5000" in page
    assert "Last full synchronization</dt>\n    <dd>Mar 2, 2026, 9:30:00" in page

    for label, count in [
        ("Created", 4000),
        ("Updated", 120),
        ("Unchanged", 90),
        ("Removed", 7),
        ("Rejected", 3),
    ]:
        assert f"<dt>{label}</dt><dd>{count}</dd>" in page

    assert "The debug view lists the rejected users and why." in page


def test_a_running_sync_shows_its_progress(app: Flask) -> None:
    status = pb.SyncStatus(user_limit=5000)
    status.current.CopyFrom(
        _sync("s2", pb.SYNC_STATE_RUNNING, created=1200, unchanged=300, pending=3500)
    )

    page = _render(app, status=status, mx_one=True)

    assert "Synchronizing: 1500 of 5000 users" in page
    assert '<progress max="5000" value="1500"' in page
    assert "Last full synchronization</dt>\n    <dd>Never" in page


def test_a_waiting_sync_says_why(app: Flask) -> None:
    status = pb.SyncStatus(user_limit=5000)
    waiting = _sync("s2", pb.SYNC_STATE_WAITING, pending=10)
    waiting.problem = "This system is not linked to CloudLink"
    status.current.CopyFrom(waiting)

    page = _render(app, status=status, mx_one=True)

    assert "The synchronization is waiting: This system is not linked" in page
    assert "<progress" not in page


def test_the_debug_view_lists_the_latest_syncs_rejected_users(app: Flask) -> None:
    status = pb.SyncStatus(user_limit=5000, rejected_total=9)
    status.last_completed.CopyFrom(
        _sync("s1", pb.SYNC_STATE_DONE, created=1, rejected=1)
    )
    latest = pb.Sync(sync_id="s1")
    latest.results.add(extension="100", outcome=pb.USER_OUTCOME_CREATED)
    latest.results.add(
        extension="101",
        outcome=pb.USER_OUTCOME_REJECTED,
        reason_code="INVALID_EMAIL",
        reason="bob@ is not an e-mail address",
    )

    assert latest_sync_id(status) == "s1"

    page = _render(app, debug=True, status=status, mx_one=True, latest=latest)
    standard = _render(app, status=status, mx_one=True, latest=latest)

    assert "<td>101</td><td><code>INVALID_EMAIL</code>" in page
    assert "bob@ is not an e-mail address" in page
    assert "<td>100</td>" not in page
    assert "Rejected in total</dt><dd>9</dd>" in page
    assert "Last synchronization: s1" in page
    assert "INVALID_EMAIL" not in standard


def test_no_extra_call_is_made_when_nothing_was_rejected() -> None:
    status = pb.SyncStatus()
    status.last_completed.CopyFrom(_sync("s1", pb.SYNC_STATE_DONE, created=5))

    assert latest_sync_id(status) == ""
    assert latest_sync_id(pb.SyncStatus()) == ""


def test_a_running_syncs_rejections_come_before_the_last_ones() -> None:
    status = pb.SyncStatus()
    status.last_completed.CopyFrom(_sync("s1", pb.SYNC_STATE_DONE, rejected=5))
    status.current.CopyFrom(_sync("s2", pb.SYNC_STATE_RUNNING, rejected=1))

    assert latest_sync_id(status) == "s2"


def test_a_long_rejection_list_is_cut_and_says_how_many_more(app: Flask) -> None:
    status = pb.SyncStatus()
    status.last_completed.CopyFrom(_sync("s1", pb.SYNC_STATE_DONE, rejected=130))
    # The service answers the first page of rejections; the counts say the rest.
    latest = _sync("s1", pb.SYNC_STATE_DONE, rejected=130)

    for n in range(REJECTED_ROWS):
        latest.results.add(
            extension=str(n), outcome=pb.USER_OUTCOME_REJECTED, reason_code="USER_LIMIT"
        )

    panel = provisioning_panel(status, mx_one=True, latest=latest)
    page = _render(app, debug=True, status=status, mx_one=True, latest=latest)

    assert len(panel.rejected) == REJECTED_ROWS
    assert "and 30 more; the API's synchronization resource lists them all." in page
