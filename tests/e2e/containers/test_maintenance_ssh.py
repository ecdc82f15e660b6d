"""The maintenance tool on a server reached over ssh://, through a real sshd."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.containers.conftest import api_server
from tests.e2e.containers.podman import ApiService, podman_problem
from tests.e2e.containers.sshd import ClientFiles, Sshd, keygen, sshd_problem
from tests.e2e.containers.test_maintenance import (
    by_server,
    dashboard_answers,
    servers_file,
    tool,
)
from tests.support.processes import Cloud, port_open

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    """A private sshd on loopback that lets the test's key in as root."""

    problem = sshd_problem()

    if problem:
        pytest.skip(problem)

    server = Sshd(tmp_path / "sshd")
    server.start()

    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote() -> Iterator[ApiService]:
    """A podman API service reached only through the sshd.

    Its folder is short: sshd connects to the sockets below it by path, and a
    Unix socket's path holds at most 107 bytes.
    """

    problem = podman_problem()

    if problem:
        pytest.skip(problem)

    folder = Path(tempfile.mkdtemp(prefix="cld-"))

    try:
        yield from api_server(folder / "srv")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def over_ssh(sshd: Sshd, service: ApiService) -> ApiService:
    """``service`` as the tool sees it: an ssh:// address on the sshd."""

    seen = ApiService.__new__(ApiService)
    seen.url = f"ssh://root@127.0.0.1:{sshd.port}{service.socket}"
    return seen


def with_client_files(config: Path, url: str, client: ClientFiles) -> None:
    """Adds the key and the known-hosts file to the server at ``url``."""

    line = f'url = "{url}"\n'
    text = config.read_text()
    assert text.count(line) == 1
    config.write_text(
        text.replace(
            line,
            f'{line}identity = "{client.identity}"\n'
            f'known_hosts = "{client.known_hosts}"\n',
        )
    )


def test_a_server_over_ssh_is_enabled_checked_disabled_and_named_when_down(
    tmp_path: Path,
    cloud: Cloud,
    images_archive: Path,
    alpha: ApiService,
    remote: ApiService,
    sshd: Sshd,
) -> None:
    beta = over_ssh(sshd, remote)
    config, ui_ports = servers_file(
        tmp_path, images_archive, cloud, {"alpha": alpha, "beta": beta}
    )
    with_client_files(config, beta.url, sshd.client)

    # Both servers answer, one over a Unix socket, one over ssh.
    code, status, progress = tool(config, "status")
    assert code == 0, progress
    servers = by_server(status)
    assert servers["alpha"]["reachable"]
    assert servers["beta"]["reachable"], servers["beta"]
    assert servers["beta"]["containers"] == []

    # Enabling over ssh loads the images there and starts healthy containers.
    code, outcomes, progress = tool(config, "enable", "beta")
    assert code == 0, progress
    assert by_server(outcomes)["beta"]["ok"], outcomes
    assert "loading images" in progress
    assert "cld-ui" in remote.store.names("container")
    assert dashboard_answers(ui_ports["beta"])

    # The registration service answers through a forward of its own socket.
    code, status, _ = tool(config, "status", "beta")
    reported = by_server(status)["beta"]
    assert reported["enabled"]
    assert {c["health"] for c in reported["containers"]} == {"healthy"}
    assert reported["link"] == {
        "linked": False,
        "account_name": "",
        "account_number": "",
        "system_id": "",
        "changed": False,
    }

    code, _, progress = tool(config, "disable", "beta")
    assert code == 0, progress
    assert remote.store.names("container") == []
    assert not port_open(ui_ports["beta"])

    # With sshd gone the error names the server and why; alpha is unaffected.
    sshd.stop()
    code, status, _ = tool(config, "status")
    assert code == 1
    servers = by_server(status)
    assert servers["alpha"]["reachable"]
    assert not servers["beta"]["reachable"]
    assert servers["beta"]["error"].startswith(
        "beta: cannot reach root@127.0.0.1 over ssh: "
    )
    assert "Connection refused" in servers["beta"]["error"]

    code, outcomes, _ = tool(config, "disable", "--all")
    assert code == 1
    results = by_server(outcomes)
    assert results["alpha"]["ok"]
    assert not results["beta"]["ok"]
    assert "beta: cannot reach" in results["beta"]["error"]


def test_a_server_whose_host_key_is_not_the_known_one_is_refused(
    tmp_path: Path, cloud: Cloud, remote: ApiService, sshd: Sshd
) -> None:
    beta = over_ssh(sshd, remote)
    config, _ = servers_file(tmp_path, tmp_path / "none.tar", cloud, {"beta": beta})
    with_client_files(config, beta.url, sshd.client)

    code, status, _ = tool(config, "status")
    assert code == 0, status
    assert by_server(status)["beta"]["reachable"]

    # Another host's key under this address: a server pretending to be beta.
    other = tmp_path / "other_ed25519"
    keygen(other, "someone-else")
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    sshd.client.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {kind} {key}\n")

    code, status, _ = tool(config, "status")
    assert code == 1
    reported = by_server(status)["beta"]
    assert not reported["reachable"]
    assert "beta: cannot reach root@127.0.0.1 over ssh" in reported["error"]
    assert "Host key verification failed" in reported["error"]
