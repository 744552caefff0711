"""The ops HTTP API (aiohttp, in the bot's event loop). Reference: docs/ops-api.md and the
OpenAPI document served at ``/v1/openapi.json``, generated from the request and response
models (``models.py``, ``openapi.py``), which also validate request bodies.

Probes need no token: ``/livez`` (the process serves), ``/readyz`` (database, migrations,
Bot API reached recently) and ``/healthz`` (details). ``/metrics`` (Prometheus) needs a
token with the ``read`` scope, like every endpoint that shows data.

Every error answer is JSON ``{"error": <code>, "message": <text>}``; 422 adds ``errors``, one
``{"field", "message"}`` per invalid field.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.adapters.ops_api.models import parse_customer, parse_event
from bot.adapters.ops_api.openapi import openapi_document
from bot.core.contact_rules import ContactRules
from bot.core.keyboards import MAX_SURVEY_ID
from bot.core.linking import deep_link, make_payload, read_payload, validate_customer_id
from bot.core.periods import ReportArgumentError
from bot.core.records import Customer
from bot.core.texts import admin_texts
from bot.core.validation import RequiredProperties, ValidationFailed, no_required_properties
from bot.settings import ApiToken, WebhookSettings
from bot.usecases.events import EventConflict, iso, trigger_event
from bot.usecases.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.usecases.metrics import Metrics
from bot.usecases.privacy import erase_external_id
from bot.usecases.webhook_health import endpoint_health, health_json
from storage import SCHEMA_VERSION, Database, answers, customers, privacy, surveys
from storage.migrations import schema_version

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH_DB_TIMEOUT = 2.0
MAX_JSON_DEPTH = 32  # nesting of arrays and objects in a request body


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """A JSON error answer."""
    return web.json_response(
        {"error": code, "message": message, **extra}, status=status, headers=headers
    )


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_fields",
    500: "internal_error",
    503: "unavailable",
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own errors (404, 405, 413...) and crashes as JSON errors."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _STATUS_CODES.get(exc.status, "error")
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow",)}
        return error_response(exc.status, code, exc.reason, headers=headers)
    except Exception:
        log.exception("ops API: %s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "internal error; see the bot's log")


@dataclass
class OpsApi:
    """The API's handlers and what they need."""

    db: Database
    tokens: tuple[ApiToken, ...]
    rules: ContactRules
    clock: Callable[[], datetime]
    link_secret: str
    bot_username: str
    max_body_bytes: int
    wake_dispatcher: Callable[[], None] = lambda: None
    last_success: Callable[[], datetime | None] = lambda: None
    # Properties each event type must carry (the questionnaire's placeholders): else 422.
    required_properties: RequiredProperties = no_required_properties
    retention_days: int | None = None  # NPSBOT_RETENTION_DAYS; None: retention off
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    link_ttl_days: int = 30  # NPSBOT_LINK_TTL_DAYS
    # The bot's metrics (/metrics) and readiness: when the Bot API last answered (a send or
    # getUpdates), and how long ago that may be for the bot to count as ready.
    metrics: Metrics = field(default_factory=Metrics)
    bot_api_reached: Callable[[], datetime | None] = lambda: None
    bot_api_fresh: timedelta = timedelta(minutes=2)
    # GET /v1/themes: the period argument (None: the default) → the JSON body; raises
    # ReportArgumentError for a bad period. None: themes are off (404).
    themes: Callable[[str | None], Awaitable[dict[str, Any]]] | None = None

    def application(self) -> web.Application:
        """The aiohttp application serving the API."""
        app = web.Application(client_max_size=self.max_body_bytes, middlewares=[json_errors])
        app.router.add_post("/v1/events", self.post_event)
        app.router.add_post("/v1/customers", self.post_customer)
        app.router.add_get("/v1/customers/{customer_id}", self.get_customer)
        app.router.add_delete("/v1/customers/{customer_id}", self.delete_customer)
        app.router.add_post("/v1/customers/{customer_id}/relink", self.relink_customer)
        app.router.add_get("/v1/surveys/{survey_id}", self.get_survey)
        app.router.add_get("/v1/themes", self.get_themes)
        app.router.add_get("/v1/openapi.json", self.get_openapi)
        app.router.add_get("/healthz", self.get_health)
        app.router.add_get("/livez", self.get_live)
        app.router.add_get("/readyz", self.get_ready)
        app.router.add_get("/metrics", self.get_metrics)
        return app

    # --- request plumbing -----------------------------------------------------------------

    def _authorize(self, request: web.Request, scope: str) -> web.Response | None:
        """None if the bearer token may use ``scope``; else the 401/403 answer."""
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        presented = presented.strip()
        challenge = {"WWW-Authenticate": 'Bearer realm="npsbot"'}
        if scheme.lower() != "bearer" or not presented:
            return error_response(
                401, "unauthorized", "a bearer token is required", headers=challenge
            )
        given = presented.encode("utf-8", "surrogateescape")
        match: ApiToken | None = None
        # Compare with every token, in constant time each, and never stop early: the
        # answer time must not tell an attacker how much of a token they got right.
        for token in self.tokens:
            if hmac.compare_digest(given, token.secret.get_secret_value().encode()):
                match = token
        if match is None:
            return error_response(401, "unauthorized", "unknown token", headers=challenge)
        if scope not in match.scopes:
            return error_response(403, "forbidden", f"this token lacks the {scope!r} scope")
        return None

    async def _json_body(self, request: web.Request) -> Any:
        """The parsed body; raises the 400/413 answer as an HTTP exception."""
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=self.max_body_bytes, actual_size=length)
        raw = await request.read()  # aiohttp enforces client_max_size for chunked bodies
        try:
            text = raw.decode("utf-8")
            # Checked before parsing: the parser recurses once per level, and a deep
            # enough body (well within the size limit) would exhaust the stack.
            _check_depth(text, MAX_JSON_DEPTH)
            return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _BadJson(str(exc)) from None

    async def _validated(
        self, request: web.Request, scope: str, parse: Callable[[Any], Any]
    ) -> Any:
        denied = self._authorize(request, scope)
        if denied is not None:
            raise _Answer(denied)
        try:
            body = await self._json_body(request)
        except _BadJson as exc:
            raise _Answer(error_response(400, "bad_request", f"malformed JSON: {exc}")) from None
        try:
            return parse(body)
        except ValidationFailed as exc:
            raise _Answer(
                error_response(
                    422,
                    "invalid_fields",
                    "some fields are invalid",
                    errors=[e.as_json() for e in exc.errors],
                )
            ) from None

    # --- endpoints ------------------------------------------------------------------------

    async def post_event(self, request: web.Request) -> web.Response:
        """Record a service event and queue (or skip) its survey."""
        now = self.clock()
        try:
            event = await self._validated(
                request, "events", lambda b: parse_event(b, now, self.required_properties)
            )
            outcome = await trigger_event(self.db, event, self.rules, now)
        except _Answer as answer:
            return answer.response
        except EventConflict as exc:
            return error_response(409, "conflict", str(exc))
        if outcome.outcome == "queued" and outcome.send_at is not None and outcome.send_at <= now:
            self.wake_dispatcher()
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return web.json_response(outcome.as_json(), status=202, headers=headers)

    async def post_customer(self, request: web.Request) -> web.Response:
        """Create or update a customer; answer with their signed deep link."""
        now = self.clock()
        try:
            customer_id, properties = await self._validated(request, "customers", parse_customer)
        except _Answer as answer:
            return answer.response
        async with self.db.transaction() as tx:
            created = await customers.get_by_external_id(tx, customer_id) is None
            customer = await customers.upsert(tx, customer_id, now, properties)
        log.info("customer #%s %s via the API", customer.id, "created" if created else "updated")
        # A link is a bearer credential: once the customer is linked, none is handed out
        # again (it could only be refused, or be leaked). Moving them is a relink.
        fresh = customer.chat_id is None
        body = {
            "customer_id": customer.external_id,
            "created": created,
            "deep_link": self._link(customer.external_id, now) if fresh else None,
            "link_expires_at": iso(self._link_expiry(now)) if fresh else None,
            "linked": customer.chat_id is not None,
            "opted_out": customer.opted_out,
            "blocked": customer.blocked,
            "properties": customer.attributes,
        }
        return web.json_response(body, status=201 if created else 200)

    def _link(self, customer_id: str, now: datetime) -> str:
        return deep_link(self.bot_username, self.link_secret, customer_id, now)

    def _link_expiry(self, now: datetime) -> datetime:
        # Links expire counted from the start of the hour they were minted in.
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(days=self.link_ttl_days)

    def _customer_in_path(self, request: web.Request, scope: str) -> str | web.Response:
        """The ``{customer_id}`` of a customer route, canonical; or the answer that refuses
        the request (401/403 for the token, 404 for an id no customer can have)."""
        denied = self._authorize(request, scope)
        if denied is not None:
            return denied
        try:
            return validate_customer_id(request.match_info["customer_id"])
        except ValueError:
            return error_response(404, "not_found", "no such customer")

    async def get_customer(self, request: web.Request) -> web.Response:
        """A customer's link state, with the link attempts that were refused."""
        customer_id = self._customer_in_path(request, "read")
        if isinstance(customer_id, web.Response):
            return customer_id
        async with self.db.read() as tx:
            customer = await customers.get_by_external_id(tx, customer_id)
            if customer is None:
                return error_response(404, "not_found", "no such customer")
            pending = await customers.relink_key(tx, customer.id) is not None
            count, last = await customers.link_refusals(tx, customer.id)
        body = {
            "customer_id": customer.external_id,
            "linked": customer.chat_id is not None,
            "linked_at": iso(customer.linked_at) if customer.chat_id is not None else None,
            "relink_pending": pending,
            "opted_out": customer.opted_out,
            "blocked": customer.blocked,
            "properties": customer.attributes,
            "link_refusals": {
                "count": count,
                "last": [{"at": iso(at), "reason": reason} for at, reason in last],
            },
        }
        return web.json_response(body)

    async def relink_customer(self, request: web.Request) -> web.Response:
        """Mint the one link that may move the customer to another chat (a new phone)."""
        customer_id = self._customer_in_path(request, "customers")
        if isinstance(customer_id, web.Response):
            return customer_id
        now = self.clock()
        result = await relink(self.db, self.link_secret, self.bot_username, customer_id, now)
        if result is None:
            return error_response(404, "not_found", "no such customer")
        customer, link = result
        log.info("customer #%s: relink minted via the API", customer.id)
        body = {
            "customer_id": customer.external_id,
            "deep_link": link,
            "link_expires_at": iso(self._link_expiry(now)),
            "linked": customer.chat_id is not None,
        }
        return web.json_response(body)

    async def delete_customer(self, request: web.Request) -> web.Response:
        """Erase a customer's personal data (a request that reached the company by another
        channel); answer with what was erased, rows per table."""
        customer_id = self._customer_in_path(request, "erase")
        if isinstance(customer_id, web.Response):
            return customer_id
        result = await erase_external_id(self.db, customer_id, self.clock(), "api")
        if result is None:
            return error_response(404, "not_found", "no such customer (or already erased)")
        body = {
            "customer_id": customer_id,
            "erased": True,
            "erased_at": iso(result.erased_at),
            "counts": result.counts,
            "total": result.total,
        }
        return web.json_response(body)

    async def get_survey(self, request: web.Request) -> web.Response:
        """A survey's status and answer."""
        denied = self._authorize(request, "read")
        if denied is not None:
            return denied
        raw = request.match_info["survey_id"]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_SURVEY_ID:
            return error_response(404, "not_found", "no such survey")
        async with self.db.read() as tx:
            found = await surveys.get_with_customer(tx, int(raw))
            answer = await answers.get_for_survey(tx, int(raw)) if found else None
            reminded = await surveys.reminded_at(tx, int(raw)) if found else None
        if found is None:
            return error_response(404, "not_found", "no such survey")
        survey, customer = found
        body = {
            "survey_id": survey.id,
            "customer_id": customer.external_id,
            "kind": survey.kind.value,
            "event_type": survey.event_type,
            "event_id": survey.event_id,
            "status": survey.status.value,
            "reason": survey.status_reason,
            "send_at": iso(survey.send_at),
            "sent_at": iso(survey.sent_at),
            "reminded_at": iso(reminded),
            "answered_at": iso(survey.answered_at),
            "closed_at": iso(survey.closed_at),
            "properties": survey.attributes,
            "answer": None
            if answer is None
            else {
                "score": answer.score,
                "category": answer.category,
                "reason": answer.reason,
                "scored_at": iso(answer.scored_at),
                "completed_at": iso(answer.completed_at),
                # The driver ids the customer picked; null when the survey had no drivers
                # step (or the customer was erased).
                "drivers": list(answer.drivers) if answer.drivers is not None else None,
            },
        }
        return web.json_response(body)

    async def get_themes(self, request: web.Request) -> web.Response:
        """The comment themes of a period: each theme's NPS, interval, impact and change."""
        denied = self._authorize(request, "read")
        if denied is not None:
            return denied
        if self.themes is None:
            return error_response(404, "not_found", "comment themes are off (NPSBOT_THEMES)")
        try:
            body = await self.themes(request.query.get("period"))
        except ReportArgumentError as exc:
            return error_response(
                422,
                "invalid_fields",
                "some fields are invalid",
                errors=[{"field": "period", "message": admin_texts("en").error(exc)}],
            )
        return web.json_response(body)

    async def get_openapi(self, request: web.Request) -> web.Response:
        """The OpenAPI document (no token needed: it holds no data)."""
        return web.json_response(openapi_document())

    async def get_health(self, request: web.Request) -> web.Response:
        """Healthy or not, for probes without a token; with a token of the ``read`` scope,
        the details: database, queue depth, last successful send, webhooks, retention.
        The details are behind the token because they describe the company's setup."""
        detailed = "Authorization" in request.headers
        if detailed:
            denied = self._authorize(request, "read")
            if denied is not None:
                return denied
        now = self.clock()
        try:
            async with asyncio.timeout(HEALTH_DB_TIMEOUT):
                async with self.db.read() as tx:
                    pending, due = await surveys.queue_depth(tx, now)
                    last_db = await surveys.last_sent_at(tx)
                    retention = await privacy.last_run(tx, "retention")
                    hooks = await endpoint_health(tx, self.webhooks, now)
        except Exception as exc:  # any failure to read means "not healthy"
            log.warning("health check: database unavailable: %s", type(exc).__name__)
            if not detailed:
                return web.json_response({"status": "unavailable"}, status=503)
            failed: dict[str, Any] = {
                "status": "unavailable",
                "database": "unreachable",
                "queue": None,
                "last_successful_send": iso(self.last_success()),
            }
            return web.json_response(failed, status=503)
        if not detailed:
            return web.json_response({"status": "ok"})
        candidates = [t for t in (last_db, self.last_success()) if t is not None]
        body: dict[str, Any] = {
            "status": "ok",
            "database": "ok",
            "queue": {"pending": pending, "due": due},
            "last_successful_send": iso(max(candidates)) if candidates else None,
        }
        if hooks:
            body["webhooks"] = health_json(hooks)
        if self.retention_days is not None:
            body["retention"] = {
                "days": self.retention_days,
                "last_run": iso(retention.started_at) if retention else None,
                "anonymised": retention.total if retention else None,
            }
        return web.json_response(body)

    async def get_live(self, request: web.Request) -> web.Response:
        """Liveness: the process serves HTTP (no token, no database: for restart probes)."""
        return web.json_response({"status": "ok"})

    async def get_ready(self, request: web.Request) -> web.Response:
        """Readiness: the database answers, its migrations are done, and the Bot API answered
        within ``bot_api_fresh`` (no token: for probes). 503 names what is not ready."""
        now = self.clock()
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(HEALTH_DB_TIMEOUT):
                async with self.db.read() as tx:
                    version = await schema_version(tx)
            checks["database"] = "ok"
            checks["migrations"] = (
                "ok" if version == SCHEMA_VERSION else f"at {version}, expected {SCHEMA_VERSION}"
            )
        except Exception as exc:  # any failure to read means "not ready"
            log.warning("readiness: database unavailable: %s", exc)
            checks["database"] = "unreachable"
            checks["migrations"] = "unknown"
        reached = self.bot_api_reached()
        if reached is None:
            checks["bot_api"] = "not reached yet"
        elif now - reached > self.bot_api_fresh:
            checks["bot_api"] = f"last reached {iso(reached)}"
        else:
            checks["bot_api"] = "ok"
        ready = all(v == "ok" for v in checks.values())
        body = {"status": "ok" if ready else "unavailable", "checks": checks}
        return web.json_response(body, status=200 if ready else 503)

    async def get_metrics(self, request: web.Request) -> web.Response:
        """Prometheus text format; needs a token with the ``read`` scope."""
        denied = self._authorize(request, "read")
        if denied is not None:
            return denied
        body = await self.metrics.scrape(self.db)
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})


