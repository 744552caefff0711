"""The ops HTTP API in-process: every endpoint, every error status, idempotency, and every
answer checked against the OpenAPI document."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from pydantic import SecretStr
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from bot.adapters.ops_api.api import OpsApi, openapi_document
from bot.core.linking import read_payload
from bot.settings import ApiToken
from bot.usecases.events import iso
from storage import Database, customers, surveys
from tests.ops.conftest import SECRET, rules_for
from tests.support.clock import Clock

FULL = "full-access-token-0123456789abcdef"
READ_ONLY = "read-only-token-0123456789abcdefgh"
MAX_BODY = 2048
DOC = openapi_document()
# OpenAPI 3.1 schemas are JSON Schema 2020-12; the document is registered as one resource
# so that "#/components/schemas/..." references resolve.
REGISTRY: Registry[Any] = Registry().with_resource("urn:doc", DRAFT202012.create_resource(DOC))


def check_against_openapi(method: str, template: str, status: int, body: Any) -> None:
    """The answer is documented for this operation and status, and matches its schema."""
    operation = DOC["paths"][template][method.lower()]
    assert str(status) in operation["responses"], f"{method} {template} {status} undocumented"
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:doc#/'))
    Draft202012Validator(rooted, registry=REGISTRY).validate(body)


class Api:
    """A test client that checks each answer against the OpenAPI document."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        template: str | None = None,
        *,
        token: str | None = FULL,
        body: Any = None,
        raw: bytes | None = None,
        expect: int,
    ) -> tuple[Any, aiohttp.ClientResponse]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        response = await self.client.request(method, path, data=data, headers=headers)
        payload = await response.json()
        assert response.status == expect, payload
        check_against_openapi(method, template or path, response.status, payload)
        return payload, response


@pytest.fixture
async def api(db: Database, clock: Clock) -> AsyncIterator[Api]:
    ops = OpsApi(
        db=db,
        tokens=(
            ApiToken(SecretStr(FULL), frozenset({"events", "customers", "read"})),
            ApiToken(SecretStr(READ_ONLY), frozenset({"read"})),
        ),
        rules=rules_for(),
        clock=clock,
        link_secret=SECRET,
        bot_username="nps_test_bot",
        max_body_bytes=MAX_BODY,
    )
    async with TestClient(TestServer(ops.application())) as client:
        yield Api(client)


async def link(db: Database, customer_id: str, clock: Clock) -> None:
    async with db.transaction() as tx:
        await customers.link_chat(tx, customer_id, 7001, "en", clock())


async def test_post_customer_creates_then_updates_and_returns_a_signed_link(api: Api) -> None:
    body = {"customer_id": "cust-1", "properties": {"segment": "smb", "timezone": "Europe/Berlin"}}
    created, _ = await api.call("POST", "/v1/customers", body=body, expect=201)
    assert created["created"] and not created["linked"]
    payload = created["deep_link"].split("?start=")[1]
    assert read_payload(SECRET, payload).customer_id == "cust-1"
    update = {"customer_id": "cust-1", "properties": {"plan": "pro"}}
    updated, _ = await api.call("POST", "/v1/customers", body=update, expect=200)
    assert updated["properties"] == {"segment": "smb", "timezone": "Europe/Berlin", "plan": "pro"}


async def test_a_link_expires_after_the_ttl_and_a_linked_customer_gets_no_new_link(
    api: Api, db: Database, clock: Clock
) -> None:
    created, _ = await api.call("POST", "/v1/customers", body={"customer_id": "c-l"}, expect=201)
    minted = read_payload(SECRET, created["deep_link"].split("?start=")[1])
    hour = clock().replace(minute=0, second=0, microsecond=0)
    assert minted.issued_at == hour
    assert created["link_expires_at"] == iso(hour + timedelta(days=30))
    await link(db, "c-l", clock)
    again, _ = await api.call("POST", "/v1/customers", body={"customer_id": "c-l"}, expect=200)
    assert again["linked"] and again["deep_link"] is None and again["link_expires_at"] is None


async def test_relink_mints_the_one_link_that_may_move_the_customer(
    api: Api, db: Database, clock: Clock
) -> None:
    await link(db, "c-r", clock)
    first, _ = await api.call(
        "POST", "/v1/customers/c-r/relink", "/v1/customers/{customer_id}/relink", expect=200
    )
    second, _ = await api.call(
        "POST", "/v1/customers/c-r/relink", "/v1/customers/{customer_id}/relink", expect=200
    )
    assert first["linked"] and second["customer_id"] == "c-r"
    newest = read_payload(SECRET, second["deep_link"].split("?start=")[1])
    async with db.read() as tx:
        customer = await customers.get_by_external_id(tx, "c-r")
        assert customer is not None
        assert await customers.relink_key(tx, customer.id) == newest.key  # only the latest
    status, _ = await api.call(
        "GET", "/v1/customers/c-r", "/v1/customers/{customer_id}", token=READ_ONLY, expect=200
    )
    assert status["relink_pending"] and status["linked"]
    assert status["link_refusals"] == {"count": 0, "last": []}
    await api.call(
        "POST", "/v1/customers/nobody/relink", "/v1/customers/{customer_id}/relink", expect=404
    )
    await api.call(
        "POST",
        "/v1/customers/c-r/relink",
        "/v1/customers/{customer_id}/relink",
        token=READ_ONLY,
        expect=403,
    )


