"""Container updates on real podman, on one stand-in server for the module.

The daemon is installed once by the maintenance tool; releases go through
the emulator's update channel, and a failing switch is also driven
directly, with no trial before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.updater.container_mode import ContainerInstaller
from services.updater.installer import RolledBackError
from services.updater.manifest import Artifact, Release
from services.updater.versions import ReleaseVersion
from tests.e2e.containers.conftest import SERVICES, VERSION
from tests.e2e.containers.podman import ApiService, Store
from tests.e2e.containers.smoke import wait_healthy
from tests.e2e.containers.updates import (
    broken_ui,
    images_running,
    install,
    linked,
    outcome_for,
    release,
    runtime,
    signing_key,
    update_now,
)
from tests.support.processes import Cloud

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@dataclass
class Server:
    """The stand-in server with the daemon installed, and the emulator."""

    api: ApiService
    cloud: Cloud
    folder: Path
    host_root: Path


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, images_archive: Path
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("update")
    cloud = Cloud(folder / "cloud")
    api = ApiService(Store(folder / "alpha"))

    try:
        cloud.start()
        api.start()
        host_root = install(folder, images_archive, cloud, api)
        yield Server(api, cloud, folder, host_root)
    finally:
        api.stop()
        api.store.reset()
        cloud.stop()


def test_an_update_replaces_every_container_and_a_failing_one_is_rolled_back(
    server: Server, image_store: Store
) -> None:
    alpha, cloud = server.api, server.cloud
    key = signing_key(server.folder, server.host_root)

    with runtime(alpha) as run:
        # Version 0.2.0: every service's container is replaced and healthy,
        # the broker is left alone, and the system stays linked.
        v2 = release(image_store, cloud, key, VERSION, "0.2.0", "2")
        update_now(run)
        status = outcome_for(run, "0.2.0", 240)

        assert status.history[0].outcome == "updated", status
        assert status.installed_version == "0.2.0"
        assert status.last_error == ""

        wait_healthy(alpha.store, 60)
        tag = v2.replace("+", "_")
        assert images_running(alpha.store) == {
            "cld-mosquitto": f"localhost/cld-mosquitto:{VERSION}",
            **{f"cld-{s}": f"localhost/cld-{s}:{tag}" for s in SERVICES},
        }
        assert linked(run)

        # Version 0.3.0's dashboard fails its health check: nothing is
        # switched to it, and the updater says why.
        broken_ui(image_store, tag, "0.3.0-broken")
        v3 = release(image_store, cloud, key, "0.3.0-broken", "0.3.0", "3")
        update_now(run)
        status = outcome_for(run, "0.3.0", 240)

        assert status.history[0].outcome == "rolled back", status
        assert "ui failed its health check" in status.last_error
        assert "the dashboard is broken" in status.last_error
        assert status.installed_version == "0.2.0"

        wait_healthy(alpha.store, 60)
        assert images_running(alpha.store) == {
            "cld-mosquitto": f"localhost/cld-mosquitto:{VERSION}",
            **{f"cld-{s}": f"localhost/cld-{s}:{tag}" for s in SERVICES},
        }
        assert not [i for i in alpha.store.images() if v3.replace("+", "_") in i]
        assert linked(run)


def test_a_container_failing_after_the_switch_puts_back_every_one_replaced(
    server: Server,
) -> None:
    alpha = server.api
    before = images_running(alpha.store)
    live_tag = before["cld-ui"].rsplit(":", 1)[1]

    # Past the trial: the dashboard's new container fails its health check
    # only once it has replaced the live one, after three others were.
    broken_ui(alpha.store, live_tag, "9.9.9_9")
    stopped: list[bool] = []
    installer = ContainerInstaller(
        alpha.url, SERVICES, 60, stop_service=lambda: stopped.append(True)
    )
    release = Release(
        version=ReleaseVersion("9.9.9", "9"),
        commit="",
        channel="stable",
        published="",
        artifacts=(Artifact("images.tar", 1, "0" * 64, "http://cloud/", "images"),),
    )

    with pytest.raises(RolledBackError) as failed:
        installer.switch(release)

    assert "ui on the new version: ui failed its health check" in str(failed.value)
    assert "the dashboard is broken" in str(failed.value)
    assert "registration, inventory, tunnel, ui put back" in str(failed.value)

    # The updater was never reached: it keeps serving, nothing to hand over.
    assert not stopped
    assert installer.handover is None

    wait_healthy(alpha.store, 60)
    assert images_running(alpha.store) == before

    with runtime(alpha) as run:
        assert linked(run)

    installer.discard("9.9.9+9")
    assert not [i for i in alpha.store.images() if "9.9.9_9" in i]
