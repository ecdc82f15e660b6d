"""The session key file."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from services.common.config import Config
from services.ui import sessions
from services.ui.app import create_app


def test_the_key_is_created_once_readable_by_the_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "ui"

    key = sessions.secret_key(state)

    path = state / sessions.SECRET_FILE
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert sessions.secret_key(state) == key
    assert [p.name for p in state.iterdir()] == [sessions.SECRET_FILE]


def test_concurrent_creators_agree_on_one_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        keys.append(sessions.secret_key(tmp_path))

    threads = [threading.Thread(target=create) for _ in range(8)]

    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()

    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [sessions.SECRET_FILE]


def test_an_unreadable_key_is_replaced(tmp_path: Path) -> None:
    (tmp_path / sessions.SECRET_FILE).write_text("not hex")

    key = sessions.secret_key(tmp_path)

    assert len(key) == 32
    assert sessions.secret_key(tmp_path) == key


def test_apps_of_one_state_folder_share_the_key(config: Config) -> None:
    first = create_app(config)
    second = create_app(config)

    assert first.secret_key == second.secret_key
    assert first.secret_key == sessions.secret_key(config.service_state_dir("ui"))
