"""Every setting of the daemon's services, with its variable and default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.settings import Address, LogLevel, Port, Seconds, load, setting


@dataclass(frozen=True)
class Config:
    """The daemon's configuration, shared by its five services."""

    state_dir: Path = setting(
        "CLD_STATE_DIR",
        "/var/lib/cld",
        "Durable state; each service writes only below its own subfolder.",
    )
    runtime_dir: Path = setting(
        "CLD_RUNTIME_DIR",
        "/run/cld",
        "Shared folder for the services' gRPC Unix sockets.",
    )
    log_level: LogLevel = setting("CLD_LOG_LEVEL", "INFO", "Lowest level logged.")

    mqtt_host: str = setting("CLD_MQTT_HOST", "127.0.0.1", "Local MQTT broker host.")
    mqtt_port: Port = setting("CLD_MQTT_PORT", "1883", "Local MQTT broker port.")

    cloud_url: str = setting(
        "CLD_CLOUD_URL",
        "https://api.mitel.io",
        "Base URL of the CloudLink API (auth, systems).",
    )
    cloud_ca_file: str = setting(
        "CLD_CLOUD_CA_FILE",
        "",
        "Extra CA bundle trusted for the cloud; empty uses the system's.",
    )
    cloud_timeout: Seconds = setting(
        "CLD_CLOUD_TIMEOUT", "10", "Seconds before a cloud request is given up."
    )
    https_proxy: str = setting(
        "CLD_HTTPS_PROXY",
        "",
        "Proxy for outbound connections, http://[user:pass@]host:port; empty "
        "connects directly.",
    )

    metrics_host: str = setting(
        "CLD_METRICS_HOST", "127.0.0.1", "Address the /metrics endpoints listen on."
    )
    registration_metrics_port: Port = setting(
        "CLD_REGISTRATION_METRICS_PORT", "9461", "registration /metrics; 0 is off."
    )
    inventory_metrics_port: Port = setting(
        "CLD_INVENTORY_METRICS_PORT", "9462", "inventory /metrics; 0 is off."
    )
    updater_metrics_port: Port = setting(
        "CLD_UPDATER_METRICS_PORT", "9463", "updater /metrics; 0 is off."
    )
    tunnel_metrics_port: Port = setting(
        "CLD_TUNNEL_METRICS_PORT", "9464", "tunnel /metrics; 0 is off."
    )
    ui_metrics_port: Port = setting(
        "CLD_UI_METRICS_PORT", "9465", "ui /metrics; 0 is off."
    )

    ui_bind: Address = setting(
        "CLD_UI_BIND", "127.0.0.1:8080", "Address the dashboard listens on."
    )
    ui_workers: int = setting(
        "CLD_UI_WORKERS",
        "1",
        "Dashboard worker processes; each adds ~40 MB, one serves a few admins.",
    )
    ui_secure_cookies: bool = setting(
        "CLD_UI_SECURE_COOKIES",
        "true",
        "Mark session cookies Secure; turn off only for plain-HTTP development.",
    )
    ui_users_file: str = setting(
        "CLD_UI_USERS_FILE",
        "",
        "Dashboard accounts (argon2 hashes); empty is STATE_DIR/ui/users.json.",
    )
    ui_trusted_proxies: str = setting(
        "CLD_UI_TRUSTED_PROXIES",
        "",
        "Comma-separated addresses whose X-Forwarded-* headers are believed.",
    )

    def service_state_dir(self, service: str) -> Path:
        """The one folder ``service`` writes its durable state to."""

        return self.state_dir / service

    def metrics_port(self, service: str) -> int:
        """The /metrics port of ``service``; 0 when it has none."""

        port: int = getattr(self, f"{service}_metrics_port")
        return port

    def users_file(self) -> Path:
        """Where the dashboard's local accounts are kept."""

        if self.ui_users_file:
            return Path(self.ui_users_file)

        return self.service_state_dir("ui") / "users.json"


def load_config() -> Config:
    """The configuration from this process's environment."""

    return load(Config)
