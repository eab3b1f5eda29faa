"""`recon web`: the lookup service under uvicorn, on a socket bound here so that a busy port or
a bad host is one clear error (exit 2) instead of a server that logs and dies."""

from __future__ import annotations

import ipaddress
import socket
import sys

from transforms.config import Config
from transforms.errors import UsageError

from .app import DEFAULT_RATE, create_app
from .audit import audit_dir
from .tokens import TokenStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750


def listen(host: str, port: int) -> socket.socket:
    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port}: expected a port number 1-65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(
            f"--host {host}: not an address of this machine ({exc.strerror})"
        ) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
            "another server may hold the port: choose another --port"
        ) from None
    sock.listen(128)
    return sock


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def serve(config: Config, host: str, port: int, rate_per_minute: int = DEFAULT_RATE) -> None:
    """Serve until interrupted."""
    import uvicorn

    if rate_per_minute < 0:
        raise UsageError(f"--rate-limit {rate_per_minute}: expected 0 (no limit) or more")
    sock = listen(host, port)
    app = create_app(config, rate_per_minute)
    where = f"http://{host}:{port}/" if ":" not in host else f"http://[{host}]:{port}/"
    print(f"recon web: {where} (API: {where}api/v1/trace?key=KEY)", flush=True)
    print(f"lookups are audited in {audit_dir(config.data_dir)}/", flush=True)
    if TokenStore(config.data_dir).count() == 0:
        print(
            f"warning: no tokens yet; create one with `recon web-token add NAME --role "
            f"service --config {config.path}`",
            file=sys.stderr,
        )
    if not loopback(host):
        print(
            f"warning: --host {host} is reachable from other machines and this server speaks "
            "plain HTTP: tokens and borrower data cross the network unencrypted; put it behind "
            "a TLS proxy",
            file=sys.stderr,
        )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    server.run(sockets=[sock])