async def test_get_customer_shows_refused_link_attempts(
    api: Api, db: Database, clock: Clock
) -> None:
    await link(db, "c-g", clock)
    async with db.transaction() as tx:
        customer = await customers.get_by_external_id(tx, "c-g")
        assert customer is not None
        await customers.record_link_refusal(tx, customer.id, "linked_elsewhere", clock())
        await customers.record_link_refusal(tx, customer.id, "used", clock())
    status, _ = await api.call(
        "GET", "/v1/customers/c-g", "/v1/customers/{customer_id}", token=READ_ONLY, expect=200
    )
    assert status["link_refusals"]["count"] == 2
    assert [r["reason"] for r in status["link_refusals"]["last"]] == ["used", "linked_elsewhere"]
    assert not status["relink_pending"]
    await api.call("GET", "/v1/customers/none", "/v1/customers/{customer_id}", expect=404)
    await api.call(
        "GET", "/v1/customers/c-g", "/v1/customers/{customer_id}", token=None, expect=401
    )


async def test_post_event_queues_and_get_survey_reports_it(
    api: Api, db: Database, clock: Clock
) -> None:
    await link(db, "cust-2", clock)
    body = {
        "customer_id": "cust-2",
        "event_type": "delivery",
        "event_id": "ord-1",
        "occurred_at": "2024-06-03T11:00:00Z",
        "properties": {"region": "north"},
        "delay_seconds": 7200,
    }
    outcome, response = await api.call("POST", "/v1/events", body=body, expect=202)
    assert outcome["outcome"] == "queued" and outcome["reason"] is None
    assert outcome["send_at"] == "2024-06-03T13:00:00.000000Z"  # 2 h after it occurred
    assert "Idempotent-Replayed" not in response.headers
    survey, _ = await api.call(
        "GET", f"/v1/surveys/{outcome['survey_id']}", "/v1/surveys/{survey_id}", expect=200
    )
    assert survey["status"] == "pending" and survey["answer"] is None
    assert (survey["customer_id"], survey["kind"], survey["event_id"]) == (
        "cust-2",
        "transactional",
        "ord-1",
    )
    assert survey["properties"] == {"region": "north"}


async def test_the_same_event_twice_gets_the_same_answer_and_one_survey(
    api: Api, db: Database, clock: Clock
) -> None:
    await link(db, "cust-3", clock)
    body = {"customer_id": "cust-3", "event_type": "delivery", "event_id": "ord-2"}
    first, _ = await api.call("POST", "/v1/events", body=body, expect=202)
    clock.advance(minutes=1)
    second, response = await api.call("POST", "/v1/events", body=body, expect=202)
    assert first == second
    assert response.headers["Idempotent-Replayed"] == "true"
    async with db.read() as tx:
        assert sum((await surveys.count_by_status(tx)).values()) == 1
    conflict = {**body, "customer_id": "someone-else"}
    error, _ = await api.call("POST", "/v1/events", body=conflict, expect=409)
    assert error["error"] == "conflict"


async def test_an_event_for_an_unlinked_customer_is_skipped_with_the_reason(api: Api) -> None:
    body = {"customer_id": "nobody", "event_type": "delivery", "event_id": "ord-3"}
    outcome, _ = await api.call("POST", "/v1/events", body=body, expect=202)
    assert (outcome["outcome"], outcome["reason"], outcome["send_at"]) == (
        "skipped",
        "not_linked",
        None,
    )


async def test_an_answered_survey_shows_its_answer(api: Api, db: Database, clock: Clock) -> None:
    from storage import answers

    await link(db, "cust-4", clock)
    body = {"customer_id": "cust-4", "event_type": "delivery", "event_id": "ord-4"}
    outcome, _ = await api.call("POST", "/v1/events", body=body, expect=202)
    async with db.transaction() as tx:
        await surveys.mark_sent(tx, outcome["survey_id"], 7001, 55, clock())
        await surveys.mark_answered(tx, outcome["survey_id"], clock())
        await answers.record_score(tx, outcome["survey_id"], 3, "detractor", clock())
    survey, _ = await api.call(
        "GET", f"/v1/surveys/{outcome['survey_id']}", "/v1/surveys/{survey_id}", expect=200
    )
    assert survey["status"] == "answered"
    assert (survey["answer"]["score"], survey["answer"]["category"]) == (3, "detractor")
    assert survey["answer"]["drivers"] is None  # no drivers step

    async with db.transaction() as tx:
        await answers.start_drivers(tx, outcome["survey_id"])
        await answers.finish_drivers(tx, outcome["survey_id"], ["price", "speed"], 56, clock())
    survey, _ = await api.call(
        "GET", f"/v1/surveys/{outcome['survey_id']}", "/v1/surveys/{survey_id}", expect=200
    )
    assert survey["answer"]["drivers"] == ["price", "speed"]