async def relink(
    db: Database, secret: str, bot_username: str, customer_id: str, now: datetime
) -> tuple[Customer, str] | None:
    """Mint a fresh single-use deep link that may move ``customer_id`` to another chat
    (the only link that may while they are linked; an earlier relink's link stops working).
    None if there is no such customer. Used by the API and by ``npsbot relink``."""
    payload = make_payload(secret, customer_id, now)
    key = read_payload(secret, payload).key
    async with db.transaction() as tx:
        customer = await customers.get_by_external_id(tx, customer_id)
        if customer is None:
            return None
        await customers.set_relink_key(tx, customer.id, key, now)
    return customer, f"https://t.me/{bot_username}?start={payload}"


def _check_depth(text: str, limit: int) -> None:
    """ValueError if arrays and objects in the JSON ``text`` nest deeper than ``limit``.
    One pass over the text, no recursion; brackets inside strings do not count."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                raise ValueError(f"nested deeper than {limit} levels")
        elif ch in "]}":
            depth -= 1


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members; ValueError on a repeated key, which parsers resolve
    differently (first or last wins), so the sender's intent is unclear."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _BadJson(Exception):
    pass


class _Answer(Exception):
    """Carries a finished error answer out of request parsing."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def start_api(api: OpsApi, host: str, port: int) -> web.AppRunner:
    """Serve ``api`` on host:port in the running loop; clean up the returned runner to stop."""
    runner = web.AppRunner(api.application(), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("ops API listening on http://%s:%d", host, port)
    return runner
