"""The ops HTTP API (aiohttp, in the bot's event loop). Reference: docs/ops-api.md and the
OpenAPI document served at ``/v1/openapi.json`` (``bot/adapters/ops_api/openapi.json``).

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
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web

from bot.core.contact_rules import ContactRules
from bot.core.keyboards import MAX_SURVEY_ID
from bot.core.linking import deep_link, validate_customer_id
from bot.core.validation import (
    RequiredProperties,
    ValidationFailed,
    customer_request,
    event_request,
    no_required_properties,
)
from bot.settings import ApiToken, WebhookSettings
from bot.usecases.events import EventConflict, iso, trigger_event
from bot.usecases.privacy import erase_external_id
from bot.usecases.webhook_health import endpoint_health, health_json
from storage import Database, answers, customers, privacy, surveys

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH_DB_TIMEOUT = 2.0


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document shipped with the package."""
    document_file = resources.files("bot.adapters.ops_api").joinpath("openapi.json")
    text = document_file.read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


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

    def application(self) -> web.Application:
        """The aiohttp application serving the API."""
        app = web.Application(client_max_size=self.max_body_bytes, middlewares=[json_errors])
        app.router.add_post("/v1/events", self.post_event)
        app.router.add_post("/v1/customers", self.post_customer)
        app.router.add_delete("/v1/customers/{customer_id}", self.delete_customer)
        app.router.add_get("/v1/surveys/{survey_id}", self.get_survey)
        app.router.add_get("/v1/openapi.json", self.get_openapi)
        app.router.add_get("/healthz", self.get_health)
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
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
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
                request, "events", lambda b: event_request(b, now, self.required_properties)
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
            customer_id, properties = await self._validated(request, "customers", customer_request)
        except _Answer as answer:
            return answer.response
        async with self.db.transaction() as tx:
            created = await customers.get_by_external_id(tx, customer_id) is None
            customer = await customers.upsert(tx, customer_id, now, properties)
        log.info("customer %s %s via the API", customer_id, "created" if created else "updated")
        body = {
            "customer_id": customer.external_id,
            "created": created,
            "deep_link": deep_link(self.bot_username, self.link_secret, customer.external_id),
            "linked": customer.chat_id is not None,
            "opted_out": customer.opted_out,
            "blocked": customer.blocked,
            "properties": customer.attributes,
        }
        return web.json_response(body, status=201 if created else 200)

    async def delete_customer(self, request: web.Request) -> web.Response:
        """Erase a customer's personal data (a request that reached the company by another
        channel); answer with what was erased, rows per table."""
        denied = self._authorize(request, "erase")
        if denied is not None:
            return denied
        try:
            customer_id = validate_customer_id(request.match_info["customer_id"])
        except ValueError:
            return error_response(404, "not_found", "no such customer")
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

    async def get_openapi(self, request: web.Request) -> web.Response:
        """The OpenAPI document (no token needed: it holds no data)."""
        return web.json_response(openapi_document())

    async def get_health(self, request: web.Request) -> web.Response:
        """Database reachable, queue depth, last successful send (no token: for probes)."""
        now = self.clock()
        try:
            async with asyncio.timeout(HEALTH_DB_TIMEOUT):
                async with self.db.read() as tx:
                    pending, due = await surveys.queue_depth(tx, now)
                    last_db = await surveys.last_sent_at(tx)
                    retention = await privacy.last_run(tx, "retention")
                    hooks = await endpoint_health(tx, self.webhooks, now)
        except Exception as exc:  # any failure to read means "not healthy"
            log.warning("health check: database unavailable: %s", exc)
            failed: dict[str, Any] = {
                "status": "unavailable",
                "database": "unreachable",
                "queue": None,
                "last_successful_send": iso(self.last_success()),
            }
            return web.json_response(failed, status=503)
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
