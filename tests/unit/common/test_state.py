import stat
from pathlib import Path

from services.common.state import StateStore


def test_a_saved_document_loads_back(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "sub" / "link.json")
    store.save({"a": 1, "b": ["x"]})

    assert StateStore(store.path).load() == {"a": 1, "b": ["x"]}


def test_a_missing_file_is_no_document(tmp_path: Path) -> None:
    assert StateStore(tmp_path / "none.json").load() is None


def test_the_file_is_private_and_no_temporary_is_left(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "secret.json")
    store.save({"refresh": "r"})
    store.save({"refresh": "s"})

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.json"]


def test_a_corrupt_file_is_kept_aside_and_reported(
    tmp_path: Path, caplog: object
) -> None:
    path = tmp_path / "link.json"
    path.write_text('{"refresh_token": "abc", ')
    store = StateStore(path)

    assert store.load() is None
    assert store.quarantined is not None
    assert store.quarantined.read_text() == '{"refresh_token": "abc", '
    assert not path.exists()
    assert "kept aside" in caplog.text  # type: ignore[attr-defined]


def test_a_document_that_is_not_an_object_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "link.json"
    path.write_text("[1, 2]")
    store = StateStore(path)

    assert store.load() is None
    assert store.quarantined is not None


def test_binary_garbage_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "link.json"
    path.write_bytes(b"\xff\xfe\x00garbage")

    assert StateStore(path).load() is None
    assert list(tmp_path.glob("link.json.corrupt-*"))
