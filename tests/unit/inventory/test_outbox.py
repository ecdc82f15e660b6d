"""The outbox on disk: order, durability, attempts, rejection."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from services.inventory.outbox import Outbox


def queue(outbox: Outbox, n: int) -> list[str]:
    ids = []

    for index in range(n):
        report_id = str(uuid.uuid4())
        body = json.dumps({"n": index, "name": "Zürich"}).encode()
        outbox.add(report_id, "sys-1", "change", "2025-01-01T00:00:00.000Z", body)
        ids.append(report_id)

    return ids


def test_reports_wait_in_order_and_survive_a_new_instance(tmp_path: Path) -> None:
    ids = queue(Outbox(tmp_path / "outbox"), 3)

    again = Outbox(tmp_path / "outbox")

    assert [e.report_id for e in again.entries()] == ids
    assert again.depth() == 3
    oldest = again.oldest()
    assert oldest is not None
    assert json.loads(oldest.body) == {"n": 0, "name": "Zürich"}
    assert oldest.path.stat().st_mode & 0o777 == 0o600


def test_a_delivered_report_leaves_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    ids = queue(outbox, 2)
    first = outbox.oldest()
    assert first is not None

    outbox.delivered(first)

    assert [e.report_id for e in outbox.entries()] == ids[1:]
    assert not outbox.contains(ids[0])
    assert outbox.contains(ids[1])


def test_failed_attempts_are_counted_on_disk(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    queue(outbox, 1)
    entry = outbox.oldest()
    assert entry is not None

    outbox.attempted(outbox.attempted(entry))

    again = Outbox(tmp_path).oldest()
    assert again is not None
    assert again.attempts == 2
    assert again.body == entry.body


def test_a_rejected_report_is_kept_aside_with_the_error(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    queue(outbox, 1)
    entry = outbox.oldest()
    assert entry is not None

    aside = outbox.reject(entry, "host/addresses/0: bad")

    assert outbox.depth() == 0
    assert outbox.rejected_count() == 1
    kept = json.loads(aside.read_text())
    assert kept["error"] == "host/addresses/0: bad"
    assert kept["body"].encode() == entry.body


def test_a_superseded_report_is_kept_aside_apart_from_rejected_ones(
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path)
    first, second = queue(outbox, 2)
    entry = outbox.oldest()
    assert entry is not None

    aside = outbox.supersede(entry, "linked as another system")

    assert [e.report_id for e in outbox.entries()] == [second]
    assert outbox.superseded_count() == 1
    assert outbox.rejected_count() == 0
    kept = json.loads(aside.read_text())
    assert kept["reportId"] == first
    assert kept["superseded"] == "linked as another system"
    assert kept["body"].encode() == entry.body


def test_an_unreadable_entry_is_set_aside_not_lost(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    ids = queue(outbox, 2)
    broken = sorted(tmp_path.glob("*.json"))[0]
    broken.write_text("{not json")
    partial = sorted(tmp_path.glob("*.json"))[1]
    partial.write_text('{"reportId": "x"}')

    assert outbox.entries() == []
    assert ids
    kept = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert len(kept) == 2
    assert any(".corrupt-" in name for name in kept)
    assert any(name.endswith(".unusable") for name in kept)
