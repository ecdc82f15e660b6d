"""``python -m supervisor``: the whole daemon as local processes (``make run``)."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
from pathlib import Path

from supervisor import cli, plan
from supervisor.runner import Supervisor

SOURCE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    """Checks the options, then supervises until stopped; returns the exit status."""

    options = cli.parse_options()
    mosquitto = cli.find_mosquitto()
    problems = cli.problems(options, mosquitto)

    if problems:
        for problem in problems:
            sys.stderr.write(f"python -m supervisor: error: {problem}\n")

        return 2

    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
    )

    options.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    specs = plan.build(
        options,
        python=sys.executable,
        mosquitto=mosquitto or "mosquitto",
        source_dir=SOURCE_DIR,
    )
    supervisor = Supervisor(options, specs, os.environ)

    # Hang-up too: the children are in sessions of their own, so a closed
    # terminal would otherwise leave them running without their supervisor.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.on_signal)

    with (options.run_dir / "supervisor.lock").open("a") as lock:
        # Two supervisors on one run folder would fight over sockets and state.
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.stderr.write(
                "python -m supervisor: error: another supervisor uses "
                f"{options.run_dir}\n"
            )
            return 2

        return supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main())
