"""Container mode's decisions, apart from the Podman API that carries them out.

Which containers a release replaces and in what order, the names they pass
through while being replaced, how a release's images are tagged, and the
create call that remakes a container with a new image: all worked out from
inspect data alone, so they are tested without an engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.containers import LABEL
from services.common.topics import SERVICES

# A container being replaced passes through these names: the new one is
# made beside the live one, the live one is kept stopped until the release
# is confirmed, and a trial runs apart from both.
NEXT = ".next"
OLD = ".old"
TRIAL = ".trial"
SUFFIXES = (NEXT, OLD, TRIAL)

# Trial containers carry the daemon's label with this value, so the host's
# maintenance tool still removes any a crash left behind.
TRIAL_COMPONENT = "trial"

# Set by the engine in every container, not by whoever made it.
_ENGINE_ENV = frozenset({"container", "HOSTNAME", "HOME", "TERM"})

_RELEASE_TAG = re.compile(r"(\d[0-9.]*)_(\d{1,20})")


@dataclass(frozen=True)
class LiveContainer:
    """One of the daemon's running containers, as inspect data describes it."""

    id: str
    name: str
    component: str
    image: str
    attrs: Mapping[str, Any]


def release_tag(release_id: str) -> str:
    """The image tag of a release: ``0.2.0+17`` is ``0.2.0_17`` (no ``+`` in tags)."""

    return release_id.replace("+", "_")


def release_of_image(image: str) -> str:
    """The release id an image's tag names; empty for any other tag."""

    found = _RELEASE_TAG.fullmatch(image.rpartition(":")[2])
    return f"{found.group(1)}+{found.group(2)}" if found else ""


def with_tag(image: str, tag: str) -> str:
    """``image`` with its tag replaced by ``tag``."""

    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repository}:{tag}"


def is_live(name: str) -> bool:
    """False for the names a container has only while being replaced or tried."""

    return not name.endswith(SUFFIXES)


def live_containers(
    listed: Iterable[Mapping[str, Any]], services: Sequence[str]
) -> list[LiveContainer]:
    """The live containers of ``services``, from inspect data, updater last.

    Raises ValueError when a service has no container or more than one, as
    a release cannot then be applied safely.
    """

    found: dict[str, list[LiveContainer]] = {s: [] for s in services}

    for attrs in listed:
        name = str(attrs.get("Name", "")).lstrip("/")
        config = attrs.get("Config") or {}
        component = (config.get("Labels") or {}).get(LABEL, "")

        if component in found and is_live(name):
            found[component].append(
                LiveContainer(
                    id=str(attrs.get("Id", "")),
                    name=name,
                    component=component,
                    image=str(attrs.get("ImageName") or config.get("Image", "")),
                    attrs=attrs,
                )
            )

    missing = [s for s, c in found.items() if not c]
    twice = [s for s, c in found.items() if len(c) > 1]

    if missing:
        raise ValueError(f"no container runs {', '.join(missing)}")

    if twice:
        raise ValueError(f"more than one container runs {', '.join(twice)}")

    return [found[s][0] for s in recreation_order(services)]


def recreation_order(services: Iterable[str]) -> list[str]:
    """The order containers are replaced in: the daemon's order, updater last.

    The updater replaces its own container once every other one is healthy
    on the new version, since it cannot watch anything after that.
    """

    rank = {name: i for i, name in enumerate(SERVICES)}
    ordered = sorted(set(services), key=lambda s: rank.get(s, len(rank)))
    return [s for s in ordered if s != "updater"] + (
        ["updater"] if "updater" in services else []
    )


def own_environment(container: Sequence[str], image: Sequence[str]) -> dict[str, str]:
    """The variables the container's maker set: not the image's, not the engine's.

    A recreated container gets these, and the new image its own defaults.
    """

    defaults = set(image)
    own: dict[str, str] = {}

    for entry in container:
        key, _, value = entry.partition("=")

        if entry not in defaults and key not in _ENGINE_ENV:
            own[key] = value

    return own


def own_labels(
    container: Mapping[str, str], image: Mapping[str, str]
) -> dict[str, str]:
    """The labels the container's maker set, not those it took from its image."""

    return {k: v for k, v in container.items() if image.get(k) != v}


