"""The command line, and the checks that must pass before anything starts."""

from __future__ import annotations

import argparse
import errno
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

from services.common.rpc import socket_path
from supervisor.plan import CHILDREN, SERVICES, Listener, Options, clashes, listeners

# sun_path is 108 bytes on Linux, the terminating NUL included.
_MAX_SOCKET_PATH = 107


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m supervisor``."""

    p = argparse.ArgumentParser(
        prog="python -m supervisor",
        description="Runs the broker, the CloudLink emulator and the five "
        "services as local processes, restarting any that exits.",
    )
    p.add_argument(
        "--run-dir",
        type=Path,
        default=Path(".run"),
        help="folder for state, sockets, logs and the broker's data "
        "(default: .run in the current folder)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the dashboard, the emulator and the metrics listen on "
        "(default: %(default)s); the broker stays on 127.0.0.1",
    )
    p.add_argument(
        "--ui-port",
        type=_port,
        default=8080,
        help="the dashboard's port (default: %(default)s)",
    )
    p.add_argument(
        "--cloud-port",
        type=_port,
        default=8800,
        help="the CloudLink emulator's port (default: %(default)s)",
    )
    p.add_argument(
        "--relay-port",
        type=_port,
        default=8801,
        help="the tunnel relay's port for daemons (default: %(default)s)",
    )
    p.add_argument(
        "--relay-public-port",
        type=_port,
        default=8802,
        help="the tunnel relay's port for visitors (default: %(default)s)",
    )
    p.add_argument(
        "--mqtt-port",
        type=_port,
        default=1883,
        help="the local MQTT broker's port (default: %(default)s)",
    )
    p.add_argument(
        "--metrics-port-base",
        type=_metrics_base,
        default=9461,
        help="/metrics ports are this plus 0 to 5 for "
        f"{', '.join(SERVICES)} and the relay; 0 turns metrics off "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--only",
        type=_names,
        default=CHILDREN,
        metavar="NAME,...",
        help="start only these (for tests), in the usual order; "
        f"from {','.join(CHILDREN)}",
    )
    return p


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """The options from ``argv``; exits with a usage message when they are bad."""

    args = parser().parse_args(argv)
    return Options(
        run_dir=args.run_dir.expanduser().resolve(),
        host=args.host,
        ui_port=args.ui_port,
        cloud_port=args.cloud_port,
        relay_port=args.relay_port,
        relay_public_port=args.relay_public_port,
        mqtt_port=args.mqtt_port,
        metrics_port_base=args.metrics_port_base,
        only=args.only,
    )


def problems(options: Options, mosquitto: str | None) -> list[str]:
    """Everything that would stop a child from starting, found before any does."""

    found = clashes(listeners(options))

    if not found:
        found = [
            problem
            for listener in listeners(options)
            if (problem := _cannot_listen(listener))
        ]

    if "mosquitto" in options.only and mosquitto is None:
        found.append("mosquitto is not installed (make system-deps installs it)")

    longest = socket_path(options.runtime_dir, "registration")

    if len(str(longest).encode()) > _MAX_SOCKET_PATH:
        found.append(
            f"--run-dir {options.run_dir} is too long for the services' Unix "
            f"sockets ({longest}); choose a shorter one"
        )

    return found


def find_mosquitto() -> str | None:
    """The broker's executable; Debian puts it in /usr/sbin, often not on PATH."""

    return shutil.which("mosquitto") or shutil.which(
        "mosquitto", path="/usr/sbin:/usr/local/sbin"
    )


def _cannot_listen(listener: Listener) -> str | None:
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    where = f"port {listener.port} on {listener.host} ({listener.what})"

    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            # As the children's servers do, so a closing connection of an
            # earlier run in TIME_WAIT does not count as the port being used.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((listener.host, listener.port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"{where} is already in use; stop what holds it or choose "
                f"another with {listener.option}"
            )

        return f"cannot listen on {where}: {exc.strerror} (see {listener.option})"

    return None


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None

    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 1 to 65535: {port}")

    return port


def _metrics_base(raw: str) -> int:
    if raw.strip() == "0":
        return 0

    base = _port(raw)
    last = base + len(SERVICES) - 1

    if last > 65535:
        raise argparse.ArgumentTypeError(f"{base} + {len(SERVICES) - 1} exceeds 65535")

    return base


def _names(raw: str) -> tuple[str, ...]:
    names = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(names - set(CHILDREN))

    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(unknown)}; choose from {','.join(CHILDREN)}"
        )

    if not names:
        raise argparse.ArgumentTypeError("names no child")

    return tuple(name for name in CHILDREN if name in names)
