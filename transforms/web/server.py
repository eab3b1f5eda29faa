"""`recon web`: the lookup service under uvicorn, on a socket bound here so that a busy port or
a bad host is one clear error (exit 2) instead of a server that logs and dies."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import tempfile
from pathlib import Path

from transforms.config import Config
from transforms.errors import UsageError

from .app import DEFAULT_RATE, create_app
from .audit import audit_dir
from .ratelimit import SharedRateLimiter
from .tokens import TokenStore

MAX_WORKERS = 64
WORKER_ENV = "RECON_WEB_WORKER"
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


def serve(
    config: Config, host: str, port: int, rate_per_minute: int = DEFAULT_RATE, workers: int = 1
) -> None:
    """Serve until interrupted, in `workers` processes (each with its own held files; one
    rate limit per token across them)."""
    import uvicorn

    if rate_per_minute < 0:
        raise UsageError(f"--rate-limit {rate_per_minute}: expected 0 (no limit) or more")
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"--workers {workers}: expected 1-{MAX_WORKERS} processes")
    sock = listen(host, port)
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
    options = dict(log_level="warning", access_log=False, lifespan="on")
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(config, rate_per_minute), **options))
        server.run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    with tempfile.TemporaryDirectory(prefix="recon-web-") as folder:
        limit = os.path.join(folder, "ratelimit")
        SharedRateLimiter.create(limit)
        os.environ.update(
            {WORKER_ENV: json.dumps([str(config.path), rate_per_minute, limit])}
        )  # read by worker_app in each spawned process
        app = f"{__name__}:worker_app"
        Multiprocess(
            uvicorn.Config(app, factory=True, workers=workers, **options), sockets=[sock]
        ).run()


def worker_app():
    """The app of one `--workers` process (uvicorn spawns it and calls this)."""
    from transforms.config import load_config

    path, rate, limit = json.loads(os.environ[WORKER_ENV])
    return create_app(load_config(Path(path)), rate, shared_limit=limit)