def health_verdict(status: str, exit_code: int, health: str, output: str) -> str | None:
    """None while a container comes up; empty once healthy; else what went wrong.

    ``status`` is the engine's word for the container's state and ``health``
    the health it records (``starting`` until the check passes or fails past
    its start period and retries; ``none`` when the image has no check, and
    running is then enough).
    """

    if status in {"exited", "stopped", "dead"}:
        return f"exited with code {exit_code}"

    if status == "running" and health in {"healthy", "none"}:
        return ""

    if health == "unhealthy":
        detail = output.strip()[-300:]
        return "failed its health check" + (f" ({detail})" if detail else "")

    return None


def create_args(
    live: LiveContainer, old_image: Mapping[str, Any], image: str, name: str
) -> dict[str, Any]:
    """The create call that remakes ``live`` as ``name`` from ``image``.

    Same volumes, binds, network, settings, labels and restrictions; what
    the old image supplied (environment, labels, command, user, health
    check) comes from the new image instead. ``old_image`` is the ``Config``
    of the image ``live`` was made from.

    A command, user or health check set on the container itself, and
    networks other than the host's or none, are not carried over: the
    maintenance tool and the compose file set none of them.
    """

    config = live.attrs.get("Config") or {}
    host = live.attrs.get("HostConfig") or {}
    restart = host.get("RestartPolicy") or {}
    volumes, mounts = _storage(live.attrs)
    args: dict[str, Any] = {
        "image": image,
        "name": name,
        "environment": own_environment(
            config.get("Env") or [], old_image.get("Env") or []
        ),
        "labels": own_labels(config.get("Labels") or {}, old_image.get("Labels") or {}),
        "volumes": volumes,
        "mounts": mounts,
        "network_mode": host.get("NetworkMode") or "host",
        "read_only": bool(host.get("ReadonlyRootfs")),
        "cap_drop": list(host.get("CapDrop") or []),
        "cap_add": list(host.get("CapAdd") or []),
        # Not in podman 4's inspect data; every container of the daemon is
        # made with it, and a recreated one must not be looser.
        "no_new_privileges": True,
        "group_add": list(host.get("GroupAdd") or []),
    }

    if restart.get("Name"):
        args["restart_policy"] = {
            "Name": restart["Name"],
            "MaximumRetryCount": int(restart.get("MaximumRetryCount") or 0),
        }

    return args


def trial_args(
    live: LiveContainer, old_image: Mapping[str, Any], image: str, name: str
) -> dict[str, Any]:
    """The create call for a trial of ``image`` apart from the live ``live``.

    No network but its own loopback, so its ports clash with nothing and it
    reaches neither the broker nor the cloud; scratch folders where the live
    one has volumes, so no state or socket is touched; only the read-only
    binds (the host's root), never the Podman socket.
    """

    args = create_args(live, old_image, image, name)
    scratch = [
        {"type": "tmpfs", "source": "tmpfs", "target": bind["bind"], "chown": True}
        for source, bind in args["volumes"].items()
        if not source.startswith("/")
    ]
    read_only_binds = {
        source: bind
        for source, bind in args["volumes"].items()
        if source.startswith("/") and bind["mode"] == "ro"
    }
    environment = {
        **args["environment"],
        "CLD_CLOUD_URL": "http://127.0.0.1:9",
        "CLD_UPDATER_PODMAN_URL": "",
        **{f"CLD_{s.upper()}_METRICS_PORT": "0" for s in SERVICES},
    }
    args.pop("restart_policy", None)
    args.update(
        {
            "environment": environment,
            "labels": {LABEL: TRIAL_COMPONENT},
            "volumes": read_only_binds,
            "mounts": [*args["mounts"], *scratch],
            "network_mode": "none",
            "group_add": [],
        }
    )
    return args


def _storage(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Volumes and binds (a bind's key is its path), and the tmpfs mounts."""

    volumes: dict[str, Any] = {}

    for mount in attrs.get("Mounts") or []:
        mode = "rw" if mount.get("RW") else "ro"
        key = {"volume": "Name", "bind": "Source"}.get(str(mount.get("Type")))

        if key:
            volumes[str(mount[key])] = {"bind": mount["Destination"], "mode": mode}

    host = attrs.get("HostConfig") or {}
    mounts = [
        {"type": "tmpfs", "source": "tmpfs", "target": target, **_tmpfs_size(options)}
        for target, options in (host.get("Tmpfs") or {}).items()
    ]
    return volumes, mounts


def _tmpfs_size(options: str) -> dict[str, str]:
    for option in options.split(","):
        if option.startswith("size="):
            return {"size": option.removeprefix("size=")}

    return {}
