"""/livez, /readyz and /metrics of the ops API, in-process on the fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.adapters.ops_api.api import OpsApi
from bot.core.records import SurveyKind
from bot.settings import ApiToken
from bot.usecases.metrics import Metrics
from storage import SCHEMA_VERSION, Database, customers, digests, surveys
from tests.ops.conftest import SECRET, rules_for
from tests.ops.test_api import FULL, READ_ONLY, check_against_openapi
from tests.support.clock import Clock

EVENTS_ONLY = "events-only-token-0123456789abcdef"


class Probe:
    """The API with a settable "Bot API last answered" time."""

    def __init__(self) -> None:
        self.reached: datetime | None = None


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def client(
    db: Database, clock: Clock[datetime], probe: Probe
) -> AsyncIterator[TestClient[Any, Any]]:
    ops = OpsApi(
        db=db,
        tokens=(
            ApiToken(SecretStr(FULL), frozenset({"events", "customers", "read"})),
            ApiToken(SecretStr(READ_ONLY), frozenset({"read"})),
            ApiToken(SecretStr(EVENTS_ONLY), frozenset({"events"})),
        ),
        rules=rules_for(),
        clock=clock,
        link_secret=SECRET,
        bot_username="nps_test_bot",
        max_body_bytes=4096,
        metrics=Metrics(),
        bot_api_reached=lambda: probe.reached,
        bot_api_fresh=timedelta(minutes=2),
    )
    async with TestClient(TestServer(ops.application())) as test_client:
        yield test_client


async def get_json(client: TestClient[Any, Any], path: str, expect: int) -> Any:
    response = await client.get(path)
    body = await response.json()
    assert response.status == expect, body
    check_against_openapi("GET", path, response.status, body)
    return body


async def test_livez_answers_without_a_token(client: TestClient[Any, Any]) -> None:
    assert await get_json(client, "/livez", 200) == {"status": "ok"}


async def test_readyz_waits_for_the_bot_api_and_turns_stale(
    client: TestClient[Any, Any], clock: Clock[datetime], probe: Probe
) -> None:
    body = await get_json(client, "/readyz", 503)
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "bot_api": "not reached yet",
    }
    probe.reached = clock()
    assert (await get_json(client, "/readyz", 200))["status"] == "ok"
    clock.advance(minutes=3)
    body = await get_json(client, "/readyz", 503)
    assert body["checks"]["bot_api"].startswith("last reached ")


async def test_readyz_reports_missing_migrations_and_an_unreachable_database(
    client: TestClient[Any, Any], db: Database, clock: Clock[datetime], probe: Probe
) -> None:
    probe.reached = clock()
    async with db.transaction() as tx:
        if db.target.engine == "sqlite":
            await tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        else:
            await tx.execute(f"UPDATE npsbot_schema SET version = {SCHEMA_VERSION - 1}")
    body = await get_json(client, "/readyz", 503)
    assert body["checks"]["migrations"] == f"at {SCHEMA_VERSION - 1}, expected {SCHEMA_VERSION}"
    await db.close()
    body = await get_json(client, "/readyz", 503)
    assert body["checks"]["database"] == "unreachable"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_need_a_token_with_the_read_scope(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/metrics")).status == 401
    forbidden = await client.get("/metrics", headers={"Authorization": f"Bearer {EVENTS_ONLY}"})
    assert forbidden.status == 403
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {READ_ONLY}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")


async def test_metrics_read_queues_and_totals_from_the_database(
    client: TestClient[Any, Any], db: Database, clock: Clock[datetime]
) -> None:
    async with db.transaction() as tx:
        customer = await customers.upsert(tx, "c-1", clock(), {})
        await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, clock())
        await digests.claim(tx, clock().date(), clock())
        await digests.mark_sent(tx, clock().date(), 1, clock())
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {READ_ONLY}"})
    found = samples(await response.text())
    assert found[("npsbot_queue_depth", (("queue", "pending_surveys"),))] == 1
    assert found[("npsbot_queue_depth", (("queue", "outbox"),))] == 0
    assert found[("npsbot_queue_depth", (("queue", "webhook_deliveries"),))] == 0
    assert found[("npsbot_surveys_total", (("state", "sent"),))] == 0
    assert found[("npsbot_digests_sent_total", ())] == 1


def test_bot_api_results_are_labelled_by_their_class() -> None:
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    from bot.adapters.telegram.sender import result_label

    assert result_label(None) == "ok"
    assert result_label(RetryAfter(3)) == "429"
    assert result_label(Forbidden("blocked")) == "4xx"
    assert result_label(BadRequest("chat not found")) == "4xx"
    assert result_label(NetworkError("Bad Gateway")) == "5xx"
    assert result_label(NetworkError("aiohttp.ClientConnectorError: refused")) == "network"
    assert result_label(TimedOut()) == "network"
