"""Updates end to end: the real updater, registration, broker and emulator."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import requests
from cld.v1 import updater_pb2 as pb

from services.common.bus import Bus, wait_until
from services.updater.download import artifact_path
from services.updater.versions import ReleaseVersion
from tests.integration.common.test_bus import Inbox
from tests.integration.updater.conftest import (
    VersionedService,
    idle,
    publish_raw,
    publish_release,
    replace_in_wheel,
    signed_manifest,
    state_dir,
    stub,
    wait_status,
    wheel_artifact,
)
from tests.support.processes import Broker, Cloud

V2 = ReleaseVersion("0.2.0", "2")


def update_now(service: VersionedService) -> pb.UpdateStatus:
    return stub(service).UpdateNow(pb.UpdateNowRequest(), timeout=5)


def metric(service: VersionedService, sample: str) -> float:
    port = service.env["CLD_UPDATER_METRICS_PORT"]
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])

    raise AssertionError(f"no sample {sample} in:\n{text}")


def test_a_full_update_from_v1_to_v2(
    linked: VersionedService,
    updater: VersionedService,
    cloud: Cloud,
    mosquitto: Broker,
    signing_key: Path,
    release_wheel: Path,
) -> None:
    inbox = Inbox()
    watcher = Bus("ui", "127.0.0.1", mosquitto.port)
    watcher.subscribe("cld/updater/state", inbox)
    watcher.start()
    published = publish_release(cloud, signing_key, release_wheel, "0.2.0", "2")
    assert published["release"] == "0.2.0+2"

    # A download cut short by an earlier attempt: half the wheel is here.
    artifact = wheel_artifact(cloud, release_wheel, V2)
    downloads = state_dir(updater) / "downloads"
    whole = artifact_path(downloads, artifact)
    whole.parent.mkdir(parents=True)
    part = whole.with_name(whole.name + ".part")
    part.write_bytes(release_wheel.read_bytes()[: artifact.size // 2])

    update_now(updater)

    wait_status(
        updater,
        lambda s: "restarting services" in s.progress_detail,
        "the switch to the new version",
    )
    assert os.readlink(state_dir(updater) / "current") == "versions/0.2.0+2"
    assert f"artifacts/{artifact.name} 206" in cloud.output()

    # What the supervisor does on a switch: restart the services.
    linked.stop()
    linked.start()
    updater.stop()
    updater.start()

    done = wait_status(updater, lambda s: s.progress == "done", "the update to finish")
    assert done.installed_version == "0.2.0"
    assert done.installed_build_number == "2"
    assert not done.update_available
    assert done.last_update.seconds > 0
    assert done.history[0].outcome == "updated"
    assert done.history[0].to_version == "0.2.0 (build 2)"
    assert done.last_error == ""
    assert (
        Path(f"/proc/{updater.pid}/cwd").resolve()
        == (state_dir(updater) / "versions" / "0.2.0+2" / "lib").resolve()
    )
    assert metric(updater, "cld_updater_last_update_timestamp_seconds") > 0
    assert metric(updater, 'cld_updater_results_total{outcome="updated"}') == 1
    assert wait_until(
        lambda: (inbox.last("cld/updater/state") or {}).get("progress") == "done", 5
    )
    watcher.stop()


def test_a_version_not_back_after_the_switch_is_rolled_back(
    tmp_path: Path,
    linked: VersionedService,
    cloud: Cloud,
    daemon_env: dict[str, str],
    signing_key: Path,
    release_wheel: Path,
) -> None:
    env = {**daemon_env, "CLD_UPDATER_HEALTH_TIMEOUT": "6"}
    updater = VersionedService("updater", env, tmp_path / "daemon")
    updater.start()
    publish_release(cloud, signing_key, release_wheel, "0.2.0", "2")

    update_now(updater)

    # Nothing restarts the services, so the new version never reports back.
    seen = wait_status(
        updater, lambda s: s.progress == "rolled back", "the rollback", timeout=40
    )
    assert "did not come up healthy within 6s" in seen.last_error
    assert "not back: registration, updater" in seen.last_error
    assert seen.history[0].outcome == "rolled back"
    assert not (state_dir(updater) / "current").exists()
    assert not (state_dir(updater) / "versions" / "0.2.0+2").exists()
    assert metric(updater, 'cld_updater_results_total{outcome="rolled_back"}') == 1
    updater.stop()


def test_a_new_version_failing_its_health_check_is_not_switched_to(
    tmp_path: Path,
    linked: VersionedService,
    updater: VersionedService,
    cloud: Cloud,
    signing_key: Path,
    release_wheel: Path,
) -> None:
    broken = replace_in_wheel(
        release_wheel,
        tmp_path / release_wheel.name,
        {"services/registration/__main__.py": "raise SystemExit('broken on purpose')"},
    )
    publish_release(cloud, signing_key, broken, "0.3.0", "3")

    update_now(updater)

    seen = wait_status(updater, lambda s: s.progress == "rolled back", "the rollback")
    assert "Version 0.3.0 (build 3) failed its health check" in seen.last_error
    assert "registration exited with code 1" in seen.last_error
    assert "broken on purpose" in seen.last_error
    assert seen.history[0].outcome == "rolled back"
    assert seen.installed_version == "0.1.0"
    assert not (state_dir(updater) / "current").exists()
    assert "failed its health check" in updater.output()


def test_a_tampered_manifest_is_refused(
    linked: VersionedService,
    updater: VersionedService,
    cloud: Cloud,
    signing_key: Path,
    release_wheel: Path,
) -> None:
    envelope = signed_manifest(cloud, signing_key, release_wheel, V2)
    document = json.loads(base64.b64decode(envelope["payload"]))
    document["commit"] = "not-what-was-signed"
    envelope["payload"] = base64.b64encode(json.dumps(document).encode()).decode()
    publish_raw(cloud, envelope, {release_wheel.name: release_wheel.read_bytes()})

    update_now(updater)

    seen = wait_status(updater, idle, "the check")
    assert "signature does not match its content" in seen.last_error
    assert seen.history[0].outcome == "refused"
    assert not seen.update_available
    assert not (state_dir(updater) / "downloads").exists()
    assert "signature does not match its content" in updater.output()


def test_a_tampered_artifact_is_refused(
    linked: VersionedService,
    updater: VersionedService,
    cloud: Cloud,
    signing_key: Path,
    release_wheel: Path,
) -> None:
    envelope = signed_manifest(cloud, signing_key, release_wheel, V2)
    altered = bytearray(release_wheel.read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    publish_raw(cloud, envelope, {release_wheel.name: bytes(altered)})

    update_now(updater)

    seen = wait_status(updater, idle, "the check")
    assert f"the SHA-256 of {release_wheel.name} does not match" in seen.last_error
    assert seen.history[0].outcome == "refused"
    assert list((state_dir(updater) / "downloads").rglob("*.*")) == []
    assert not (state_dir(updater) / "versions").exists()


def test_a_downgrade_is_refused(
    linked: VersionedService,
    updater: VersionedService,
    cloud: Cloud,
    signing_key: Path,
    release_wheel: Path,
) -> None:
    publish_release(cloud, signing_key, release_wheel, "0.0.9", "50")

    update_now(updater)

    seen = wait_status(updater, idle, "the check")
    assert "0.0.9 (build 50) is older than the running 0.1.0" in seen.last_error
    assert "downgrade was refused" in seen.last_error
    assert seen.history[0].outcome == "refused"
    assert seen.history[0].to_version == "0.0.9 (build 50)"
    assert not seen.update_available
