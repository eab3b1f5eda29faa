"""The lookup service's HTTP layer: routes, bearer authentication, per-token rate limit, audit,
errors as JSON. The lookup itself is `lookup.run_trace` (the trace of `recon trace`); the
answer is `payload.trace_payload`; the page is static files.

| route | who | answers |
|---|---|---|
| `GET /api/v1/trace?key=KEY[&date=D][&view=V]` | any token | the repayments KEY names |
| `GET /api/v1/audit?[month=YYYY-MM][&key=KEY]` | finance | who looked up what, that month |
| `GET /api/v1/openapi.json` | any token | the OpenAPI document |
| `GET /`, `/static/*` | anyone | the agent's page (no data in it: it asks the API with a token) |

Every `/api/` request needs `Authorization: Bearer TOKEN`; every trace and audit request is
audited, refused or not.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from transforms.config import Config
from transforms.duck import connect
from transforms.trace.lake import FileCache

from .audit import AuditLog
from .lookup import ApiError, check_date, check_key, run_trace
from .payload import VIEWS, trace_payload
from .ratelimit import RateLimiter, SharedRateLimiter
from .schema import AuditResponse, ErrorBody, TraceResponse
from .slots import Slots
from .tokens import Principal, TokenStore

STATIC = Path(__file__).parent / "static"
DEFAULT_RATE = 120  # lookups a minute per token
WARM_DAYS = 31  # the dates whose small files the service loads at start (a month of questions)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ERRORS = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "a malformed key, date, month or view"),
        (401, "no valid bearer token"),
        (403, "the token's role may not see this"),
        (404, "the key (or the report date) is nowhere in the published reports"),
        (429, "past the per-token rate limit; Retry-After says when to retry"),
        (503, "nothing published yet, or the dates are being re-published; retry"),
    )
}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
log = logging.getLogger("recon.web")

bearer = HTTPBearer(
    auto_error=False, description="a token of `recon web-token add NAME --role ROLE`"
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
TRACE_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
     "description": text}
    for name, text in (
        ("key", "a platform order_no, a channel_txn_id or a borrower_id"),
        ("date", "report date YYYY-MM-DD (default: the latest published)"),
        ("view", "service | finance (default: the token's role; finance: finance tokens)"),
    )
]  # fmt: skip
MonthParam = Annotated[str | None, Query(description="YYYY-MM (default: this month)")]
AuditKeyParam = Annotated[str | None, Query(description="only the lookups of this key")]


def lookup_slots() -> int:
    """Lookups read at once in one process: 1, or RECON_WEB_SLOTS. A lookup over held files is
    Python work under one interpreter lock, so a second one at a time only adds switching:
    with 20 clients on 2 cores, 1 at a time answered 118 lookups a second, 2 at a time 111,
    4 at a time 94 (2026-12-03). More cores are used by `recon web --workers N`."""
    return int(os.environ.get("RECON_WEB_SLOTS", "0") or 0) or 1


class SecurityHeaders:
    """Plain ASGI middleware: the same headers on every answer, the page's included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names
                ]
            await send(message)

        return await self.app(scope, receive, with_headers)


