"""The OpenAPI 3.1 document served at ``/v1/openapi.json``, built from the pydantic models
in ``models.py`` (components/schemas) and the operation table below (paths). Nothing about
a body is written here: its schema is the model's ``model_json_schema``."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.adapters.ops_api import models as m
from bot.core.keyboards import MAX_SURVEY_ID

REF = "#/components/schemas/{model}"
JSON = "application/json"

INFO = {
    "title": "npsbot ops API",
    "version": "1.0.0",
    "description": "Drive NPS surveys from the systems where service happens. Served by the "
    "bot process on 127.0.0.1 by default. See docs/ops-api.md.",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from NPSBOT_API_TOKENS; scopes `events`, `customers`, `read` "
        "(all by default); `erase` only when listed explicitly.",
    }
}

Schema = type[BaseModel] | dict[str, Any] | None
Answer = tuple[str, Schema]  # description, body schema (None: no JSON body)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _unauthorized(scope: str) -> dict[str, Answer]:
    return {
        "401": ("No bearer token, or an unknown one.", m.Error),
        "403": (f"The token lacks the `{scope}` scope.", m.Error),
    }


def _body_errors() -> dict[str, Answer]:
    return {
        "400": ("Malformed JSON.", m.Error),
        "413": ("The body is larger than NPSBOT_API_MAX_BODY_BYTES.", m.Error),
    }


def _customer_id_parameter(*, full: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if full:
        # The id's rule as in the request bodies (an id it refuses is 404 here anyway).
        schema = m.CustomerRequest.model_json_schema(ref_template=REF)["properties"]["customer_id"]
        schema = {k: v for k, v in schema.items() if k not in ("description", "title")}
    return {
        "name": "customer_id",
        "in": "path",
        "required": True,
        "schema": schema,
        "description": "The company's own customer id (URL-encoded).",
    }


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    method: str
    path: str
    operation_id: str
    summary: str
    responses: dict[str, Answer]
    description: str | None = None
    request: type[BaseModel] | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    security: list[dict[str, list[str]]] | None = None  # None: the document's default
    headers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"operationId": self.operation_id, "summary": self.summary}
        if self.description:
            result["description"] = self.description
        if self.security is not None:
            result["security"] = self.security
        if self.parameters:
            result["parameters"] = self.parameters
        if self.request is not None:
            content = {JSON: {"schema": _ref(self.request)}}
            result["requestBody"] = {"required": True, "content": content}
        responses: dict[str, Any] = {}
        for status, (description, schema) in self.responses.items():
            answer: dict[str, Any] = {"description": description}
            if isinstance(schema, type):
                answer["content"] = {JSON: {"schema": _ref(schema)}}
            elif schema is not None:
                answer["content"] = schema
            if status in self.headers:
                answer["headers"] = self.headers[status]
            responses[status] = answer
        result["responses"] = responses
        return result


HEALTH = {JSON: {"schema": {"oneOf": [_ref(m.HealthStatus), _ref(m.Health)]}}}

OPERATIONS = (
    Operation(
        "post",
        "/v1/events",
        "postEvent",
        "Report a service event; queue (or skip) its survey",
        description="Needs the `events` scope. `event_id` is the idempotency key: the same id "
        "again answers exactly as the first time (with `Idempotent-Replayed: true`) and "
        "changes nothing.",
        request=m.EventRequest,
        responses={
            "202": ("Accepted: what happened to the event.", m.EventOutcome),
            **_body_errors(),
            **_unauthorized("events"),
            "409": (
                "The event id was already used for another customer or event type.",
                m.Error,
            ),
            "422": (
                "Invalid fields, each listed with the reason. An event type that declares "
                "required properties in the questionnaire (NPSBOT_QUESTIONNAIRE) gets one "
                'error per missing or empty property, with field "properties.<name>".',
                m.InvalidFields,
            ),
        },
        headers={
            "202": {
                "Idempotent-Replayed": {
                    "description": "`true` when this event id was seen before and the first "
                    "answer is repeated.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        },
    ),
    Operation(
        "post",
        "/v1/customers",
        "upsertCustomer",
        "Create or update a customer; get their signed deep link while they are not linked",
        description="Needs the `customers` scope. Properties are merged into the stored ones "
        "key by key (`null` stores null). The deep link works once and expires; it is `null` "
        "for a customer who is already linked (see `POST /v1/customers/{customer_id}/relink`).",
        request=m.CustomerRequest,
        responses={
            "200": ("Updated.", m.Customer),
            "201": ("Created.", m.Customer),
            **_body_errors(),
            **_unauthorized("customers"),
            "422": ("Invalid fields, each listed with the reason.", m.InvalidFields),
        },
    ),
    Operation(
        "get",
        "/v1/customers/{customer_id}",
        "getCustomer",
        "A customer's link state and refused link attempts",
        description="Needs the `read` scope.",
        parameters=[_customer_id_parameter(full=False)],
        responses={
            "200": ("The customer.", m.CustomerStatus),
            **_unauthorized("read"),
            "404": ("No such customer.", m.Error),
        },
    ),
    Operation(
        "delete",
        "/v1/customers/{customer_id}",
        "eraseCustomer",
        "Erase a customer's personal data; answer with what was erased",
        description="Needs the `erase` scope, which a token has only when it is listed "
        "explicitly (`token:erase`). In one transaction: the customer's id is replaced by a "
        "random token, their chat, language, attributes, survey attribute snapshots, event "
        "ids, reasons and drivers are erased, messages and webhook deliveries about them are "
        "deleted or blanked. Scores, categories, kinds, event types and dates stay, so past "
        "NPS figures do not change. The customer is never surveyed again unless they open a "
        "new link (which creates a fresh customer). A second request for the same id is 404.",
        parameters=[_customer_id_parameter(full=True)],
        responses={
            "200": ("Erased: rows changed or deleted per table.", m.Erasure),
            **_unauthorized("erase"),
            "404": ("No such customer (or already erased).", m.Error),
        },
    ),
    Operation(
        "post",
        "/v1/customers/{customer_id}/relink",
        "relinkCustomer",
        "Mint the single-use link that moves a customer to another chat (a new phone)",
        description="Needs the `customers` scope. No body. The link works once, until "
        "`link_expires_at`; the chat that opens it becomes the customer's chat, and the chat "
        "they were linked to is told. Only the latest relink's link can move a linked "
        "customer.",
        parameters=[_customer_id_parameter(full=False)],
        responses={
            "200": ("A fresh relink link.", m.Relink),
            **_unauthorized("customers"),
            "404": ("No such customer.", m.Error),
        },
    ),
    Operation(
        "get",
        "/v1/surveys/{survey_id}",
        "getSurvey",
        "A survey's status and answer",
        description="Needs the `read` scope.",
        parameters=[
            {
                "name": "survey_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SURVEY_ID},
            }
        ],
        responses={
            "200": ("The survey.", m.Survey),
            **_unauthorized("read"),
            "404": ("No such survey.", m.Error),
        },
    ),
    Operation(
        "get",
        "/v1/themes",
        "getThemes",
        "The comment themes of a period",
        description="Needs the `read` scope. Each theme found in customers' comments (a "
        "questionnaire driver's theme, or an emerging one named by its key words) with the "
        "answers carrying it, their NPS and 95% interval, its impact (the NPS of all answers "
        "minus the NPS of the answers without the theme) and its change against the period "
        "before, with the noise test.",
        parameters=[
            {
                "name": "period",
                "in": "query",
                "required": False,
                "description": "today, yesterday, Nd (last N days, default 30d), YYYY-MM-DD "
                "or YYYY-MM-DD..YYYY-MM-DD, in the bot's time zone.",
                "schema": {"type": "string"},
            }
        ],
        responses={
            "200": ("The themes, most answers first.", m.Themes),
            **_unauthorized("read"),
            "404": ("Comment themes are off (`NPSBOT_THEMES=off`).", m.Error),
            "422": ("The period cannot be read.", m.Error),
        },
    ),
    Operation(
        "get",
        "/v1/openapi.json",
        "openapi",
        "This document",
        security=[],
        responses={"200": ("The OpenAPI document.", {JSON: {"schema": {"type": "object"}}})},
    ),
    Operation(
        "get",
        "/healthz",
        "health",
        "Healthy or not; with a `read` token, the details",
        description='Without a token: only `{"status": "ok"}` (200) or '
        '`{"status": "unavailable"}` (503), for probes. With a bearer token of the `read` '
        "scope: database, queue depth, last successful send, webhook endpoints (host only) "
        "and retention. A token that is unknown or lacks `read` gets 401/403.",
        security=[{}, {"bearer": []}],
        responses={
            "200": ("Healthy.", HEALTH),
            "503": ("The database cannot be read.", HEALTH),
            "401": ("An unknown token.", m.Error),
            "403": ("The token lacks the `read` scope.", m.Error),
        },
    ),
    Operation(
        "get",
        "/livez",
        "liveness",
        "The process serves HTTP (for restart probes)",
        security=[],
        responses={"200": ("Alive.", m.Liveness)},
    ),
    Operation(
        "get",
        "/readyz",
        "readiness",
        "Database reachable, migrations done, Bot API answered recently",
        security=[],
        responses={
            "200": ("Ready.", m.Readiness),
            "503": ("Not ready; checks says which part.", m.Readiness),
        },
    ),
    Operation(
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics (text exposition format); token with the read scope",
        responses={
            "200": ("Metrics.", {"text/plain": {"schema": {"type": "string"}}}),
            **_unauthorized("read"),
        },
    ),
)


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for operation in OPERATIONS:
        candidates = [operation.request, *(schema for _, schema in operation.responses.values())]
        for candidate in candidates:
            if isinstance(candidate, type) and candidate not in found:
                found.append(candidate)
    for extra in (m.HealthStatus, m.Health):
        if extra not in found:
            found.append(extra)
    return found


@cache
def _document() -> dict[str, Any]:
    _, top = models_json_schema([(model, "validation") for model in _models()], ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = operation.as_json()
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "http://127.0.0.1:8088"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": schemas},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())
