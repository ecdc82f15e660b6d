"""Desired tunnel states: off by default, kept across restarts, published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.common.profiles import TunnelSpec
from services.common.state import StateStore
from services.tunnel.board import Board, UnknownTunnelError
from services.tunnel.catalog import build_catalog

CATALOG = build_catalog(
    [
        TunnelSpec("pbx", "admin", "https://127.0.0.1:443", "Admin"),
        TunnelSpec("pbx", "api", "http://127.0.0.1:8080", "API"),
    ]
)


class Published(list[tuple[str, dict[str, Any]]]):
    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        self.append((topic, payload))


def board(path: Path, published: Published | None = None) -> Board:
    return Board(
        CATALOG,
        StateStore(path / "tunnels.json"),
        published if published is not None else Published(),
    )


def test_everything_is_off_by_default(tmp_path: Path) -> None:
    published = Published()
    fresh = board(tmp_path, published)
    fresh.announce()

    assert fresh.desired() == frozenset()
    assert {v.state for v in fresh.views()} == {"stopped"}
    assert published == [
        (
            "cld/tunnel/tunnels/pbx/admin",
            {"component": "pbx", "name": "admin", "state": "stopped", "reason": ""},
        ),
        (
            "cld/tunnel/tunnels/pbx/api",
            {"component": "pbx", "name": "api", "state": "stopped", "reason": ""},
        ),
    ]


def test_started_tunnels_stay_started_after_a_restart(tmp_path: Path) -> None:
    first = board(tmp_path)
    first.start(("pbx", "admin"))

    again = board(tmp_path)

    assert again.desired() == {("pbx", "admin")}
    assert again.view(("pbx", "admin")).state == "starting"
    assert again.view(("pbx", "api")).state == "stopped"


def test_start_all_and_stop_all(tmp_path: Path) -> None:
    changes: list[int] = []
    tunnels = board(tmp_path)
    tunnels.on_change = lambda: changes.append(1)

    tunnels.start_all()
    assert tunnels.desired() == {("pbx", "admin"), ("pbx", "api")}

    tunnels.stop_all()
    assert board(tmp_path).desired() == frozenset()
    assert len(changes) == 2


def test_an_unknown_tunnel_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnknownTunnelError) as error:
        board(tmp_path).start(("pbx", "ssh"))

    assert str(error.value) == "This system offers no tunnel pbx/ssh."


def test_a_stopped_tunnel_ignores_late_state_news(tmp_path: Path) -> None:
    tunnels = board(tmp_path)
    tunnels.start(("pbx", "admin"))
    tunnels.stop(("pbx", "admin"))

    tunnels.mark(frozenset({("pbx", "admin")}), "started")

    assert tunnels.view(("pbx", "admin")).state == "stopped"


def test_idle_tunnels_are_found(tmp_path: Path) -> None:
    now = [0.0]
    tunnels = Board(
        CATALOG, StateStore(tmp_path / "t.json"), Published(), lambda: now[0]
    )
    tunnels.start(("pbx", "admin"))
    tunnels.stream_opened(("pbx", "admin"))
    now[0] = 100.0

    assert tunnels.idle(50) == []

    tunnels.stream_closed(("pbx", "admin"))
    now[0] = 200.0

    assert tunnels.idle(50) == [("pbx", "admin")]


def test_a_new_list_adds_stopped_tunnels_drops_gone_ones_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    published = Published()
    tunnels = board(tmp_path, published)
    tunnels.start(("pbx", "admin"))
    tunnels.start(("pbx", "api"))
    tunnels.mark(frozenset({("pbx", "admin")}), "started")
    changes: list[int] = []
    tunnels.on_change = lambda: changes.append(tunnels.version)
    published.clear()
    wider = build_catalog(
        [
            TunnelSpec("pbx", "admin", "https://127.0.0.1:443", "Admin"),
            TunnelSpec("vmail", "web", "http://127.0.0.1:8081", "Voice mail"),
        ]
    )

    removed = tunnels.follow(wider)

    assert removed == {("pbx", "api")}
    assert changes == [1]
    assert tunnels.desired() == {("pbx", "admin")}
    assert [(v.tunnel.key, v.state) for v in tunnels.views()] == [
        (("pbx", "admin"), "started"),
        (("vmail", "web"), "stopped"),
    ]
    assert published == [
        (
            "cld/tunnel/tunnels/pbx/api",
            {"component": "pbx", "name": "api", "removed": True},
        ),
        (
            "cld/tunnel/tunnels/vmail/web",
            {"component": "vmail", "name": "web", "state": "stopped", "reason": ""},
        ),
    ]
    assert board(tmp_path).desired() == {("pbx", "admin")}
