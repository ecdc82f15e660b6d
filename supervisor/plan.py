"""Which children process mode runs, in which order, with which settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from supervisor.probes import GrpcProbe, HttpProbe, Probe, TcpProbe

SERVICES = ("registration", "inventory", "updater", "tunnel", "ui")
CHILDREN = ("mosquitto", "cloud", "relay", *SERVICES)

# The broker accepts anonymous clients, so it stays on loopback whatever
# address the dashboard and the emulator are asked to listen on.
MQTT_HOST = "127.0.0.1"

# Children of one stage start together, once the stages before them are ready.
BROKER_STAGE, CLOUD_STAGE, SERVICE_STAGE = 0, 1, 2


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    run_dir: Path
    host: str = "127.0.0.1"
    ui_port: int = 8080
    cloud_port: int = 8800
    relay_port: int = 8801
    relay_public_port: int = 8802
    mqtt_port: int = 1883
    metrics_port_base: int = 9461
    only: tuple[str, ...] = CHILDREN

    @property
    def state_dir(self) -> Path:
        """The services' durable state."""

        return self.run_dir / "state"

    @property
    def runtime_dir(self) -> Path:
        """The services' gRPC sockets."""

        return self.run_dir / "runtime"

    @property
    def logs_dir(self) -> Path:
        """One log file per child."""

        return self.run_dir / "logs"

    @property
    def mosquitto_dir(self) -> Path:
        """The broker's config and persistence database."""

        return self.run_dir / "mosquitto"

    @property
    def cloud_dir(self) -> Path:
        """The emulator's durable state."""

        return self.run_dir / "cloud"

    @property
    def relay_dir(self) -> Path:
        """The relay's durable state and its development certificate."""

        return self.run_dir / "relay"

    @property
    def relay_metrics_port(self) -> int:
        """The relay's /metrics port, after the services'; 0 when off."""

        if self.metrics_port_base == 0:
            return 0

        return self.metrics_port_base + len(SERVICES)

    @property
    def users_file(self) -> Path:
        """The dashboard's local accounts."""

        return self.state_dir / "ui" / "users.json"

    @property
    def api_clients_file(self) -> Path:
        """Provisioning Manager's API clients."""

        return self.state_dir / "ui" / "api-clients.json"

    @property
    def api_login_file(self) -> Path:
        """The generated API client's password, kept to print on later runs."""

        return self.run_dir / "api-client-login.txt"

    @property
    def status_file(self) -> Path:
        """The supervisor's view of its children, for tests and tools."""

        return self.run_dir / "supervisor.json"

    @property
    def login_file(self) -> Path:
        """The generated dashboard password, kept to print on later runs."""

        return self.run_dir / "dashboard-login.txt"

    def metrics_port(self, service: str) -> int:
        """The /metrics port of ``service``; 0 (off) when the base is 0."""

        if self.metrics_port_base == 0:
            return 0

        return self.metrics_port_base + SERVICES.index(service)


@dataclass(frozen=True)
class ChildSpec:
    """One child: how to start it and how to tell it is ready."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(hash=False)
    probe: Probe
    stage: int
    log_file: Path
    cwd: Path
    # Runs from the release the updater switched to, when there is one.
    follows_release: bool = False


@dataclass(frozen=True)
class Listener:
    """A TCP port a child will listen on, and the option that chose it."""

    option: str
    what: str
    host: str
    port: int


def netloc(host: str, port: int) -> str:
    """``host:port`` as URLs and bind addresses write it."""

    if ":" in host:
        return f"[{host}]:{port}"

    return f"{host}:{port}"


def cloud_url(options: Options) -> str:
    """The emulator's base URL, for browsers and services alike."""

    return f"http://{netloc(options.host, options.cloud_port)}"


def relay_url(options: Options) -> str:
    """The shape of a tunnel's public URL; browsers resolve *.localhost."""

    return f"http://<tunnel>.eu.relay.localhost:{options.relay_public_port}"


def dashboard_url(options: Options) -> str:
    """The dashboard's URL."""

    return f"http://{netloc(options.host, options.ui_port)}/cld/"


def urls(options: Options) -> dict[str, str]:
    """The URLs of the children that run, by what they reach."""

    found: dict[str, str] = {}

    if "mosquitto" in options.only:
        found["mqtt"] = f"mqtt://{netloc(MQTT_HOST, options.mqtt_port)}"

    if "cloud" in options.only:
        found["cloud"] = cloud_url(options)
        found["cloud_admin"] = f"{cloud_url(options)}/admin"

    if "relay" in options.only:
        found["relay"] = relay_url(options)

    if "ui" in options.only:
        found["dashboard"] = dashboard_url(options)

    for service in SERVICES:
        port = options.metrics_port(service)

        if service in options.only and port:
            found[f"{service}_metrics"] = f"http://{netloc(options.host, port)}/metrics"

    if "relay" in options.only and options.relay_metrics_port:
        where = netloc(options.host, options.relay_metrics_port)
        found["relay_metrics"] = f"http://{where}/metrics"

    return found


def listeners(options: Options) -> list[Listener]:
    """Every TCP port the children that run will listen on."""

    found: list[Listener] = []

    if "mosquitto" in options.only:
        found.append(
            Listener("--mqtt-port", "MQTT broker", MQTT_HOST, options.mqtt_port)
        )

    if "cloud" in options.only:
        found.append(
            Listener("--cloud-port", "cloud emulator", options.host, options.cloud_port)
        )

    if "relay" in options.only:
        found.append(
            Listener(
                "--relay-port", "relay (daemons)", options.host, options.relay_port
            )
        )
        found.append(
            Listener(
                "--relay-public-port",
                "relay (visitors)",
                options.host,
                options.relay_public_port,
            )
        )

        if options.relay_metrics_port:
            found.append(
                Listener(
                    "--metrics-port-base",
                    f"relay metrics, base+{len(SERVICES)}",
                    options.host,
                    options.relay_metrics_port,
                )
            )

    if "ui" in options.only:
        found.append(Listener("--ui-port", "dashboard", options.host, options.ui_port))

    for service in SERVICES:
        port = options.metrics_port(service)

        if service in options.only and port:
            what = f"{service} metrics, base+{SERVICES.index(service)}"
            found.append(Listener("--metrics-port-base", what, options.host, port))

    return found


