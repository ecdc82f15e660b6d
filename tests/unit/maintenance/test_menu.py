"""The interactive menu, driven with typed answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from maintenance.actions import Actions
from maintenance.engine import Engine, EngineError
from maintenance.menu import Menu, SelectionError, Terminal, parse_selection
from maintenance.servers import Server, parse

DEPLOYMENT = parse(
    {
        "daemon": {"version": "1"},
        "server": [
            {"name": "mx1", "url": "unix:///nowhere/1.sock"},
            {"name": "mx2", "url": "unix:///nowhere/2.sock"},
        ],
    }
)


def test_a_selection_is_numbers_separated_by_spaces_or_commas() -> None:
    assert parse_selection("2 1", 3) == [1, 0]
    assert parse_selection("1,1, 3", 3) == [0, 2]


@pytest.mark.parametrize(
    ("text", "message"), [("", "no server"), ("4", "'4'"), ("x", "'x'")]
)
def test_a_bad_selection_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message):
        parse_selection(text, 3)


class Script:
    """A terminal that answers from a list and records every line."""

    def __init__(self, answers: list[str]) -> None:
        self.answers: Iterator[str] = iter(answers)
        self.lines: list[str] = []
        self.secrets_asked = 0

    def ask(self, prompt: str) -> str:
        return next(self.answers)

    def ask_secret(self, prompt: str) -> str:
        self.secrets_asked += 1
        return next(self.answers)

    def terminal(self) -> Terminal:
        return Terminal(ask=self.ask, ask_secret=self.ask_secret, say=self.lines.append)


def unreachable(server: Server) -> Engine:
    raise EngineError(f"{server.name}: cannot be reached")


def menu(script: Script) -> Menu:
    actions = Actions(DEPLOYMENT, lambda server, line: None, engine_for=unreachable)
    return Menu(DEPLOYMENT, actions, script.terminal())


def test_the_main_menu_mirrors_the_mx_one_one() -> None:
    script = Script(["0"])

    assert menu(script).run() == 0
    assert "  1. Install Cloud Link Daemon (CLD) in system" in script.lines
    assert "  2. Advanced maintenance" in script.lines


def test_disabling_selected_servers_reports_each_chosen_one() -> None:
    script = Script(["2", "4", "2", "0", "0"])

    menu(script).run()

    assert "  4. Disable CLD in selected servers" in script.lines
    assert "mx2: FAILED: mx2: cannot be reached" in script.lines
    assert not any(line.startswith("mx1:") for line in script.lines)


def test_install_asks_the_password_without_echo() -> None:
    script = Script(["1", "admin@acme.example", "secret-password", "", "0"])

    menu(script).run()

    assert script.secrets_asked == 1
    assert "mx1: FAILED: mx1: cannot be reached" in script.lines
    assert not any("secret-password" in line for line in script.lines)


def test_uninstall_needs_a_typed_yes() -> None:
    script = Script(["2", "5", "no", "0", "0"])

    menu(script).run()

    assert not any("FAILED" in line for line in script.lines)
