"""What the supervisor writes for others: the broker's config, the banner."""

from __future__ import annotations

from pathlib import Path

from supervisor.banner import Banner
from supervisor.mosquitto import config
from supervisor.plan import Options, urls

RUN = Path("/srv/run")


def test_the_broker_listens_on_loopback_and_persists_in_the_run_folder() -> None:
    text = config("127.0.0.1", 7002, RUN / "mosquitto", "dev")

    assert text.splitlines() == [
        "listener 7002 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        "persistence_location /srv/run/mosquitto/",
        "log_dest stdout",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "user dev",
    ]
    assert "pid_file" not in text


def test_the_banner_shows_where_to_go_and_how_to_sign_in() -> None:
    options = Options(run_dir=RUN)
    text = Banner(
        urls=urls(options),
        logs_dir=options.logs_dir,
        login_file=options.login_file,
        users_file=options.users_file,
        dashboard_password="s3cret-pass",
        demo_logins=[("admin@acme.example", "acme-admin-1", "can link")],
    ).render()

    assert "http://127.0.0.1:8080/cld/" in text
    assert "admin / s3cret-pass  (kept in /srv/run/dashboard-login.txt)" in text
    assert "http://127.0.0.1:8800/admin" in text
    assert "admin@acme.example / acme-admin-1  (can link)" in text
    assert "mqtt://127.0.0.1:1883" in text
    assert "http://127.0.0.1:9465/metrics  (ui)" in text
    assert "/srv/run/logs/" in text
    assert "Not ready" not in text


def test_the_banner_says_what_is_not_ready_and_an_unknown_password() -> None:
    options = Options(run_dir=RUN, only=("mosquitto", "ui"))
    text = Banner(
        urls=urls(options),
        logs_dir=options.logs_dir,
        login_file=options.login_file,
        users_file=options.users_file,
        not_ready=["ui"],
    ).render()

    assert "delete /srv/run/state/ui/users.json" in text
    assert "Cloud admin" not in text
    assert "Not ready yet: ui." in text
