"""The interactive menu, laid out like the MX-ONE maintenance menu."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass

from maintenance import report
from maintenance.actions import Actions, Outcome
from maintenance.diagnose import run_checks
from maintenance.link import Credentials
from maintenance.servers import Deployment, Server

MAIN = (
    ("1", "Install Cloud Link Daemon (CLD) in system"),
    ("2", "Advanced maintenance"),
    ("3", "Status of CLD in all servers"),
    ("4", "Diagnose the connection to CloudLink"),
    ("0", "Exit"),
)

ADVANCED = (
    ("1", "Enable CLD in all servers"),
    ("2", "Enable CLD in selected servers"),
    ("3", "Disable CLD in all servers"),
    ("4", "Disable CLD in selected servers"),
    ("5", "Uninstall CLD from the entire system"),
    ("0", "Back"),
)


class SelectionError(ValueError):
    """The typed server selection cannot be understood."""


def parse_selection(text: str, count: int) -> list[int]:
    """The 1-based numbers typed, e.g. ``1 3`` or ``1,2``, as 0-based indexes."""

    chosen: list[int] = []

    for word in text.replace(",", " ").split():
        if not word.isdigit() or not 1 <= int(word) <= count:
            raise SelectionError(f"{word!r} is not a server number from 1 to {count}")

        if int(word) - 1 not in chosen:
            chosen.append(int(word) - 1)

    if not chosen:
        raise SelectionError("no server was chosen")

    return chosen


def _write_line(line: str) -> None:
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


@dataclass
class Terminal:
    """Where the menu reads answers and writes lines; swapped in tests."""

    ask: Callable[[str], str] = input
    ask_secret: Callable[[str], str] = getpass.getpass
    say: Callable[[str], None] = _write_line


def ask_credentials(terminal: Terminal) -> Credentials | None:
    """The CloudLink sign-in, typed; None when the user gives none."""

    username = terminal.ask("CloudLink username (e-mail): ").strip()

    if not username:
        return None

    password = terminal.ask_secret("CloudLink password: ")
    account = terminal.ask("Account number (empty unless asked for): ").strip()
    return Credentials(username, password, account)


class Menu:
    """Shows the menus and runs what is chosen until Exit."""

    def __init__(self, deployment: Deployment, actions: Actions, terminal: Terminal):
        self.deployment = deployment
        self.actions = actions
        self.terminal = terminal

    def run(self) -> int:
        """Runs the main menu; returns the exit code."""

        while True:
            choice = self._choose("Cloud Link Daemon (CLD) maintenance", MAIN)

            if choice == "0":
                return 0

            if choice == "1":
                self._install()
            elif choice == "2":
                self._advanced()
            elif choice == "3":
                servers = self.deployment.servers
                self._lines(report.status_lines(self.actions.status(servers)))
            elif choice == "4":
                env = self.deployment.settings(self.deployment.servers[0])
                self._lines(report.findings_lines(run_checks(env)))

    def _advanced(self) -> None:
        while True:
            choice = self._choose("Advanced maintenance", ADVANCED)

            if choice == "0":
                return

            if choice == "1":
                self._outcomes(self.actions.enable(self.deployment.servers))
            elif choice == "2":
                self._on_selected(self.actions.enable)
            elif choice == "3":
                self._outcomes(self.actions.disable(self.deployment.servers))
            elif choice == "4":
                self._on_selected(self.actions.disable)
            elif choice == "5" and self._confirm(
                "This deletes CLD, its containers and its state on every server."
            ):
                self._outcomes(self.actions.uninstall())

    def _install(self) -> None:
        credentials = ask_credentials(self.terminal)

        if credentials is None:
            self.terminal.say("Nothing was installed.")
            return

        self._outcomes(self.actions.install(credentials))

    def _on_selected(
        self, action: Callable[[tuple[Server, ...]], list[Outcome]]
    ) -> None:
        servers = self.deployment.servers

        for number, server in enumerate(servers, 1):
            self.terminal.say(f"  {number}. {server.name} ({server.url})")

        answer = self.terminal.ask("Servers (numbers separated by spaces): ")

        try:
            chosen = parse_selection(answer, len(servers))
        except SelectionError as exc:
            self.terminal.say(f"Nothing was done: {exc}.")
            return

        self._outcomes(action(tuple(servers[i] for i in chosen)))

    def _confirm(self, warning: str) -> bool:
        self.terminal.say(warning)
        return self.terminal.ask("Type yes to go on: ").strip().lower() == "yes"

    def _choose(self, title: str, entries: tuple[tuple[str, str], ...]) -> str:
        keys = {key for key, _ in entries}

        while True:
            self.terminal.say("")
            self.terminal.say(title)

            for key, label in entries:
                self.terminal.say(f"  {key}. {label}")

            try:
                answer = self.terminal.ask("Choice: ").strip()
            except EOFError:
                return "0"

            if answer in keys:
                return answer

            self.terminal.say(f"{answer!r} is not one of the choices.")

    def _outcomes(self, outcomes: list[Outcome]) -> None:
        self._lines(report.outcome_lines(outcomes))

    def _lines(self, lines: list[str]) -> None:
        for line in lines:
            self.terminal.say(line)