async def test_health_and_openapi_need_no_token(api: Api, db: Database, clock: Clock) -> None:
    await link(db, "cust-5", clock)
    body = {"customer_id": "cust-5", "event_type": "delivery", "event_id": "ord-5"}
    await api.call("POST", "/v1/events", body=body, expect=202)
    # Without a token, a probe learns only that the bot is healthy.
    health, _ = await api.call("GET", "/healthz", token=None, expect=200)
    assert health == {"status": "ok"}
    await api.call("GET", "/healthz", token="not-a-token-0123456789abcdef", expect=401)
    health, _ = await api.call("GET", "/healthz", expect=200)
    assert health == {
        "status": "ok",
        "database": "ok",
        "queue": {"pending": 1, "due": 1},
        "last_successful_send": None,
    }
    document, _ = await api.call("GET", "/v1/openapi.json", token=None, expect=200)
    assert document == DOC


async def test_health_is_503_when_the_database_cannot_be_read(api: Api, db: Database) -> None:
    await db.close()
    health, _ = await api.call("GET", "/healthz", token=None, expect=503)
    assert health == {"status": "unavailable"}
    health, _ = await api.call("GET", "/healthz", expect=503)
    assert (health["status"], health["database"], health["queue"]) == (
        "unavailable",
        "unreachable",
        None,
    )


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/v1/events", "/v1/events"),
        ("POST", "/v1/customers", "/v1/customers"),
        ("GET", "/v1/surveys/1", "/v1/surveys/{survey_id}"),
    ],
)
async def test_401_without_a_token_or_with_an_unknown_one(
    api: Api, method: str, path: str, template: str
) -> None:
    _, response = await api.call(method, path, template, token=None, expect=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    await api.call(method, path, template, token=FULL[:-1] + "X", expect=401)
    await api.call(method, path, template, token=FULL + "X", expect=401)


async def test_403_for_a_token_without_the_scope(api: Api) -> None:
    body = {"customer_id": "c", "event_type": "delivery", "event_id": "e"}
    error, _ = await api.call("POST", "/v1/events", body=body, token=READ_ONLY, expect=403)
    assert "events" in error["message"]
    await api.call("POST", "/v1/customers", body={"customer_id": "c"}, token=READ_ONLY, expect=403)
    await api.call("GET", "/v1/surveys/1", "/v1/surveys/{survey_id}", token=READ_ONLY, expect=404)


async def test_404_for_unknown_or_malformed_survey_ids(api: Api) -> None:
    for survey_id in ("999", "0x1", "-1", "99999999999999999999", "١"):
        await api.call("GET", f"/v1/surveys/{survey_id}", "/v1/surveys/{survey_id}", expect=404)


async def test_413_for_a_body_over_the_limit(api: Api, db: Database) -> None:
    big = {"customer_id": "c", "properties": {"note": "x" * MAX_BODY}}
    error, _ = await api.call("POST", "/v1/customers", body=big, expect=413)
    assert error["error"] == "payload_too_large"
    async with db.read() as tx:
        assert await customers.get_by_external_id(tx, "c") is None


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"customer_id": NaN}', b"\xff\xfe", b""])
async def test_400_for_malformed_json(api: Api, raw: bytes) -> None:
    error, _ = await api.call("POST", "/v1/events", raw=raw, expect=400)
    assert error["error"] == "bad_request"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 1000 + b"]" * 1000, "nested deeper than 32"),  # would exhaust the parser
        (b'{"p": ' + b"[" * 32 + b"]" * 32 + b"}", "nested deeper than 32"),
        (b'{"customer_id": "a", "customer_id": "b"}', "duplicate key 'customer_id'"),
        (b'{"properties": {"plan": 1, "plan": 2}}', "duplicate key 'plan'"),
    ],
)
async def test_400_for_deep_nesting_and_duplicate_keys(api: Api, raw: bytes, message: str) -> None:
    error, _ = await api.call("POST", "/v1/customers", raw=raw, expect=400)
    assert error["error"] == "bad_request" and message in error["message"]


