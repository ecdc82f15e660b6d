"""The command line: the menu, or one action as a scriptable subcommand."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from maintenance import report, servers
from maintenance.actions import Actions, Outcome
from maintenance.diagnose import FAILED, run_checks
from maintenance.link import Credentials
from maintenance.menu import Menu, Terminal, ask_credentials
from maintenance.servers import Deployment, ServersError

log = logging.getLogger(__name__)

CONFIG_VARIABLE = "CLD_MAINTENANCE_CONFIG"


def parser() -> argparse.ArgumentParser:
    """The tool's arguments; no subcommand opens the menu."""

    top = argparse.ArgumentParser(
        prog="python -m maintenance",
        description="Install, enable, disable and check the CloudLink Daemon "
        "on this system's servers.",
    )
    top.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get(CONFIG_VARIABLE, servers.DEFAULT_FILE)),
        help=f"servers file (default ${CONFIG_VARIABLE} or {servers.DEFAULT_FILE})",
    )
    top.add_argument("--json", action="store_true", help="print results as JSON")

    # --json is taken after the subcommand too; SUPPRESS keeps a value given
    # before it from being reset.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="as JSON"
    )
    commands = top.add_subparsers(dest="command")

    commands.add_parser(
        "menu", parents=[common], help="the interactive menu (the default)"
    )

    install = commands.add_parser(
        "install",
        parents=[common],
        help="enable CLD on every server and link it to CloudLink",
    )
    install.add_argument("--username", help="CloudLink username; asked when absent")
    install.add_argument("--account-number", default="", help="when asked for")
    install.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of the terminal",
    )

    for name, verb in (("enable", "create and start"), ("disable", "delete")):
        command = commands.add_parser(
            name, parents=[common], help=f"{verb} CLD's containers"
        )
        group = command.add_mutually_exclusive_group(required=True)
        group.add_argument("--all", action="store_true", help="on every server")
        group.add_argument("servers", nargs="*", default=[], metavar="SERVER")

    uninstall = commands.add_parser(
        "uninstall",
        parents=[common],
        help="delete CLD, its state and its images from every server",
    )
    uninstall.add_argument("--yes", action="store_true", help="do not ask first")

    status = commands.add_parser(
        "status", parents=[common], help="per server: enabled, health, version"
    )
    status.add_argument("servers", nargs="*", metavar="SERVER")

    diagnose = commands.add_parser(
        "diagnose",
        parents=[common],
        help="check DNS, proxy, TLS, clock and relay, with advice",
    )
    diagnose.add_argument("--server", help="whose settings to use (default: the first)")
    return top


def main(argv: list[str] | None = None) -> int:
    """Runs the tool; 0 when everything asked for succeeded."""

    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    try:
        deployment = servers.load(args.config)
        return _run(args, deployment)
    except ServersError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130


def _run(args: argparse.Namespace, deployment: Deployment) -> int:
    actions = Actions(deployment, _progress)
    command = args.command or "menu"

    if command == "menu":
        return Menu(deployment, actions, Terminal()).run()

    if command == "status":
        reports = actions.status(deployment.select(args.servers))
        _emit(args.json, reports, report.status_lines(reports))
        return 0 if all(r.get("reachable") for r in reports) else 1

    if command == "diagnose":
        server = (
            deployment.server(args.server) if args.server else deployment.servers[0]
        )
        findings = run_checks(deployment.settings(server))
        _emit(
            args.json, [f.as_dict() for f in findings], report.findings_lines(findings)
        )
        return 1 if any(f.status == FAILED for f in findings) else 0

    if command == "install":
        credentials = _credentials(args)

        if credentials is None:
            sys.stderr.write("error: no CloudLink username was given\n")
            return 2

        return _outcomes(args.json, actions.install(credentials))

    if command in {"enable", "disable"}:
        chosen = deployment.servers if args.all else deployment.select(args.servers)
        action = actions.enable if command == "enable" else actions.disable
        return _outcomes(args.json, action(chosen))

    if command == "uninstall":
        if not args.yes and not _confirmed():
            sys.stderr.write("Nothing was uninstalled.\n")
            return 1

        return _outcomes(args.json, actions.uninstall())

    raise AssertionError(f"unhandled command {command}")


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if args.password_stdin:
        if not args.username:
            return None

        password = sys.stdin.readline().rstrip("\r\n")
        return Credentials(args.username, password, args.account_number)

    if args.username:
        terminal = Terminal()
        password = terminal.ask_secret("CloudLink password: ")
        return Credentials(args.username, password, args.account_number)

    return ask_credentials(Terminal())


def _confirmed() -> bool:
    sys.stderr.write(
        "This deletes CLD, its containers and its state on every server.\n"
    )
    sys.stderr.write("Type yes to go on: ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() == "yes"


_progress_lock = threading.Lock()


def _progress(server: str, line: str) -> None:
    # Progress goes to stderr, so --json output on stdout stays parseable.
    with _progress_lock:
        sys.stderr.write(f"[{server}] {line}\n")
        sys.stderr.flush()


def _outcomes(as_json: bool, outcomes: list[Outcome]) -> int:
    _emit(as_json, [o.as_dict() for o in outcomes], report.outcome_lines(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


def _emit(as_json: bool, document: list[Any], lines: list[str]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
