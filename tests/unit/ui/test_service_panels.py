"""The inventory, update and tunnel panels' content, from their services' answers."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from cld.v1 import inventory_pb2 as inventory_pb
from cld.v1 import tunnel_pb2 as tunnel_pb
from cld.v1 import updater_pb2 as updater_pb
from flask import Flask, render_template

from services.ui.backends import BackendError
from services.ui.panels import weekday_names
from services.ui.service_panels import (
    FormError,
    component_names,
    inventory_panel,
    pretty_report,
    schedule_from_form,
    tunnels_panel,
    update_panel,
)

MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_an_unlinked_system_has_never_submitted_and_nothing_is_scheduled() -> None:
    panel = inventory_panel(inventory_pb.SubmissionStatus(linked=False))

    assert (panel.linked, panel.last_submission, panel.next_submission) == (
        False,
        None,
        None,
    )
    assert (panel.outbox_depth, panel.rejected_count, panel.last_error) == (0, 0, "")


def test_submission_times_and_trouble_come_through() -> None:
    status = inventory_pb.SubmissionStatus(
        linked=True, outbox_depth=2, rejected_count=1, last_error="cloud is down"
    )
    status.last_submission.FromDatetime(MOMENT)
    panel = inventory_panel(status)

    assert panel.last_submission == MOMENT
    assert panel.next_submission is None
    assert (panel.outbox_depth, panel.rejected_count) == (2, 1)
    assert panel.last_error == "cloud is down"


def test_a_backend_error_becomes_the_panels_message() -> None:
    error = BackendError("not answering", grpc.StatusCode.UNAVAILABLE)

    assert inventory_panel(error).error == "not answering"
    assert update_panel(error).error == "not answering"
    assert tunnels_panel(error).error == "not answering"


def test_a_report_preview_is_indented_and_left_as_is_when_not_json() -> None:
    assert pretty_report(b'{"a":{"b":1}}') == '{\n  "a": {\n    "b": 1\n  }\n}'
    assert pretty_report(b"not json \xff") == "not json \ufffd"


def test_a_weekly_schedule_is_shown_with_its_zone_and_history() -> None:
    status = updater_pb.UpdateStatus(
        schedule=updater_pb.UpdateSchedule(
            recurrence=updater_pb.RECURRENCE_WEEKLY, weekday=3, hour=4, minute=5
        ),
        time_zone="Europe/Berlin",
        paused=True,
        update_available=True,
        available_version="0.2.0",
    )
    status.history.add(from_version="0.1.0", to_version="0.2.0", outcome="failed")
    panel = update_panel(status)

    assert panel.schedule.recurrence == "weekly"
    assert panel.schedule.weekday == 3
    assert panel.schedule.at == "04:05"
    assert panel.schedule.time_zone == "Europe/Berlin"
    assert not panel.schedule.default
    assert panel.paused
    assert panel.update_available
    assert panel.history[0].outcome == "failed"
    assert panel.history[0].at is None


def test_the_reschedule_form_becomes_a_schedule() -> None:
    weekly = schedule_from_form(
        {"recurrence": "weekly", "weekday": "7", "time": "23:59"}
    )
    daily = schedule_from_form({"recurrence": "daily", "weekday": "3", "time": "1:00"})

    assert weekly == updater_pb.UpdateSchedule(
        recurrence=updater_pb.RECURRENCE_WEEKLY, weekday=7, hour=23, minute=59
    )
    assert daily == updater_pb.UpdateSchedule(
        recurrence=updater_pb.RECURRENCE_DAILY, weekday=0, hour=1, minute=0
    )


def test_an_out_of_range_time_is_left_for_the_updater_to_refuse() -> None:
    schedule = schedule_from_form({"recurrence": "daily", "time": "25:00"})

    assert schedule.hour == 25


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"recurrence": "monthly", "time": "01:00"}, "recurrence"),
        ({"recurrence": "daily", "time": "noon"}, "time"),
        ({"recurrence": "daily"}, "time"),
        ({"recurrence": "weekly", "weekday": "Monday", "time": "01:00"}, "weekday"),
    ],
)
def test_a_malformed_reschedule_form_names_its_field(
    form: dict[str, str], named: str
) -> None:
    with pytest.raises(FormError, match=f"^{named} must be"):
        schedule_from_form(form)


def test_tunnels_carry_their_component_names_states_and_access_log() -> None:
    listing = tunnel_pb.TunnelList(
        tunnels=[
            tunnel_pb.Tunnel(
                component="pbx",
                name="admin",
                state=tunnel_pb.TUNNEL_STATE_FAILED,
                reason="connection refused",
                public_url="javascript:alert(1)",
            ),
            tunnel_pb.Tunnel(
                component="voicemail",
                name="web",
                state=tunnel_pb.TUNNEL_STATE_STARTED,
                public_url="https://x.eu.relay.example",
                active_streams=2,
            ),
        ],
        relay_state=tunnel_pb.RELAY_STATE_RETRYING,
        relay_error="relay unreachable",
    )
    access = tunnel_pb.AccessLog()
    entry = access.entries.add(component="voicemail", name="web", status="200")
    entry.opened_at.FromDatetime(MOMENT)
    names = component_names({"components": [{"id": "pbx", "name": "Test PBX"}, 3]})
    panel = tunnels_panel(listing, access, names)

    assert [(t.component_name, t.state) for t in panel.tunnels] == [
        ("Test PBX", "failed"),
        ("voicemail", "started"),
    ]
    assert panel.tunnels[0].reason == "connection refused"
    assert panel.tunnels[0].public_url == ""
    assert panel.tunnels[1].public_url == "https://x.eu.relay.example"
    assert (panel.relay_state, panel.relay_error) == ("retrying", "relay unreachable")
    assert panel.any_stopped
    assert panel.any_running
    assert panel.access_log[0].opened_at == MOMENT
    assert panel.access_log[0].status == "200"


def test_an_access_log_that_failed_to_load_says_so_beside_the_tunnels() -> None:
    error = BackendError("not answering", grpc.StatusCode.DEADLINE_EXCEEDED)
    panel = tunnels_panel(tunnel_pb.TunnelList(), error)

    assert panel.error is None
    assert panel.access_error == "not answering"
    assert not panel.any_stopped
    assert not panel.any_running


def test_an_update_in_progress_shows_its_step_history_and_the_offer(
    app: Flask,
) -> None:
    status = updater_pb.UpdateStatus(
        update_available=True,
        available_version="0.2.0",
        progress="downloading",
        progress_detail="3.1 of 12.0 MB",
        last_error="signature mismatch",
        default_schedule=True,
    )
    record = status.history.add(from_version="0.1.0", to_version="0.2.0")
    record.outcome = "rolled back"
    record.at.FromDatetime(MOMENT)

    with app.test_request_context():
        html = render_template(
            "panels/update.html",
            update=update_panel(status),
            debug=True,
            weekdays=weekday_names(),
        )

    assert "Version 0.2.0 is available." in html
    assert "Update now" in html
    assert "Updating: downloading \u2013 3.1 of 12.0 MB" in html
    assert "The last update failed: signature mismatch" in html
    assert "the default for this system" in html
    assert "rolled back" in html
    assert "3/2/26, 9:30" in html
