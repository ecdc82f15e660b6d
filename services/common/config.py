"""Every setting of the daemon's services, with its variable and default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.settings import (
    Address,
    Count,
    LogLevel,
    Port,
    Seconds,
    load,
    setting,
)


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
    ui_workers: Count = setting(
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

    # ui service (dashboard)
    ui_auth_header: str = setting(
        "CLD_UI_AUTH_HEADER",
        "",
        "Header carrying the user a CLD_UI_TRUSTED_PROXIES proxy logged in; "
        "empty is off.",
    )
    ui_language: str = setting(
        "CLD_UI_LANGUAGE",
        "",
        "Dashboard language (en, fr, de, es, it, nl, pt, sv); empty follows the "
        "host platform, then the browser.",
    )

    # ui service: Provisioning Manager's API (/cld/api/v1)
    ui_api_clients_file: str = setting(
        "CLD_UI_API_CLIENTS_FILE",
        "",
        "Provisioning Manager's API clients (argon2 hashes); empty is "
        "STATE_DIR/ui/api-clients.json.",
    )

    # registration service: MX-ONE user provisioning
    provisioning_user_limit: Count = setting(
        "CLD_PROVISIONING_USER_LIMIT",
        "5000",
        "Users one MX-ONE system may provision in CloudLink.",
    )
    provisioning_retry_max: Seconds = setting(
        "CLD_PROVISIONING_RETRY_MAX",
        "60",
        "Longest wait, in seconds, before a waiting user sync tries again.",
    )
    provisioning_writers: Count = setting(
        "CLD_PROVISIONING_WRITERS", "4", "Cloud writes a user sync makes at once."
    )

    # updater service
    updater_channel: str = setting(
        "CLD_UPDATER_CHANNEL", "stable", "Release channel the updater follows."
    )
    updater_time_zone: str = setting(
        "CLD_UPDATER_TIME_ZONE",
        "",
        "IANA zone the update schedule is read in; empty is the host's.",
    )
    updater_extra_keys_file: str = setting(
        "CLD_UPDATER_EXTRA_KEYS_FILE",
        "",
        "Keys file trusted besides the packaged release keys (development).",
    )
    updater_services: str = setting(
        "CLD_UPDATER_SERVICES",
        "registration,inventory,updater,tunnel,ui",
        "Services an update restarts and must see healthy before it is kept.",
    )
    updater_health_timeout: Seconds = setting(
        "CLD_UPDATER_HEALTH_TIMEOUT",
        "120",
        "Seconds a new version has to come up healthy before it is rolled back.",
    )

    # updater service, container mode
    updater_podman_url: str = setting(
        "CLD_UPDATER_PODMAN_URL",
        "",
        "Podman API (unix:///PATH.sock) through which releases are applied by "
        "recreating the daemon's containers; empty applies them in process mode.",
    )

    # inventory service
    host_root: Path = setting(
        "CLD_HOST_ROOT",
        "/",
        "Root folder of the host whose platform and components are detected.",
    )
    platform: str = setting(
        "CLD_PLATFORM", "", "Platform profile id; empty detects it from the host."
    )
    platforms_dir: str = setting(
        "CLD_PLATFORMS_DIR",
        "",
        "Folder of platform profiles; empty is the daemon's own platforms/.",
    )
    inventory_daily_at: str = setting(
        "CLD_INVENTORY_DAILY_AT",
        "",
        "Time (HH:MM) of the daily report in the host's time zone; empty spreads "
        "systems over the day by their system id.",
    )
    inventory_debounce: Seconds = setting(
        "CLD_INVENTORY_DEBOUNCE",
        "5",
        "Quiet seconds after a change before a report is built; a burst is one.",
    )
    inventory_rescan: Seconds = setting(
        "CLD_INVENTORY_RESCAN",
        "60",
        "Seconds between looks at the host for installed or removed components.",
    )
    inventory_retry_max: Seconds = setting(
        "CLD_INVENTORY_RETRY_MAX",
        "300",
        "Longest wait, in seconds, between retries of an undelivered report.",
    )

    # tunnel service
    tunnel_relay: Address = setting(
        "CLD_TUNNEL_RELAY",
        "relay.mitel.io:443",
        "HOST:PORT of the CloudLink relay the tunnels connect out to (TLS).",
    )
    tunnel_relay_ca_file: str = setting(
        "CLD_TUNNEL_RELAY_CA_FILE",
        "",
        "CA bundle trusted for the relay; empty uses the system's.",
    )
    tunnel_dead_after: Seconds = setting(
        "CLD_TUNNEL_DEAD_AFTER",
        "12",
        "Seconds without a word from the relay before its connection is dead.",
    )
    tunnel_retry_max: Seconds = setting(
        "CLD_TUNNEL_RETRY_MAX",
        "30",
        "Longest wait, in seconds, between attempts to reach the relay.",
    )
    tunnel_idle_stop: int = setting(
        "CLD_TUNNEL_IDLE_STOP",
        "0",
        "Seconds without visitors after which a started tunnel stops; 0 never.",
    )
    tunnel_access_log_size: int = setting(
        "CLD_TUNNEL_ACCESS_LOG_SIZE",
        "500",
        "Visitor connections kept in the tunnel access log.",
    )
    tunnel_busy_poll_us: int = setting(
        "CLD_TUNNEL_BUSY_POLL_US",
        "500",
        "Microseconds the tunnel polls after traffic before it sleeps: lower "
        "latency for a little CPU while visitors are active; 0 is off.",
    )
    tunnel_clock_check: Seconds = setting(
        "CLD_TUNNEL_CLOCK_CHECK",
        "600",
        "Seconds between clock drift measurements against the cloud.",
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
