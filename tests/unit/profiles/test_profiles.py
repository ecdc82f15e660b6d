"""Loading, validating and detecting platform profiles against fake hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.profiles import (
    ProfileError,
    detect_components,
    detect_platform,
    load_profile,
    load_profiles,
    platforms_dir,
)
from tests.support.fakehosts import HOSTS, add_deb, add_rpm, build_host, listen, write

PLATFORMS = {
    "msl": "Mitel Standard Linux",
    "mbg": "MiVoice Border Gateway",
    "mivb": "MiVoice Business",
    "micollab": "MiCollab",
    "mivb-svi": "MiVB SVI",
    "osbiz": "OpenScape Business",
    "sip-dect": "SIP-DECT",
    "micc-b": "MiContact Center Business",
    "mivoice-5000": "MiVoice 5000",
    "osv": "OpenScape Voice",
    "osuc": "OpenScape UC",
    "ossbc": "OpenScape SBC",
    "os4000": "OpenScape 4000",
    "smbc": "SMB Controller",
    "mx-one": "MiVoice MX-ONE",
}

INSTALLED = {
    "msl": ["server-manager"],
    "mbg": ["server-manager", "mbg", "teleworker"],
    "mivb": ["system-administration-tool", "embedded-voicemail"],
    "micollab": ["server-manager", "usp", "awv"],
    "mivb-svi": ["server-manager", "mivb"],
    "osbiz": ["wbm", "uc-suite"],
    "sip-dect": ["omm"],
    "micc-b": ["config-manager", "ignite"],
    "mivoice-5000": ["web-admin", "manager"],
    "osv": ["osv-node", "osv-assistant"],
    "osuc": ["cmp", "uc-backend"],
    "ossbc": ["sbc-management"],
    "os4000": ["assistant", "platform-portal"],
    "smbc": ["smbc-controller", "server-manager"],
    "mx-one": [
        "service-node",
        "service-node-manager",
        "provisioning-manager",
        "media-server",
    ],
}

MINIMAL = """\
id = "lab"
name = "Lab platform"
detect = { all = [ { file = "etc/lab-release" } ] }

[[components]]
id = "web"
name = "Web"
detect = { any = [ { file = "etc/lab-release" } ] }

