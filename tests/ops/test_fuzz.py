"""The ops API fuzzed by schemathesis against its own OpenAPI document: the real aiohttp
application on 127.0.0.1, a valid token with every scope, bounded examples per operation
and every check (no 5xx, documented status codes, content types, headers and response
schemas, invalid data refused, valid data accepted)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr

from bot.adapters.ops_api.api import OpsApi, openapi_document, start_api
from bot.core.linking import validate_customer_id
from bot.core.validation import FieldError, check_property, parse_timestamp
from bot.settings import ApiToken
from storage import Database
from tests.ops.conftest import SECRET, rules_for

TOKEN = "fuzz-token-with-every-scope-0123456789"
DOCUMENT = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
ID_PATTERN = DOCUMENT["components"]["schemas"]["CustomerRequest"]["properties"]["customer_id"][
    "pattern"
]


def _linkable(value: object) -> bool:
    try:
        validate_customer_id(str(value))
    except ValueError:
        return False
    return True


def _refused_beyond_the_schema(body: dict[str, Any]) -> bool:
    """Rules a JSON Schema cannot state, which the document gives in words: an id's byte
    length and characters outside the Basic Multilingual Plane, times relative to the
    bot's clock (occurred_at at most 5 minutes ahead, send_at at most 365 days), years
    2000-9000, and an IANA name for the timezone property."""
    customer_id = body.get("customer_id")
    if (
        isinstance(customer_id, str)
        and re.fullmatch(ID_PATTERN, customer_id)
        and not _linkable(customer_id)
    ):
        return True
    now = datetime.now(UTC)
    limits = {"occurred_at": now, "send_at": now + timedelta(days=365)}
    for name, latest in limits.items():
        errors: list[FieldError] = []
        if isinstance(body.get(name), str):
            moment = parse_timestamp(body[name], name, errors)
            if errors or (moment is not None and moment > latest):
                return True
    properties = body.get("properties")
    if isinstance(properties, dict) and isinstance(properties.get("timezone"), str):
        errors = []
        check_property("timezone", properties["timezone"], "timezone", errors)
        return bool(errors)
    return False


@SCHEMA.hook
def filter_body(context: schemathesis.HookContext, body: Any) -> bool:
    """Drop generated bodies that only rules beyond the schema refuse."""
    return not (isinstance(body, dict) and _refused_beyond_the_schema(body))


@SCHEMA.hook
def filter_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> bool:
    """The same for the customer id in DELETE /v1/customers/{customer_id}."""
    value = path_parameters.get("customer_id") if isinstance(path_parameters, dict) else None
    if isinstance(value, str):
        return re.fullmatch(ID_PATTERN, value) is None or _linkable(value)
    return True


def test_the_id_pattern_agrees_with_the_bot_on_every_bmp_character() -> None:
    # The schema may only refuse what the bot refuses (else valid ids would be "invalid"),
    # and refuses each single character the bot refuses, in the middle and at the ends.
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates cannot be sent as UTF-8
        for candidate in (f"a{chr(code)}b", chr(code)):
            matches = re.fullmatch(ID_PATTERN, candidate) is not None
            assert matches == _linkable(candidate), (hex(code), candidate)


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API served by its own event loop in a thread (schemathesis calls synchronously);
    yields its base URL."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    started: list[str] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve(db_path: Path) -> None:
        db = await Database.open(db_path)
        api = OpsApi(
            db=db,
            tokens=(
                ApiToken(SecretStr(TOKEN), frozenset({"events", "customers", "read", "erase"})),
            ),
            rules=rules_for(),
            clock=lambda: datetime.now(UTC),
            link_secret=SECRET,
            bot_username="nps_fuzz_bot",
            max_body_bytes=65536,
            retention_days=30,
            # A bot whose Bot API answers: /readyz is 200 (its 503 would count as a
            # server error).
            bot_api_reached=lambda: datetime.now(UTC),
        )
        runner = await start_api(api, "127.0.0.1", 0)
        try:
            host, port = runner.addresses[0][:2]
            started.append(f"http://{host}:{port}")
            ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()
            await db.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(path),))
    thread.start()
    try:
        assert ready.wait(10), "the API did not start"
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.mark.slow  # about 10 s: a real server and 40 examples per operation
@SCHEMA.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_conforms_to_its_openapi_document(case: schemathesis.Case, live_api: str) -> None:
    case.call_and_validate(base_url=live_api, headers={"Authorization": f"Bearer {TOKEN}"})
