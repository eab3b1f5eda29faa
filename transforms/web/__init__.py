"""`recon web`: the repayment lookup service for customer service and the service bot
(SPEC §10), a thin HTTP layer over the trace of `recon trace` (`transforms/trace/`): the same
`trace(config, key, date)`, read from the same published lake, no second lookup.

Modules, one job each: `app` the routes, authentication, errors and audit around each
request; `lookup` the key and date checks and the trace's errors as HTTP statuses;
`payload` a trace as the API answers it per role; `sentence` the one sentence for the
borrower; `schema` the answers' shapes for the OpenAPI document; `tokens` the bearer tokens
(`recon web-token`); `audit` the append-only monthly log; `ratelimit` the per-token limit;
`server` uvicorn on a socket of its own; `static/` the agent's page (plain HTML, CSS and
JavaScript, nothing fetched from elsewhere).

Reads never block runs and runs never break reads: the trace reads one published version
per date (a run swaps `current/D` in one rename) and reads again when a date it read was
re-published meanwhile, so an answer is the whole old date or the whole new one.
"""

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
