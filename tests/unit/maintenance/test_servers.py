"""The servers file: what it accepts, and the message for what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from maintenance.servers import ServersError, load, parse

GOOD = """
[daemon]
version = "0.1.0"
[daemon.env]
CLD_CLOUD_URL = "https://api.mitel.io"
CLD_UI_WORKERS = 2

[[server]]
name = "mx1"
url = "unix:///run/podman/podman.sock"

[[server]]
name = "mx2"
url = "ssh://root@mx2.example:2222/run/podman/podman.sock"
host_root = "/srv/mx2"
identity = "/etc/cld/mx2_ed25519"
known_hosts = "/etc/cld/known_hosts"
[server.env]
CLD_UI_BIND = "127.0.0.1:8081"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "servers.toml"
    path.write_text(text)
    return path


def test_a_complete_file_is_read(tmp_path: Path) -> None:
    deployment = load(write(tmp_path, GOOD))

    assert deployment.version == "0.1.0"
    assert [s.name for s in deployment.servers] == ["mx1", "mx2"]
    assert deployment.server("mx2").remote
    assert not deployment.server("mx1").remote
    assert deployment.server("mx2").identity == "/etc/cld/mx2_ed25519"
    assert deployment.server("mx2").known_hosts == "/etc/cld/known_hosts"
    assert deployment.server("mx1").identity == ""
    assert deployment.settings(deployment.server("mx2")) == {
        "CLD_CLOUD_URL": "https://api.mitel.io",
        "CLD_UI_WORKERS": "2",
        "CLD_UI_BIND": "127.0.0.1:8081",
    }


def test_selection_keeps_the_file_order_and_names_an_unknown_server(
    tmp_path: Path,
) -> None:
    deployment = load(write(tmp_path, GOOD))

    assert [s.name for s in deployment.select(["mx2", "mx1"])] == ["mx1", "mx2"]
    assert deployment.select([]) == deployment.servers

    with pytest.raises(ServersError, match="no server named 'mx3'; known: mx1, mx2"):
        deployment.select(["mx3"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[daemon]\nversion = "1"\n', "no \\[\\[server\\]\\] is listed"),
        (
            '[daemon]\nversion = "1"\n[[server]]\nname = "a"\nurl = "http://x"\n',
            "must be unix:///PATH.sock",
        ),
        (
            '[daemon]\nversion = "1"\n[[server]]\nname = "a b"\nurl = "unix:///a.sock"\n',
            "name 'a b' must be letters",
        ),
        (
            '[daemon]\nversion = "1"\n'
            '[[server]]\nname = "a"\nurl = "unix:///a.sock"\n'
            '[[server]]\nname = "a"\nurl = "unix:///b.sock"\n',
            "listed twice: a",
        ),
        (
            '[daemon]\nversion = "1"\n[daemon.env]\nCLD_STATE_DIR = "/x"\n'
            '[[server]]\nname = "a"\nurl = "unix:///a.sock"\n',
            "CLD_STATE_DIR is set by the tool",
        ),
        (
            '[daemon]\nversion = "1"\n[daemon.env]\nPATH = "/x"\n'
            '[[server]]\nname = "a"\nurl = "unix:///a.sock"\n',
            "'PATH' is not a CLD_ setting",
        ),
        ('[[server]]\nname = "a"\nurl = "unix:///a.sock"\n', "version is missing"),
        (
            '[daemon]\nversion = "1"\n[[server]]\nname = "a"\n'
            'url = "unix:///a.sock"\nidentity = "/k"\n',
            "server 'a' identity is for ssh:// servers only",
        ),
        (
            '[daemon]\nversion = "1"\n[[server]]\nname = "a"\n'
            'url = "ssh://h/a.sock"\nknown_hosts = "known"\n',
            "server 'a' known_hosts 'known' must be an absolute path",
        ),
        (
            '[daemon]\nversion = "1"\n[[server]]\nname = "a"\n'
            'url = "ssh://h/a.sock"\nidentity = 3\n',
            "server 'a' identity is missing or not a string",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_message_naming_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ServersError, match=message):
        load(write(tmp_path, text))


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ServersError, match="no such configuration file"):
        load(tmp_path / "absent.toml")

    with pytest.raises(ServersError, match="not valid TOML"):
        load(write(tmp_path, "[daemon\n"))


def test_parse_takes_a_document_without_a_file() -> None:
    deployment = parse(
        {
            "daemon": {"version": "2.0"},
            "server": [{"name": "a", "url": "unix:///s.sock"}],
        }
    )
    assert deployment.servers[0].host_root == "/"
