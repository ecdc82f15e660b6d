import json
import stat
import threading
from pathlib import Path

import pytest

from cloud.store import CloudStore, StateError

ACME = "63d797da-b7b3-4883-9d49-e830bb7d7be6"
GLOBEX = "28e6e451-8ac3-4088-ad5f-2f9c26957ff2"
USER = "f79535ac-6e7e-4b8d-a297-b5e1085e660a"


def _details(
    installation_id: str = "5b3c1a56-0bd4-4c53-9d3f-3b1f0c0f9e7a",
) -> dict[str, str]:
    return {
        "installation_id": installation_id,
        "name": "MX-ONE lab",
        "platform": "MiVoice MX-ONE",
        "hostname": "mx1.lab.example",
        "daemon_version": "0.1.0",
    }


def test_sessions_and_systems_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cloud.json"
    store = CloudStore(path)
    session, refresh_token = store.open_session(USER, ACME, "password")
    system, created = store.link_system(ACME, _details(), USER, "a@x", session.sid)

    again = CloudStore(path)

    assert created
    assert again.session_secret == store.session_secret
    assert again.session_of(refresh_token) == session
    assert again.systems(ACME) == [system]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert refresh_token not in path.read_text()


def test_revoking(tmp_path: Path) -> None:
    store = CloudStore(tmp_path / "cloud.json")
    session, refresh_token = store.open_session(USER, ACME, "password")
    other, other_token = store.open_session(USER, ACME, "password")

    assert store.revoke_refresh_token(refresh_token)
    assert not store.revoke_refresh_token(refresh_token)
    assert store.session_of(refresh_token) is None
    assert not store.is_live(session.sid)
    assert store.session_of(other_token) == other
    assert store.revoke_session(other.sid)
    assert not CloudStore(tmp_path / "cloud.json").is_live(other.sid)


def test_linking_again_is_idempotent(tmp_path: Path) -> None:
    store = CloudStore(tmp_path / "cloud.json")
    first, created = store.link_system(ACME, _details(), USER, "a@x", "s1")
    same, created_again = store.link_system(ACME, _details(), USER, "a@x", "s1")
    relinked, _ = store.link_system(ACME, _details(), "u2", "b@x", "s2")

    assert created
    assert not created_again
    assert same == first
    assert relinked.system_id == first.system_id
    assert relinked.created_on == first.created_on
    assert (relinked.linked_by, relinked.sid) == ("u2", "s2")


def test_systems_are_kept_per_account(tmp_path: Path) -> None:
    store = CloudStore(tmp_path / "cloud.json")
    acme, _ = store.link_system(ACME, _details(), USER, "a@x", "s1")
    globex, _ = store.link_system(GLOBEX, _details(), USER, "a@x", "s1")

    assert acme.system_id != globex.system_id
    assert store.system(GLOBEX, acme.system_id) is None
    assert not store.unlink_system(GLOBEX, acme.system_id)
    assert store.unlink_system(ACME, acme.system_id.upper())
    assert store.systems(ACME) == []
    assert store.systems(GLOBEX) == [globex]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"version": 9}, "version"),
        ({"sessionSecret": 5}, "sessionSecret"),
        ({"sessions": {}}, "sessions is not a list"),
        ({"systems": ["x"]}, r"systems\[0\] is not an object"),
        ({"sessions": [{"sid": "s"}]}, "tokenHash"),
    ],
)
def test_a_state_file_it_cannot_use(
    tmp_path: Path, document: dict[str, object], problem: str
) -> None:
    path = tmp_path / "cloud.json"
    path.write_text(json.dumps(document))

    with pytest.raises(StateError, match=problem):
        CloudStore(path)


def test_concurrent_links_of_one_installation_make_one_system(tmp_path: Path) -> None:
    store = CloudStore(tmp_path / "cloud.json")
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def link() -> None:
        barrier.wait()
        results.append(store.link_system(ACME, _details(), USER, "a@x", "s1")[1])

    threads = [threading.Thread(target=link) for _ in range(8)]

    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert len(CloudStore(tmp_path / "cloud.json").systems(ACME)) == 1
