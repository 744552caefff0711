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
from bot.settings.webhooks import redact_text, redact_url
from bot.usecases.maintenance import expire_surveys
from bot.usecases.webhook_health import endpoint_health, health_json, stats_line
from storage import Database, customers, surveys, webhooks
from storage.webhooks import EndpointHealth

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
        "url": "https://b.example",
        "failing": False,
        "pending": 0,
        "retrying": 0,
        "failed_last_24h": 0,
        "last_error": None,
    }
    line = stats_line(healths, admin_texts("en"))
    assert line.startswith("Webhooks: ⚠️ failing: https://a.example (1 failed/24h")
    assert "b.example" not in line


def test_stats_line_without_endpoints_or_failures() -> None:
    assert stats_line([], admin_texts("en")) == "Webhooks: none configured"


def test_endpoint_urls_are_shown_by_host_only() -> None:
    url = "https://user:pa55word@hooks.example:8443/p4th-s3cret?token=qu3ry-s3cret"
    health = EndpointHealth(url, pending=0, failed_recently=2, retrying=1, last_error=None)
    failing = EndpointHealth(
        url, pending=0, failed_recently=2, retrying=1, last_error=f"InvalidURL: {url}"
    )
    (row,) = health_json([failing])
    assert row["url"] == "https://hooks.example:8443"
    assert row["last_error"] == "InvalidURL: https://hooks.example:8443"
    line = stats_line([health, failing], admin_texts("en"))
    assert "https://hooks.example:8443 (2 failed/24h" in line
    for secret in ("user", "pa55word", "p4th-s3cret", "qu3ry-s3cret"):
        assert secret not in json.dumps(row) and secret not in line
    assert redact_url("http://[::1]:9/x?y") == "http://[::1]:9"
    assert redact_url("https://h:notaport/x") == "(invalid URL)"
    # A bare secret part of the URL (an error quoting only the query) is removed too.
    assert redact_text("bad query token=qu3ry-s3cret", url) == "bad query ***"