async def test_nesting_within_the_limit_and_brackets_in_strings_are_parsed(api: Api) -> None:
    # 32 levels (the body's object and 31 arrays) parse, and fail validation instead.
    raw = b'{"customer_id": "c", "properties": {"p": ' + b"[" * 30 + b"]" * 30 + b"}}"
    await api.call("POST", "/v1/customers", raw=raw, expect=422)
    body = {"customer_id": "c", "properties": {"note": "[{" * 40 + '\\"'}}
    await api.call("POST", "/v1/customers", body=body, expect=201)


async def test_422_lists_every_invalid_field_and_why(api: Api, db: Database) -> None:
    body = {
        "customer_id": " padded",
        "event_type": "has space",
        "event_id": "relationship:forged",
        "occurred_at": "yesterday",
        "properties": {"1bad": "x", "timezone": "Mars/Base", "nested": {"a": 1}},
        "kind": "weekly",
        "delay_seconds": 5,
        "send_at": "2024-06-04T10:00:00Z",
        "colour": "red",
    }
    error, _ = await api.call("POST", "/v1/events", body=body, expect=422)
    fields = {e["field"] for e in error["errors"]}
    assert fields == {
        "customer_id",
        "event_type",
        "event_id",
        "occurred_at",
        "properties.1bad",
        "properties.timezone",
        "properties.nested",
        "kind",
        "send_at",
        "colour",
    }
    assert all(e["message"] for e in error["errors"])
    missing, _ = await api.call("POST", "/v1/events", body={}, expect=422)
    assert {e["field"] for e in missing["errors"]} == {"customer_id", "event_type", "event_id"}
    await api.call("POST", "/v1/events", body=[1, 2], expect=422)
    await api.call("POST", "/v1/customers", body={"properties": "x"}, expect=422)
    async with db.read() as tx:
        assert sum((await surveys.count_by_status(tx)).values()) == 0


async def test_unknown_routes_and_methods_answer_json(api: Api) -> None:
    response = await api.client.get("/v1/nothing")
    assert response.status == 404 and (await response.json())["error"] == "not_found"
    response = await api.client.delete("/v1/events")
    assert response.status == 405 and (await response.json())["error"] == "method_not_allowed"


def test_every_served_route_is_documented_and_vice_versa(db: Database) -> None:
    ops = OpsApi(
        db=db,
        tokens=(),
        rules=rules_for(),
        clock=Clock.__call__,  # type: ignore[arg-type]
        link_secret=SECRET,
        bot_username="b_bot",
        max_body_bytes=MAX_BODY,
    )
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in ops.application().router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(m, p) for p, ops_ in DOC["paths"].items() for m in ops_}
    assert served == documented
    Draft202012Validator.check_schema(DOC["components"]["schemas"]["EventRequest"])


def test_the_openapi_check_rejects_answers_that_drift_from_the_document() -> None:
    from jsonschema import ValidationError

    good = {"survey_id": 1, "event_id": "e", "outcome": "queued", "reason": None, "send_at": None}
    check_against_openapi("POST", "/v1/events", 202, good)
    with pytest.raises(ValidationError):
        check_against_openapi("POST", "/v1/events", 202, {**good, "extra": 1})
    with pytest.raises(ValidationError):
        check_against_openapi("POST", "/v1/events", 202, {**good, "reason": "because"})
    with pytest.raises(AssertionError):
        check_against_openapi("POST", "/v1/events", 418, good)


async def test_look_alike_customer_ids_are_refused_and_nfd_twins_are_one_customer(
    api: Api,
) -> None:
    for spoof in ("cust\u202e1", "cust\u200b1", "\ufeffcust1", "cust\ufdd01"):
        body = {"customer_id": spoof}
        refused, _ = await api.call("POST", "/v1/customers", body=body, expect=422)
        assert refused["errors"][0]["field"] == "customer_id", spoof
        event = {"customer_id": spoof, "event_type": "delivery", "event_id": "o-spoof"}
        await api.call("POST", "/v1/events", body=event, expect=422)
    created, _ = await api.call(
        "POST", "/v1/customers", body={"customer_id": "cafe\u0301"}, expect=201
    )
    assert created["customer_id"] == "caf\u00e9"
    await api.call("POST", "/v1/customers", body={"customer_id": "caf\u00e9"}, expect=200)


async def test_the_api_logs_internal_numbers_only(
    api: Api, db: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = {"customer_id": "crm-77-Ophelia", "properties": {"plan": "pro"}}
    await api.call("POST", "/v1/customers", body=body, expect=201)
    await link(db, "crm-77-Ophelia", clock)
    event = {"customer_id": "crm-77-Ophelia", "event_type": "delivery", "event_id": "ORD-9931"}
    await api.call("POST", "/v1/events", body=event, expect=202)
    assert "customer #1" in caplog.text
    assert "crm-77" not in caplog.text and "ORD-9931" not in caplog.text
