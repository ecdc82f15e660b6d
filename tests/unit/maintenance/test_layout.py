"""The containers and volumes the daemon is made of on one server."""

from __future__ import annotations

from maintenance import layout


def test_the_broker_starts_first_and_every_service_follows() -> None:
    specs = layout.containers("1.2.3", {"CLD_MQTT_PORT": "1999"}, "/")

    assert [s.name for s in specs] == [
        "cld-mosquitto",
        "cld-registration",
        "cld-inventory",
        "cld-updater",
        "cld-tunnel",
        "cld-ui",
    ]
    assert specs[0].environment == {"CLD_MQTT_PORT": "1999"}
    assert specs[0].volumes == {}
    assert all(s.image.endswith(":1.2.3") for s in specs)


def test_each_service_owns_its_state_volume_and_shares_the_runtime_one() -> None:
    specs = {s.component: s for s in layout.containers("1", {}, "/srv/host")}
    registration = specs["registration"]

    assert registration.volumes == {
        "cld-runtime": "/run/cld",
        "cld-registration-state": "/var/lib/cld/registration",
    }
    assert registration.environment["CLD_STATE_DIR"] == "/var/lib/cld"
    assert registration.host_root == "/srv/host"
    assert set(layout.volumes()) == {v for s in specs.values() for v in s.volumes}


def test_a_changed_setting_changes_the_fingerprint_and_the_label() -> None:
    before = layout.containers("1", {"CLD_LOG_LEVEL": "INFO"}, "/")[1]
    after = layout.containers("1", {"CLD_LOG_LEVEL": "DEBUG"}, "/")[1]
    same = layout.containers("1", {"CLD_LOG_LEVEL": "INFO"}, "/")[1]

    assert before.fingerprint != after.fingerprint
    assert before.labels[layout.SPEC_LABEL] == same.labels[layout.SPEC_LABEL]
    assert before.labels[layout.LABEL] == "registration"


def test_only_the_updater_gets_the_podman_socket() -> None:
    before = {s.component: s for s in layout.containers("1", {}, "/")}
    specs = {
        s.component: s
        for s in layout.containers("1", {}, "/", "/run/podman/podman.sock")
    }

    updater = specs["updater"]
    assert updater.podman_socket == "/run/podman/podman.sock"
    assert updater.environment["CLD_UPDATER_PODMAN_URL"] == (
        "unix:///run/podman/podman.sock"
    )
    assert updater.fingerprint != before["updater"].fingerprint

    for component in ("mosquitto", "registration", "ui"):
        assert specs[component].podman_socket == ""
        assert "CLD_UPDATER_PODMAN_URL" not in specs[component].environment
        assert specs[component].fingerprint == before[component].fingerprint
