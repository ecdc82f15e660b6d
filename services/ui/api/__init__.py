"""Provisioning Manager's HTTP API: users pushed to CloudLink through the daemon.

MiVoice MX-ONE's Provisioning Manager calls it below ``/cld/api/v1`` with
credentials of its own (API clients, not dashboard accounts); the
registration service does the work over gRPC. ``openapi.yaml`` beside this
file is the contract: requests are validated with its schemas, and it is
served at ``/cld/api/v1/openapi.json``.
"""

from pathlib import Path

from services.common.config import Config
from services.ui import PREFIX

# Below the dashboard's prefix, so the host's web server forwards it with the
# dashboard; the version is part of the path PM is configured with.
API_PREFIX = f"{PREFIX}/api/v1"

CLIENTS_FILE = "api-clients.json"


def clients_file(config: Config) -> Path:
    """Where the API clients are kept: CLD_UI_API_CLIENTS_FILE or the ui's state."""

    if config.ui_api_clients_file:
        return Path(config.ui_api_clients_file)

    return config.service_state_dir("ui") / CLIENTS_FILE