def clashes(found: list[Listener]) -> list[str]:
    """Messages for any two listeners given the same port."""

    problems: list[str] = []
    seen: dict[int, Listener] = {}

    for listener in found:
        earlier = seen.setdefault(listener.port, listener)

        if earlier is not listener:
            problems.append(
                f"port {listener.port} is chosen for both the {earlier.what} "
                f"({earlier.option}) and the {listener.what} ({listener.option})"
            )

    return problems


def build(
    options: Options, *, python: str, mosquitto: str, source_dir: Path
) -> list[ChildSpec]:
    """The children to run, in start order.

    ``source_dir`` holds the ``cloud`` and ``services`` packages; children run
    there so ``python -m`` finds them even without an installed checkout.
    """

    logs = options.logs_dir
    specs: list[ChildSpec] = []

    # Output goes to a file, and block buffering would hold a crashing child's
    # last lines back from the tail the supervisor logs.
    unbuffered = {"PYTHONUNBUFFERED": "1"}

    if "mosquitto" in options.only:
        specs.append(
            ChildSpec(
                name="mosquitto",
                argv=(mosquitto, "-c", str(options.mosquitto_dir / "mosquitto.conf")),
                env={},
                probe=TcpProbe(MQTT_HOST, options.mqtt_port),
                stage=BROKER_STAGE,
                log_file=logs / "mosquitto.log",
                cwd=options.mosquitto_dir,
            )
        )

    if "cloud" in options.only:
        specs.append(
            ChildSpec(
                name="cloud",
                argv=(python, "-m", "cloud"),
                env={
                    **unbuffered,
                    "CLD_CLOUD_BIND": netloc(options.host, options.cloud_port),
                    "CLD_CLOUD_PUBLIC_URL": cloud_url(options),
                    "CLD_CLOUD_STATE_DIR": str(options.cloud_dir),
                    # The admin page's remote-access links go to this relay.
                    "CLD_CLOUD_RELAY_URL": (
                        "http://{label}.eu.relay.localhost:"
                        f"{options.relay_public_port}"
                    ),
                },
                probe=HttpProbe(f"{cloud_url(options)}/health"),
                stage=CLOUD_STAGE,
                log_file=logs / "cloud.log",
                cwd=source_dir,
            )
        )

    if "relay" in options.only:
        metrics = options.relay_metrics_port
        specs.append(
            ChildSpec(
                name="relay",
                argv=(python, "-m", "cloud.relay"),
                env={
                    **unbuffered,
                    "CLD_RELAY_DAEMON_BIND": netloc(options.host, options.relay_port),
                    "CLD_RELAY_PUBLIC_BIND": netloc(
                        options.host, options.relay_public_port
                    ),
                    "CLD_RELAY_CLOUD_URL": cloud_url(options),
                    "CLD_RELAY_STATE_DIR": str(options.relay_dir),
                    "CLD_RELAY_METRICS_BIND": (
                        netloc(options.host, metrics) if metrics else ""
                    ),
                },
                probe=TcpProbe(options.host, options.relay_port),
                stage=CLOUD_STAGE,
                log_file=logs / "relay.log",
                cwd=source_dir,
            )
        )

    shared = {
        **unbuffered,
        "CLD_STATE_DIR": str(options.state_dir),
        "CLD_RUNTIME_DIR": str(options.runtime_dir),
        "CLD_MQTT_HOST": MQTT_HOST,
        "CLD_MQTT_PORT": str(options.mqtt_port),
        "CLD_CLOUD_URL": cloud_url(options),
        "CLD_METRICS_HOST": options.host,
        "CLD_TUNNEL_RELAY": netloc(options.host, options.relay_port),
        # The relay of process mode makes its own certificate at first start.
        "CLD_TUNNEL_RELAY_CA_FILE": str(options.relay_dir / "relay-cert.pem"),
        # `make release` signs development releases with a key of its own.
        "CLD_UPDATER_EXTRA_KEYS_FILE": str(
            source_dir / ".run" / "release" / "release-keys.json"
        ),
        **{
            f"CLD_{service.upper()}_METRICS_PORT": str(options.metrics_port(service))
            for service in SERVICES
        },
    }

    for service in SERVICES:
        if service not in options.only:
            continue

        env = dict(shared)
        probe: Probe = GrpcProbe(options.runtime_dir, service)

        if service == "ui":
            env["CLD_UI_BIND"] = netloc(options.host, options.ui_port)
            env["CLD_UI_SECURE_COOKIES"] = "false"
            env["CLD_UI_USERS_FILE"] = str(options.users_file)
            env["CLD_UI_API_CLIENTS_FILE"] = str(options.api_clients_file)
            probe = HttpProbe(
                f"http://{netloc(options.host, options.ui_port)}/cld/healthz"
            )

        specs.append(
            ChildSpec(
                name=service,
                argv=(python, "-m", f"services.{service}"),
                env=env,
                probe=probe,
                stage=SERVICE_STAGE,
                log_file=logs / f"{service}.log",
                cwd=source_dir,
                follows_release=True,
            )
        )

    return specs
