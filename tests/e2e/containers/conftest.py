"""Fixtures for the container tests: images built once per run, API servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.containers.podman import ApiService, Store, build_images, podman_problem
from tests.e2e.containers.smoke import local_interface

SERVICES = ("registration", "inventory", "updater", "tunnel", "ui")
DAEMON_IMAGES = ("mosquitto", *SERVICES)
VERSION = "0.1.0"


@pytest.fixture(scope="session")
def image_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store of this run holding every image, built once for the session."""

    problem = podman_problem()

    if problem:
        pytest.skip(problem)

    store = Store(tmp_path_factory.mktemp("podman") / "build")

    try:
        build_images(store, (*DAEMON_IMAGES, "cloud"))
        yield store
    finally:
        store.reset()


@pytest.fixture(scope="session")
def images_archive(image_store: Store) -> Path:
    """The daemon's images in one ``podman save`` archive, as shipped to hosts."""

    archive = image_store.folder.parent / "images.tar"
    return image_store.save(
        (f"localhost/cld-{name}:{VERSION}" for name in DAEMON_IMAGES), archive
    )


def api_server(folder: Path) -> Iterator[ApiService]:
    """A podman API service with its own empty store, removed afterwards."""

    store = Store(folder)
    service = ApiService(store)
    service.start()

    try:
        yield service
    finally:
        service.stop()
        store.reset()


@pytest.fixture
def alpha(tmp_path: Path, image_store: Store) -> Iterator[ApiService]:
    """The first stand-in server."""

    yield from api_server(tmp_path / "alpha")


@pytest.fixture
def beta(tmp_path: Path, image_store: Store) -> Iterator[ApiService]:
    """The second stand-in server."""

    yield from api_server(tmp_path / "beta")


@pytest.fixture
def pbx_interface() -> Iterator[str]:
    """A web interface on the host's loopback, as a PBX's; its address."""

    with local_interface() as address:
        yield address