[[components.tunnels]]
name = "web"
local_address = "https://127.0.0.1:443"
description = "Web interface"
"""


def profile_file(tmp_path: Path, text: str, name: str = "lab.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ProfileError) as error:
        load_profile(path)

    return str(error.value)


def test_every_supported_platform_has_a_valid_profile() -> None:
    profiles = load_profiles(platforms_dir())

    assert {pid: p.name for pid, p in profiles.items()} == PLATFORMS
    assert all(p.source.name == f"{p.id}.toml" for p in profiles.values())


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_fake_host_is_detected_as_its_platform(
    tmp_path: Path, platform: str
) -> None:
    profiles = load_profiles(platforms_dir())
    host = build_host(tmp_path / "host", platform)

    detected = detect_platform(profiles, host)

    assert detected is not None
    assert detected.id == platform
    assert [c.id for c in detect_components(detected, host)] == INSTALLED[platform]
    assert detected.version is not None
    assert detected.version.read(host)


def test_an_empty_host_runs_no_known_platform(tmp_path: Path) -> None:
    assert detect_platform(load_profiles(platforms_dir()), tmp_path) is None


def test_a_child_platform_wins_over_its_parent(tmp_path: Path) -> None:
    profiles = load_profiles(platforms_dir())
    host = build_host(tmp_path, "smbc")

    smbc = detect_platform(profiles, host)

    assert profiles["msl"].detect.holds(host)
    assert smbc is not None
    assert smbc.id == "smbc"
    assert smbc.parent == "msl"
    assert {"child_only", "two_daemons"} <= set(smbc.notes)


def test_openscape_voice_links_to_one_account_only() -> None:
    assert "one_account_per_node" in load_profiles(platforms_dir())["osv"].notes


def test_language_and_proxy_are_read_where_the_profile_says(tmp_path: Path) -> None:
    profiles = load_profiles(platforms_dir())
    msl = build_host(tmp_path / "msl", "msl")
    osv = build_host(tmp_path / "osv", "osv")

    assert profiles["msl"].language is not None
    assert profiles["msl"].language.read(msl) == "fr"
    assert profiles["msl"].proxy is not None
    assert profiles["msl"].proxy.read(msl) == "http://proxy.lab.example:3128"
    assert profiles["osv"].language is not None
    assert profiles["osv"].language.read(osv) == "de"


def test_a_component_appears_and_disappears_with_its_files(tmp_path: Path) -> None:
    profile = load_profiles(platforms_dir())["mivb"]
    host = build_host(tmp_path, "mivb")
    evm = host / "opt/mitel/evm"

    assert "embedded-voicemail" in [c.id for c in detect_components(profile, host)]

    for child in evm.iterdir():
        child.unlink()
    evm.rmdir()

    assert [c.id for c in detect_components(profile, host)] == [
        "system-administration-tool"
    ]


def test_package_and_port_rules(tmp_path: Path) -> None:
    profile = load_profiles(platforms_dir())["mx-one"]
    host = tmp_path
    write(host, "etc/opt/eri_sn/mxone_version", "MX-ONE 7.6\n")

    assert [c.id for c in detect_components(profile, host)] == ["service-node"]

    add_deb(host, "mxone-media-server", "7.6.1")
    listen(host, [8443])
    found = {c.id: c for c in detect_components(profile, host)}

    assert set(found) == {"service-node", "media-server", "service-node-manager"}
    assert found["media-server"].version is not None
    assert found["media-server"].version.read(host) == "7.6.1"

    add_rpm(host, "mxone-service-node")
    (host / "etc/opt/eri_sn/mxone_version").unlink()
    assert profile.detect.holds(host)


def test_a_package_not_fully_installed_does_not_count(tmp_path: Path) -> None:
    profile = load_profiles(platforms_dir())["mx-one"]
    write(
        tmp_path,
        "var/lib/dpkg/status",
        "Package: mxone-media-server\nStatus: deinstall ok config-files\n"
        "Version: 7.6.1\n\n",
    )

    assert profile.component("media-server") is not None
    assert not profile.detect.holds(tmp_path)


def test_tunnels_name_their_component() -> None:
    profile = load_profiles(platforms_dir())["micollab"]

    assert [(t.component, t.name) for t in profile.tunnels()] == [
        ("server-manager", "server-manager"),
        ("usp", "usp"),
        ("nupoint", "nupoint-admin"),
    ]


def test_a_minimal_profile_loads(tmp_path: Path) -> None:
    profile = load_profile(profile_file(tmp_path, MINIMAL))

    assert profile.id == "lab"
    assert profile.tunnels()[0].local_address == "https://127.0.0.1:443"


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("https://127.0.0.1:443", True),
        ("http://127.0.0.9:8080/admin", True),
        ("https://[::1]:8443", True),
        ("https://10.0.0.5:443", False),
        ("https://intranet.example:443", False),
        ("ftp://127.0.0.1", False),
        ("127.0.0.1:443", False),
        ("https://user:pw@127.0.0.1", False),
        ("https://127.0.0.1:99999", False),
    ],
)
def test_a_tunnel_must_reach_loopback(
    tmp_path: Path, address: str, accepted: bool
) -> None:
    path = profile_file(tmp_path, MINIMAL.replace("https://127.0.0.1:443", address))

    if accepted:
        assert load_profile(path).tunnels()[0].local_address == address
    else:
        message = error_of(path)
        assert str(path) in message
        assert "components[0].tunnels[0].local_address" in message


def test_an_address_the_profile_names_on_purpose_is_allowed(tmp_path: Path) -> None:
    text = 'allowed_hosts = ["10.0.0.5"]\n' + MINIMAL.replace("127.0.0.1", "10.0.0.5")

    profile = load_profile(profile_file(tmp_path, text))

    assert profile.tunnels()[0].local_address == "https://10.0.0.5:443"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('id = "lab"', 'id = "other"'), "id"),
        (('name = "Lab platform"', "name = 3"), "name"),
        (('{ all = [ { file = "etc/lab-release" } ] }', "{ all = [] }"), "detect.all"),
        (("{ all = [ {", "{ some = [ {"), "detect"),
        (
            ('{ file = "etc/lab-release" } ] }\n\n', '{ file = "/etc/x" } ] }\n\n'),
            "detect.all[0].file",
        ),
        (('id = "web"', 'id = "Web Server"'), "components[0].id"),
        (('description = "Web interface"', ""), "components[0].tunnels[0].description"),
        (
            ('name = "web"\n', 'name = "web"\nport = 1\n'),
            "components[0].tunnels[0].port",
        ),
        (('name = "Lab platform"', 'name = "Lab"\nnotes = ["fast"]'), "notes[0]"),
        (('name = "Lab platform"', 'name = "Lab"\nnotes = ["child_only"]'), "parent"),
        (
            (
                'name = "Lab platform"',
                'name = "Lab"\nversion = { file = "v", pattern = "[0-9]+" }',
            ),
            "version.pattern",
        ),
        (
            (
                'name = "Lab platform"',
                'name = "Lab"\nversion = { file = "v", pattern = "([0-9]+" }',
            ),
            "version.pattern",
        ),
        (
            (
                '{ any = [ { file = "etc/lab-release" } ] }',
                "{ any = [ { port = 0 } ] }",
            ),
            "components[0].detect.any[0].port",
        ),
        (
            (
                '{ any = [ { file = "etc/lab-release" } ] }',
                '{ any = [ { package = "a b" } ] }',
            ),
            "components[0].detect.any[0].package",
        ),
        (
            (
                '{ any = [ { file = "etc/lab-release" } ] }',
                '{ any = [ { dir = "x", pattern = "y" } ] }',
            ),
            "components[0].detect.any[0].pattern",
        ),
    ],
)
def test_a_malformed_profile_is_rejected_naming_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    old, new = change
    assert old in MINIMAL
    path = profile_file(tmp_path, MINIMAL.replace(old, new, 1))

    message = error_of(path)

    assert message.startswith(f"{path}: {field}: "), message


def test_repeated_tunnel_names_are_rejected(tmp_path: Path) -> None:
    tunnel = MINIMAL[MINIMAL.index("[[components.tunnels]]") :]
    path = profile_file(tmp_path, MINIMAL + "\n" + tunnel)

    assert "components[0].tunnels[1].name: 'web' is repeated" in error_of(path)


def test_a_file_that_is_not_toml_is_rejected(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "id = \n")

    assert error_of(path).startswith(f"{path}: is not valid TOML")


def test_a_profile_naming_an_unknown_parent_is_rejected(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "Lab platform"', 'name = "Lab"\nparent = "nope"')
    profile_file(tmp_path, text)

    with pytest.raises(ProfileError, match=r"lab\.toml: parent: no profile 'nope'"):
        load_profiles(tmp_path)


def test_every_fake_host_is_listed() -> None:
    assert set(HOSTS) == set(PLATFORMS)
