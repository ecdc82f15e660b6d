"""Entry point of the ui service: the dashboard under gunicorn."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from services.common import logs
from services.common.config import Config, load_config
from services.common.settings import ConfigError
from services.common.version import build_info
from services.ui import accounts, auth, host, i18n, proxy, sessions

log = logging.getLogger(__name__)

METRICS_FOLDER = "ui-metrics"


def check(config: Config) -> None:
    """Raises ConfigError for a ui setting that cannot be used."""

    proxy.trusted_networks(config.ui_trusted_proxies)
    auth.check_header(config.ui_auth_header, config.ui_trusted_proxies)
    i18n.check_setting(config.ui_language)
    host.check(config)


def fresh_metrics_dir(runtime_dir: Path) -> Path:
    """An empty folder for the workers' metric files.

    Files left by an earlier run would be merged into this run's samples.
    """

    folder = runtime_dir / METRICS_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    return folder


def main() -> int:
    """Runs the dashboard until SIGTERM; returns the exit code."""

    try:
        config = load_config()
        check(config)
    except ConfigError as exc:
        logs.configure("ui")
        log.critical("Cannot start: %s", exc)
        return 2

    logs.configure("ui", config.log_level)

    try:
        config.service_state_dir("ui").mkdir(parents=True, exist_ok=True, mode=0o700)

        # Made here, in the master, so every forked worker signs with it.
        sessions.secret_key(config.service_state_dir("ui"))
        metrics_dir = fresh_metrics_dir(config.runtime_dir)

        # Compiled here once, so the workers find them ready.
        i18n.compile_catalogues(i18n.SOURCE, i18n.compiled_dir(config.runtime_dir))
    except OSError as exc:
        log.critical("Cannot start: %s", exc)
        return 1

    if not accounts.load(config.users_file()):
        log.warning(
            "There is no dashboard account in %s; add one with "
            "python -m services.ui.accounts add NAME",
            config.users_file(),
        )

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    # prometheus_client decides where samples live (in this process, or in
    # files shared by the workers) when it is first imported, so nothing that
    # imports it may be loaded before the folder is named.
    from services.ui.server import DashboardServer

    log.info("Starting ui %s on %s", build_info().version, config.ui_bind)
    DashboardServer(config, metrics_dir).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
