from pathlib import Path

from services.registration.provisioning.journal import Journal, read_journal
from services.registration.provisioning.plan import Action, Outcome, Result, Step
from services.registration.provisioning.syncs import SyncBook, SyncState
from services.registration.provisioning.users import PmUser


def users(count: int) -> list[PmUser]:
    return [
        PmUser(str(100 + n), "F", f"L{n}", f"u{n}@acme.example", ("ZOOM_CLIENT",))
        for n in range(count)
    ]


def test_a_sync_is_on_disk_as_soon_as_it_starts(tmp_path: Path) -> None:
    record = SyncBook(tmp_path).start(users(3))

    again = SyncBook(tmp_path)

    assert again.current() is not None
    assert again.syncs[record.sync_id].users == users(3)
    assert again.syncs[record.sync_id].counts().pending == 3


def test_results_survive_a_restart_and_only_the_rest_is_left(tmp_path: Path) -> None:
    book = SyncBook(tmp_path)
    record = book.start(users(4))
    book.record_plan(
        record,
        [
            Step("100", Action.UNCHANGED, "id-0"),
            Step("101", Action.REJECT, "", "INVALID_EMAIL", "bad"),
            Step("999", Action.REMOVE, "id-9"),
            Step("102", Action.CREATE),
            Step("103", Action.CREATE),
        ],
    )
    book.record_result(record, Result("999", Outcome.REMOVED, "id-9"))
    book.record_result(record, Result("102", Outcome.CREATED, "id-2"))
    book.journal(record).flush()

    # Killed here: nothing was closed.
    resumed = SyncBook(tmp_path).syncs[record.sync_id]

    assert [s.extension for s in resumed.steps_to_apply()] == ["103"]
    counts = resumed.counts()
    assert (counts.unchanged, counts.rejected, counts.removed) == (1, 1, 1)
    assert (counts.created, counts.pending) == (1, 1)
    assert [r.extension for r in resumed.ordered_results()] == [
        "100",
        "101",
        "102",
        "103",
        "999",
    ]


def test_only_the_latest_syncs_are_kept(tmp_path: Path) -> None:
    book = SyncBook(tmp_path, kept=2)
    ids = []

    for _ in range(4):
        record = book.start(users(1))
        record.state = SyncState.DONE
        book.save(record)
        ids.append(record.sync_id)

    assert list(SyncBook(tmp_path).syncs) == ids[-2:]
    assert not (tmp_path / f"{ids[0]}.json").exists()


def test_a_torn_journal_line_is_dropped_and_appending_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "sync.journal"
    path.write_bytes(b'{"a":1}\n{"a":')

    assert read_journal(path) == [{"a": 1}]

    journal = Journal(path)
    journal.append({"a": 2})
    journal.close()

    assert read_journal(path) == [{"a": 1}, {"a": 2}]