class Service:
    """What every request shares: the config, one DuckDB database (a cursor per lookup),
    the token store, the audit log and the rate limiter."""

    def __init__(self, config: Config, rate_per_minute: int, burst: int | None, shared_limit=None):
        self.config = config
        # For the files too large to hold (read by DuckDB, pruned by row group): one thread
        # per query, and their Parquet footers cached for the server's life (published
        # files never change: a re-run publishes a new version folder).
        self.con = connect(config.memory_limit, 1)
        self.con.execute("SET parquet_metadata_cache = true")
        self.cache = FileCache()  # the small published files, held in memory between lookups
        self.tokens = TokenStore(config.data_dir)
        self.audit = AuditLog(config.data_dir, config.timezone)
        self.limiter = (
            SharedRateLimiter(shared_limit, rate_per_minute, burst)
            if shared_limit
            else RateLimiter(rate_per_minute, burst)
        )
        self.rate = rate_per_minute
        # At most lookup_slots() lookups read at a time, the others queue in turn
        self.slots = Slots(lookup_slots())

    def authenticate(
        self, credentials: HTTPAuthorizationCredentials | None, entry: dict | None = None
    ) -> Principal:
        """The caller's principal (an ApiError if none); written into the audit `entry`."""
        if credentials is None:
            raise ApiError(
                401,
                "expected an Authorization: Bearer TOKEN header "
                "(tokens: recon web-token add NAME --role service|finance)",
                {"WWW-Authenticate": "Bearer"},
            )
        principal = self.tokens.verify(credentials.credentials)
        if principal is None:
            raise ApiError(
                401,
                "the bearer token is unknown or revoked",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        wait = self.limiter.take(principal.name)
        if wait is not None:
            raise ApiError(
                429,
                f"more than {self.rate} requests a minute for {principal.name}; retry in {wait} s",
                {"Retry-After": str(wait)},
            )
        if entry is not None:
            entry.update(who=principal.name, role=principal.role)
        return principal

    def audited(self, entry: dict, answer):
        """Run `answer()`, append the entry with its outcome, return the response. A lookup
        that cannot be audited is not answered."""
        try:
            response = answer()
        except ApiError as exc:
            entry["status"] = exc.status
            response = error_response(exc.status, exc.code, exc.message, exc.headers)
        except Exception:
            entry["status"] = 500
            self._append(entry)
            raise
        else:
            entry["status"] = response.status_code
        if not self._append(entry):
            return error_response(503, "unavailable", "the audit log cannot be written")
        return response

    def _append(self, entry: dict) -> bool:
        try:
            self.audit.append(entry)
        except OSError as exc:
            log.error("audit log: %s", exc)
            return False
        return True


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit_entry(request: Request, path: str, key: str | None, **asked) -> dict:
    """A request's audit entry before it is answered: who and the outcome are filled in later."""
    return {"who": None, "role": None, "path": path, "key": key, **asked} | {
        "results": 0,
        "status": None,
        "client": client_address(request),
    }


def error_response(status: int, code: str, message: str, headers=None) -> JSONResponse:
    body = {"status": status, "error": code, "message": message}
    return JSONResponse(body, status_code=status, headers=headers or None)


def check_view(view: str | None, principal: Principal) -> str:
    shown = view or principal.role
    if shown not in VIEWS:
        raise ApiError(400, f"view: expected one of {', '.join(VIEWS)}, found {view[:20]!r}")
    if shown == "finance" and principal.role != "finance":
        raise ApiError(
            403,
            f"role {principal.role} may not see the finance view (file lineage and money at "
            "stake); ask for a finance token",
        )
    return shown


def prime(service: Service) -> None:
    """One lookup before the first request (not audited: nobody asked it), so that what a
    lookup first loads (modules imported on first use, pyarrow kernels: half a second) is
    loaded now and not in an agent's lookup."""
    import pandas  # noqa: F401  pyarrow imports it at its first pa.scalar: 0.3 s, in a lookup

    key = service.cache.any_value("order_no")
    if key is None:
        return
    try:
        result = run_trace(service.config, key, None, service.con, service.cache)
        trace_payload(result, "finance")
    except ApiError:
        pass


def create_app(
    config: Config,
    rate_per_minute: int = DEFAULT_RATE,
    burst: int | None = None,
    shared_limit: str | None = None,
) -> FastAPI:
    """The app; `shared_limit`: the rate-limit file of `recon web --workers N`'s processes."""
    service = Service(config, rate_per_minute, burst, shared_limit)

    @asynccontextmanager
    async def lifespan(app):
        started = time.perf_counter()
        loaded = service.cache.warm(config, WARM_DAYS)
        prime(service)
        # What start-up made lives as long as the service: out of the collector's sight, a
        # full collection no longer walks it (one took 66 ms mid-lookup, 2026-12-03)
        gc.collect()
        gc.freeze()
        log.info("held %d files of the last %d dates in %.1f s", loaded, WARM_DAYS,
                 time.perf_counter() - started)  # fmt: skip
        yield
        service.con.close()

    app = FastAPI(
        title="recon lookup service",
        version="1",
        summary="Where is a borrower's repayment? The hops of `recon trace`, over HTTP.",
        description=__doc__,
        openapi_url=None,  # served below, behind a token
        docs_url=None,  # the interactive docs fetch scripts from the internet
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(ApiError)
    async def api_error(request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        code = ApiError.CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        where = "; ".join(
            f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors()
        )
        return error_response(400, "bad_request", where or "malformed request")

    @app.exception_handler(Exception)
    async def internal_error(request, exc: Exception):
        log.exception("lookup service: unexpected error")
        return error_response(500, "internal", "an unexpected error; the server log has it")

    @app.get(
        "/api/v1/trace",
        response_class=JSONResponse,
        responses={200: {"model": TraceResponse}, **ERRORS},
        summary="The hops of the repayment(s) KEY names, with a sentence for the borrower",
        openapi_extra={"parameters": TRACE_PARAMETERS, "security": [{"HTTPBearer": []}]},
    )
    async def trace_route(request: Request):
        # The parameters are read here, not declared to FastAPI: solving declared ones cost
        # 0.45 ms of CPU a request (2026-12-03), a tenth of a lookup. The lookup runs in a
        # worker thread, as a plain `def` route would.
        asked = request.query_params
        key, date, view = asked.get("key"), asked.get("date"), asked.get("view")
        credentials = await bearer(request)
        entry = audit_entry(request, "/api/v1/trace", key, date=date, view=view)

        def answer():
            principal = service.authenticate(credentials, entry)
            entry["view"] = check_view(view, principal)
            wanted, day = check_key(key), check_date(date)
            with service.slots:
                result = run_trace(config, wanted, day, service.con, service.cache)
            payload = trace_payload(result, entry["view"])
            entry.update(results=payload["count"], report_date=payload["report_date"])
            return JSONResponse(payload)

        return await run_in_threadpool(service.audited, entry, answer)

    @app.get(
        "/api/v1/audit",
        response_class=JSONResponse,
        responses={200: {"model": AuditResponse}, **ERRORS},
        summary="Who looked up what in a month (finance tokens only)",
    )
    def audit_route(request: Request, month: MonthParam = None, key: AuditKeyParam = None,
                    credentials: Credentials = None):  # fmt: skip
        entry = audit_entry(request, "/api/v1/audit", key, month=month)

        def answer():
            principal = service.authenticate(credentials, entry)
            if principal.role != "finance":
                raise ApiError(403, f"role {principal.role} may not read the audit log")
            shown = month or service.audit.now().strftime("%Y-%m")
            if not MONTH.fullmatch(shown):
                raise ApiError(400, f"month: expected YYYY-MM, found {shown[:20]!r}")
            wanted = check_key(key) if key is not None else None
            entries = service.audit.read(shown, wanted)
            entry["results"] = len(entries)
            body = {"month": shown, "key": wanted, "count": len(entries), "entries": entries}
            return JSONResponse(body)

        return service.audited(entry, answer)

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi_route(credentials: Credentials = None):
        service.authenticate(credentials)
        return JSONResponse(app.openapi())

    index = (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    def page():
        return HTMLResponse(index)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    return app
