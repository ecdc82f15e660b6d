"""How long a container update takes, on real podman: ``make bench-update``.

One stand-in server (a podman API service with its own store) gets the
daemon from the maintenance tool, then version 0.2.0 through the emulator's
update channel. Prints one JSON object per measurement:

- ``install``: the maintenance tool's install, from nothing to every
  container healthy and linked (images loaded from an archive);
- ``release``: the release script making and publishing 0.2.0 over the
  current images;
- ``update``: from "Update now" to the updater reporting 0.2.0 confirmed,
  and to every container running 0.2.0 and healthy.

Image builds, the emulator and podman share the machine's cores with the
measurement; the figures are for one run, not a median.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.containers.conftest import SERVICES, VERSION
from tests.e2e.containers.podman import ApiService, Store, build_images
from tests.e2e.containers.smoke import unhealthy
from tests.e2e.containers.updates import (
    images_running,
    install,
    outcome_for,
    release,
    runtime,
    signing_key,
    update_now,
    updater_status,
)
from tests.support.processes import Cloud


def emit(measure: str, seconds: float, **extra: object) -> None:
    """Prints one measurement."""

    print(json.dumps({"measure": measure, "seconds": round(seconds, 1), **extra}))


def on_version(server: ApiService, tag: str) -> bool:
    """True when every service's container runs ``tag`` and all are healthy."""

    running = images_running(server.store)
    wanted = {f"cld-{s}": f"localhost/cld-{s}:{tag}" for s in SERVICES}
    return all(running.get(k) == v for k, v in wanted.items()) and not unhealthy(
        server.store
    )


def watch_steps(run: Path, started: float) -> dict[str, float]:
    """When each step of the update began, in seconds after ``started``.

    Watched until the updater stops answering, which it does while its own
    container is handed over: the last step.
    """

    steps: dict[str, float] = {}
    deadline = started + 600

    while time.monotonic() < deadline:
        status = updater_status(run)

        if status is None and "restarting services" in " ".join(steps):
            break

        if status is not None:
            step = f"{status.progress}: {status.progress_detail}".split(":", 2)
            name = ":".join(step[:2]).strip(": ")
            steps.setdefault(name, round(time.monotonic() - started, 1))

        time.sleep(0.2)

    steps["handover"] = round(time.monotonic() - started, 1)
    return steps


def main() -> int:
    """Builds, installs, updates once; prints the timings."""

    if os.geteuid() != 0:
        sys.stderr.write("the benchmark runs rootful podman and needs root\n")
        return 1

    with tempfile.TemporaryDirectory(prefix="cld-bench-update-") as tmp:
        folder = Path(tmp)
        build = Store(folder / "build")
        server = ApiService(Store(folder / "server"))
        cloud = Cloud(folder / "cloud")

        try:
            started = time.monotonic()
            build_images(build, ("mosquitto", *SERVICES))
            emit("images", time.monotonic() - started, what="build of 0.1.0")

            cloud.start()
            server.start()
            started = time.monotonic()
            archive = build.save(
                (f"localhost/cld-{n}:{VERSION}" for n in ("mosquitto", *SERVICES)),
                folder / "images.tar",
            )
            host_root = install(folder / "install", archive, cloud, server)
            emit("install", time.monotonic() - started, what="install to healthy")

            key = signing_key(folder, host_root)
            started = time.monotonic()
            v2 = release(build, cloud, key, VERSION, "0.2.0", "2")
            emit("release", time.monotonic() - started, what="make and publish")

            with runtime(server) as run:
                started = time.monotonic()
                update_now(run)
                steps = watch_steps(run, started)
                status = outcome_for(run, "0.2.0", 600)
                confirmed = time.monotonic() - started

                deadline = started + 600

                while not on_version(server, v2.replace("+", "_")):
                    if time.monotonic() > deadline:
                        raise SystemExit("the containers never all ran 0.2.0")

                    time.sleep(0.5)

                emit(
                    "update",
                    time.monotonic() - started,
                    confirmed_s=round(confirmed, 1),
                    steps_s=steps,
                    outcome=status.history[0].outcome,
                    what="update now to all healthy on 0.2.0",
                )
        finally:
            cloud.stop()
            server.stop()
            server.store.reset()
            build.reset()

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
