"""The maintenance menu's actions, carried out on every server chosen.

Servers are worked on side by side, each on its own: a failure on one is
reported with its reason, the others go on, and a server whose enabling
fails has its containers deleted again rather than left half-started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maintenance import layout, link
from maintenance.engine import Engine, EngineError
from maintenance.link import Credentials, LinkError
from maintenance.servers import Deployment, Server

log = logging.getLogger(__name__)

# Called with a server's name and a line about what is being done there.
Progress = Callable[[str, str], None]

HEALTH_TIMEOUT = 90.0


@dataclass
class Outcome:
    """What one action did on one server."""

    server: str
    ok: bool
    done: list[str] = field(default_factory=list)
    error: str = ""
    linked: bool | None = None
    account_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The outcome for --json output."""

        return asdict(self)


EngineFactory = Callable[[Server], Engine]


class Actions:
    """Enable, disable, install, uninstall and status over a deployment."""

    def __init__(
        self,
        deployment: Deployment,
        progress: Progress,
        engine_for: EngineFactory = Engine,
        health_timeout: float = HEALTH_TIMEOUT,
    ) -> None:
        self.deployment = deployment
        self.progress = progress
        self.engine_for = engine_for
        self.health_timeout = health_timeout

    def enable(self, servers: tuple[Server, ...]) -> list[Outcome]:
        """Creates and starts the daemon's containers on each server."""

        return self._each(servers, self._enable)

    def disable(self, servers: tuple[Server, ...]) -> list[Outcome]:
        """Deletes the daemon's containers on each server; its state is kept."""

        return self._each(servers, self._disable)

    def uninstall(self) -> list[Outcome]:
        """Deletes containers, volumes and images from every server."""

        return self._each(self.deployment.servers, self._uninstall)

    def install(self, credentials: Credentials) -> list[Outcome]:
        """Enables every server and links each to the CloudLink account."""

        def install_one(server: Server, engine: Engine, outcome: Outcome) -> None:
            self._enable(server, engine, outcome)
            self.progress(server.name, "linking to CloudLink")
            state = link.link(engine, credentials)
            outcome.linked = state.linked
            outcome.account_name = state.account_name
            outcome.done.append("linked" if state.changed else "already linked")

        return self._each(self.deployment.servers, install_one)

    def status(self, servers: tuple[Server, ...]) -> list[dict[str, Any]]:
        """Per server: reachable, enabled, containers and health, version, link."""

        def one(server: Server) -> dict[str, Any]:
            report: dict[str, Any] = {"server": server.name, "url": server.url}

            try:
                engine = self.engine_for(server)
            except EngineError as exc:
                return {**report, "reachable": False, "error": str(exc)}

            try:
                report["engine_version"] = engine.version()
                report["reachable"] = True
                states = engine.containers()
                names = {s.component for s in states}
                running = {s.component for s in states if s.state == "running"}
                report["enabled"] = running == set(layout.COMPONENTS)
                report["version"] = ", ".join(sorted({s.version for s in states}))
                report["containers"] = [asdict(s) for s in states]
                report["partial"] = bool(names) and names != set(layout.COMPONENTS)

                if "registration" in running:
                    report["link"] = asdict(link.current(engine))
            except EngineError as exc:
                report.setdefault("reachable", False)
                report["error"] = str(exc)
            except LinkError as exc:
                report["link"] = {"linked": None, "error": str(exc)}
            finally:
                engine.close()

            return report

        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            return list(pool.map(one, servers))

    def _each(
        self,
        servers: tuple[Server, ...],
        action: Callable[[Server, Engine, Outcome], None],
    ) -> list[Outcome]:
        def one(server: Server) -> Outcome:
            outcome = Outcome(server=server.name, ok=False)

            try:
                engine = self.engine_for(server)
            except EngineError as exc:
                outcome.error = str(exc)
                self.progress(server.name, f"failed: {exc}")
                return outcome

            try:
                action(server, engine, outcome)
                outcome.ok = True
                self.progress(server.name, "done")
            except (EngineError, LinkError) as exc:
                outcome.error = str(exc)
                self.progress(server.name, f"failed: {exc}")
            except Exception as exc:
                # One server's surprise must not stop the report of the others.
                log.exception("Unexpected failure on %s", server.name)
                outcome.error = f"unexpected failure: {exc!r}"
            finally:
                engine.close()

            return outcome

        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            return list(pool.map(one, servers))

    def _enable(self, server: Server, engine: Engine, outcome: Outcome) -> None:
        say = self._say(server)
        engine.version()
        self._ensure_images(engine, say)
        engine.ensure_volumes()
        specs = layout.containers(
            self.deployment.version,
            self.deployment.settings(server),
            server.host_root,
            server.socket_path,
        )

        try:
            for spec in specs:
                done = engine.apply(spec)
                say(f"{spec.name} {done}")
                outcome.done.append(f"{spec.name} {done}")

            say("waiting for the containers to be healthy")
            engine.wait_healthy([s.name for s in specs], self.health_timeout, say)
        except EngineError as exc:
            say("deleting the containers again")

            try:
                engine.remove_containers(say)
            except EngineError as cleanup:
                raise EngineError(
                    f"{exc}; deleting them failed too: {cleanup}"
                ) from None

            raise EngineError(f"{exc}; its containers were deleted") from None

    def _ensure_images(self, engine: Engine, say: Callable[[str], None]) -> None:
        missing = engine.missing_images(self.deployment.version)

        if not missing:
            return

        archive = self.deployment.images_archive

        if not archive:
            raise EngineError(
                f"images missing: {', '.join(missing)}; set [daemon] images_archive "
                "to a `podman save` archive holding them"
            )

        say(f"loading images from {archive}")
        engine.load_images(Path(archive))
        still = engine.missing_images(self.deployment.version)

        if still:
            raise EngineError(f"{archive} does not hold {', '.join(still)}")

    def _disable(self, server: Server, engine: Engine, outcome: Outcome) -> None:
        removed = engine.remove_containers(self._say(server))
        outcome.done.append(f"{removed} containers deleted")

    def _uninstall(self, server: Server, engine: Engine, outcome: Outcome) -> None:
        say = self._say(server)

        # The cloud is told the system goes away while its daemon still runs;
        # a server that cannot tell it is uninstalled all the same.
        try:
            if "registration" in engine.running():
                say("disconnecting from CloudLink")

                if link.unlink(engine):
                    outcome.done.append("unlinked")
        except LinkError as exc:
            say(f"could not disconnect from CloudLink: {exc}")

        outcome.done.append(f"{engine.remove_containers(say)} containers deleted")
        outcome.done.append(f"{engine.remove_volumes(say)} volumes deleted")
        outcome.done.append(f"{engine.remove_images(say)} images deleted")

    def _say(self, server: Server) -> Callable[[str], None]:
        return lambda line: self.progress(server.name, line)
