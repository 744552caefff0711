"""Events the periodic jobs emit, and webhook health for /stats and /healthz."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from bot.core.contact_rules import ContactRules
from bot.core.records import SurveyKind
from bot.core.texts import admin_texts
from bot.settings import Endpoint, WebhookSettings
from bot.usecases.maintenance import expire_surveys
from bot.usecases.webhook_health import endpoint_health, health_json, stats_line
from storage import Database, customers, surveys, webhooks

SECRET = "whsec-0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOOKS = WebhookSettings(
    endpoints=(
        Endpoint(1, "https://a.example/hook", SecretStr(SECRET), frozenset({"survey.expired"})),
        Endpoint(2, "https://b.example/hook", SecretStr(SECRET), frozenset({"answer.scored"})),
    )
)


async def test_an_expired_survey_emits_survey_expired_to_subscribers_only(db: Database) -> None:
    async with db.transaction() as tx:
        customer, _ = await customers.link_chat(tx, "exp-1", 42, "en", NOW)
        survey = await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, NOW)
        await surveys.mark_send_started(tx, survey.id, NOW)
        await surveys.mark_sent(tx, survey.id, 42, 7, NOW)
    rules = ContactRules(default_tz=ZoneInfo("UTC"), expiry=timedelta(hours=72))
    closed = await expire_surveys(db, rules, "Acme", NOW + timedelta(hours=73), webhooks=HOOKS)
    assert closed == 1
    async with db.read() as tx:
        due = await webhooks.due(tx, NOW + timedelta(days=5), 10)
    assert [(d.event_type, d.endpoint_url) for d in due] == [
        ("survey.expired", "https://a.example/hook")
    ]
    body = json.loads(due[0].body)
    assert body["data"]["survey"]["status"] == "expired"
    assert body["data"]["customer"]["id"] == "exp-1" and body["data"]["answer"] is None


async def test_health_lists_every_endpoint_and_flags_failing_ones(db: Database) -> None:
    async with db.transaction() as tx:
        await webhooks.enqueue(
            tx, "evt_1", "survey.expired", {"x": 1}, ["https://a.example/hook"], NOW
        )
        (delivery,) = await webhooks.due(tx, NOW, 10)
        await webhooks.mark_failed(tx, delivery.id, 410, "HTTP 410", NOW)
    async with db.read() as tx:
        healths = await endpoint_health(tx, HOOKS, NOW + timedelta(hours=1))
    assert [h.endpoint_url for h in healths] == ["https://a.example/hook", "https://b.example/hook"]
    rows = health_json(healths)
    assert rows[0]["failing"] is True and rows[0]["failed_last_24h"] == 1
    assert rows[0]["last_error"] == "HTTP 410"
    assert rows[1] == {
        "url": "https://b.example/hook",
        "failing": False,
        "pending": 0,
        "retrying": 0,
        "failed_last_24h": 0,
        "last_error": None,
    }
    line = stats_line(healths, admin_texts("en"))
    assert line.startswith("Webhooks: ⚠️ failing: https://a.example/hook (1 failed/24h")
    assert "b.example" not in line


def test_stats_line_without_endpoints_or_failures() -> None:
    assert stats_line([], admin_texts("en")) == "Webhooks: none configured"
