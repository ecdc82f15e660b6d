"""Idle memory and CPU of every process of the daemon in process mode.

Starts the supervisor in a temporary run folder on free ports, waits until
every child runs, lets the system settle, then reads each child's process
tree from /proc: resident memory (VmRSS, and the peak VmHWM) and the CPU
time spent over an idle window. Prints one JSON object per process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""

    children: dict[int, list[int]] = {}

    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue

        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue

        children.setdefault(int(fields[1]), []).append(int(entry.name))

    found, todo = [], [pid]

    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))

    return found


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])

    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split between their users."""

    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])

    return 0


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_running(status_file: Path, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout

    while time.monotonic() < deadline:
        try:
            status = json.loads(status_file.read_text())
        except (OSError, ValueError):
            status = {}

        children = status.get("children", [])

        if children and all(c["state"] == "running" for c in children):
            return status

        time.sleep(0.5)

    raise SystemExit(f"not every child was running after {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cld-footprint-") as tmp:
        run_dir = Path(tmp) / "run"
        command = [
            sys.executable,
            "-m",
            "supervisor",
            "--run-dir",
            str(run_dir),
            "--ui-port",
            str(free_port()),
            "--cloud-port",
            str(free_port()),
            "--mqtt-port",
            str(free_port()),
            "--relay-port",
            str(free_port()),
            "--relay-public-port",
            str(free_port()),
            "--metrics-port-base",
            "0",
        ]
        supervisor = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        try:
            status = wait_running(run_dir / "supervisor.json", 60)
            time.sleep(args.settle)
            pids = {str(c["name"]): int(c["pid"]) for c in status["children"]}
            before = {
                name: sum(map(cpu_ticks, tree(pid))) for name, pid in pids.items()
            }
            time.sleep(args.window)

            for name, pid in pids.items():
                processes = tree(pid)
                ticks = sum(map(cpu_ticks, processes)) - before[name]
                record = {
                    "measure": "idle_footprint",
                    "process": name,
                    "processes": len(processes),
                    "rss_mb": round(
                        sum(status_kb(p, "VmRSS") for p in processes) / 1024, 1
                    ),
                    "pss_mb": round(sum(map(pss_kb, processes)) / 1024, 1),
                    "peak_rss_mb": round(
                        sum(status_kb(p, "VmHWM") for p in processes) / 1024, 1
                    ),
                    "cpu_percent": round(100 * ticks / CLOCK_TICKS / args.window, 2),
                    "window_s": args.window,
                }
                sys.stdout.write(json.dumps(record) + "\n")
        finally:
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(30)


if __name__ == "__main__":
    main()
