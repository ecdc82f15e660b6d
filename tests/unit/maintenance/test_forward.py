"""The ssh forward: the command it runs, and the errors it gives before and at ssh."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maintenance.forward import ForwardError, destination, forward, ssh_argv
from maintenance.servers import Server
from tests.support.processes import free_port


def server(url: str, **files: str) -> Server:
    return Server(name="mx2", url=url, **files)


def option(argv: list[str], flag: str) -> str:
    """The value after ``flag``; every -o value when ``flag`` is -o."""

    if flag == "-o":
        return " ".join(argv[i + 1] for i, a in enumerate(argv) if a == "-o")

    return argv[argv.index(flag) + 1]


def test_the_command_forwards_the_socket_with_the_files_the_server_names() -> None:
    mx2 = server(
        "ssh://admin@mx2.example:2222/run/podman/podman.sock",
        identity="/etc/cld/mx2_ed25519",
        known_hosts="/etc/cld/known_hosts",
    )

    argv = ssh_argv("/usr/bin/ssh", mx2, Path("/tmp/f.sock"), "/run/podman/podman.sock")

    assert argv[0] == "/usr/bin/ssh"
    assert argv[-1] == "admin@mx2.example"
    assert option(argv, "-L") == "/tmp/f.sock:/run/podman/podman.sock"
    assert option(argv, "-p") == "2222"
    assert option(argv, "-i") == "/etc/cld/mx2_ed25519"
    assert "UserKnownHostsFile=/etc/cld/known_hosts" in option(argv, "-o")
    assert "StrictHostKeyChecking=yes" in option(argv, "-o")
    assert "BatchMode=yes" in option(argv, "-o")


def test_without_files_or_port_ssh_keeps_its_own_choices() -> None:
    mx2 = server("ssh://mx2.example/run/podman/podman.sock")

    argv = ssh_argv("ssh", mx2, Path("/tmp/f.sock"), "/run/podman/podman.sock")

    assert destination(mx2) == "mx2.example"
    assert "-i" not in argv
    assert "-p" not in argv
    assert "UserKnownHostsFile" not in option(argv, "-o")
    assert "StrictHostKeyChecking=yes" in option(argv, "-o")


def test_a_missing_key_or_known_hosts_file_is_named(tmp_path: Path) -> None:
    mx2 = server(
        "ssh://root@127.0.0.1/run/podman/podman.sock",
        identity=str(tmp_path / "absent_key"),
        known_hosts=str(tmp_path / "absent_hosts"),
    )

    with (
        pytest.raises(ForwardError) as raised,
        forward(mx2, "/run/podman/podman.sock"),
    ):
        pass

    assert str(raised.value) == (
        f"mx2: identity {tmp_path}/absent_key does not exist; "
        f"known_hosts {tmp_path}/absent_hosts does not exist"
    )


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the ssh client is missing")
def test_a_server_nobody_answers_on_is_named_with_ssh_s_reason(
    tmp_path: Path,
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    mx2 = server(
        f"ssh://root@127.0.0.1:{free_port()}/run/podman/podman.sock",
        known_hosts=str(known_hosts),
    )

    with (
        pytest.raises(ForwardError) as raised,
        forward(mx2, "/run/podman/podman.sock"),
    ):
        pass

    assert str(raised.value).startswith("mx2: cannot reach root@127.0.0.1 over ssh:")
    assert "Connection refused" in str(raised.value)
