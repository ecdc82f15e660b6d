"""Fake host root folders, one per supported platform, for detection tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

MSL = {
    "etc/e-smith-release": "Mitel Standard Linux release 11.0.82.0 (Final)\n",
    "etc/sysconfig/i18n": 'LANG="fr_FR.UTF-8"\n',
    "etc/e-smith/db/configuration": (
        "HttpProxy=service|Url|http://proxy.lab.example:3128\n"
    ),
}

SUSE = {
    "etc/sysconfig/language": 'RC_LANG="de_DE.UTF-8"\n',
    "etc/sysconfig/proxy": 'HTTPS_PROXY="http://proxy.lab.example:8080"\n',
}

# Host files that make each platform and its components detectable.
HOSTS: dict[str, dict[str, str]] = {
    "msl": MSL,
    "mbg": {**MSL, "opt/mbg/VERSION": "12.1.4.0\n"},
    "mivb": {
        "etc/mitel/mivb/release": "MiVoice Business 10.1.0.27\n",
        "etc/mitel/mivb/locale.conf": "language=en\n",
        "opt/mitel/evm/VERSION": "10.1\n",
    },
    "micollab": {
        **MSL,
        "usr/share/micollab/VERSION": "9.8.0.33\n",
        "usr/share/micollab/usp/index.html": "",
        "opt/awv/VERSION": "9.8\n",
    },
    "mivb-svi": {**MSL, "opt/mitel/svi/VERSION": "10.1.0.27\n"},
    "osbiz": {
        **SUSE,
        "opt/openscape-business/VERSION": "OpenScape Business V3R3.0\n",
        "opt/openscape-business/ucsuite/README": "",
    },
    "sip-dect": {
        "etc/omm/omm.version": "SIP-DECT 9.0.1.12\n",
        "etc/omm/omm.conf": "language=sv\nproxy=http://proxy.lab.example:3128\n",
    },
    "micc-b": {
        "Program Files (x86)/Mitel/MiContact Center/version.txt": "10.0.0.0\n",
        "Program Files (x86)/Mitel/MiContact Center/Ignite.exe": "",
        "ProgramData/Mitel/CloudLink/locale.txt": "en\n",
    },
    "mivoice-5000": {
        "etc/mitel/a5000.release": "MiVoice 5000 R8.2.1\n",
        "etc/mitel/a5000.conf": "LANGUAGE=fr\n",
        "opt/m5000-manager/README": "",
    },
    "osv": {
        **SUSE,
        "etc/hiq8000/node.cfg": "node=osv1\nversion=V11R1.2.3\n",
    },
    "osuc": {
        **SUSE,
        "enterprise/servicetools/install/conf/version.properties": "version=V10R4.5\n",
        "enterprise/cmp/README": "",
    },
    "ossbc": {**SUSE, "etc/ossbc/release": "OpenScape SBC V11R1.0.0\n"},
    "os4000": {
        **SUSE,
        "opt/os4k/release": "OpenScape 4000 V11R0.22.0\n",
        "opt/os4k/assistant/README": "",
        "opt/os4k/portal/README": "",
    },
    "smbc": {**MSL, "opt/smbc/VERSION": "1.3.2.0\n"},
    "mx-one": {
        **SUSE,
        "etc/opt/eri_sn/mxone_version": "MX-ONE 7.6.1.0.12\n",
        "opt/mxone_pm/README": "",
    },
}

# Components each fake host carries beyond what its files above make present.
EXTRA_RPMS = {"osv": ["osv-assistant"]}
EXTRA_DEBS = {"mx-one": [("mxone-media-server", "7.6.1")]}
LISTENING = {"mbg": [6801], "mx-one": [8443]}

GATEWAY_FILE = "opt/cloudlink-gateway/VERSION"

FIB_TRIE = """\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.20.30.40
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
     |-- 10.20.30.255
        /32 link BROADCAST
"""

IF_INET6 = (
    "00000000000000000000000000000001 01 80 10 80       lo\n"
    "20010db8000000000000000000000042 02 40 00 00     eth0\n"
    "fe800000000000000000000000000042 02 40 20 80     eth0\n"
)


def build_host(root: Path, platform: str, gateway: bool = False) -> Path:
    """Writes the fake host of ``platform`` below ``root``; returns ``root``."""

    for relative, text in HOSTS[platform].items():
        write(root, relative, text)

    for name in EXTRA_RPMS.get(platform, []):
        add_rpm(root, name)

    for name, version in EXTRA_DEBS.get(platform, []):
        add_deb(root, name, version)

    listen(root, LISTENING.get(platform, []))

    write(root, "etc/hostname", f"{platform}-lab\n")
    write(root, "etc/os-release", 'PRETTY_NAME="Fake Linux 1.0"\nID=fake\n')
    write(root, "etc/timezone", "Europe/Stockholm\n")
    write(root, "proc/sys/kernel/osrelease", "6.1.0-fake\n")
    write(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Fake CPU\n" * 1)
    write(root, "proc/meminfo", "MemTotal:        4048576 kB\n")
    write(root, "proc/uptime", "12345.67 2345.00\n")
    write(root, "run/systemd/timesync/synchronized", "")
    write(root, "proc/net/fib_trie", FIB_TRIE)
    write(root, "proc/net/if_inet6", IF_INET6)

    if gateway:
        write(root, GATEWAY_FILE, "2.4.1\n")

    return root


def write(root: Path, relative: str, text: str) -> Path:
    """Writes one host file, making its folders."""

    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def listen(root: Path, ports: list[int]) -> None:
    """Writes proc/net/tcp with ``ports`` listening on 0.0.0.0."""

    lines = [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
        "retrnsmt   uid  timeout inode"
    ]

    for index, port in enumerate(ports):
        lines.append(
            f"   {index}: 00000000:{port:04X} 00000000:0000 0A 00000000:00000000 "
            "00:00000000 00000000     0        0 1000 1 0 100 0 0 10 0"
        )

    write(root, "proc/net/tcp", "\n".join(lines) + "\n")


def add_deb(root: Path, name: str, version: str) -> None:
    """Adds an installed package to the host's dpkg status file."""

    status = root / "var/lib/dpkg/status"
    before = status.read_text() if status.exists() else ""
    write(
        root,
        "var/lib/dpkg/status",
        f"{before}Package: {name}\nStatus: install ok installed\n"
        f"Version: {version}\n\n",
    )


def add_rpm(root: Path, name: str) -> None:
    """Adds a package to the host's rpm database (the sqlite format)."""

    path = root / "var/lib/rpm/rpmdb.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)

    try:
        connection.execute("CREATE TABLE IF NOT EXISTS Name (key TEXT, hnum INTEGER)")
        connection.execute("INSERT INTO Name VALUES (?, 1)", (name,))
        connection.commit()
    finally:
        connection.close()
