"""With NPSBOT_ADMIN_LANGUAGE=zh no admin-facing output shows an English label.

Each output is rendered the way the bot renders it, from answers stored in a real database
(the golden digest's data set): the alert cards and their buttons, /nps, /stats, the
export caption, the digest and its caption, the chart's labels, every usage line, the
refusals and the relay's texts. An ASCII word of three letters or more is English unless
it is data (company, customer ids, event types, attribute values, customers' words), a
product or protocol name (NPS, CSV, Telegram), command syntax, or an HTML tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import astuple
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.adapters.telegram.handlers.admin import _nps_work
from bot.core.periods import parse_report_args, period_label
from bot.core.texts import TextError, admin_texts, en, fields
from bot.reports.alert_text import compose_alert_messages
from bot.reports.digest import chart_labels, compose_digest
from bot.reports.stats_text import privacy_line, stats_text, webhooks_line
from bot.usecases.alerts import alert_callback
from bot.usecases.digests import gather_digest_data
from storage import Database, alerts, digests, reports, surveys
from storage.webhooks import EndpointHealth
from tests.admin.test_digest_golden import ANSWERS, DAY, build, settings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZH = admin_texts("zh")

#: Words that are not English labels: names, formats, command syntax and the test's data.
ALLOWED = {
    "NPS", "CSV", "JSON", "UTF", "Telegram", "NPSBOT_ADMIN_CHAT_IDS", "YYYY",
    "csv", "xlsx", "Excel", "weeks", "months",
    "today", "yesterday", "event", "kind", "transactional", "relationship", "episode",
    "Acme", "Sons", "Europe", "Berlin", "plan", "delivery", "support", "basic", "pro",
    "Alex", "called", "http", "https", "hooks", "example", "com", "timeout",
}  # fmt: skip
for *_, reason in ANSWERS:
    ALLOWED.update(re.findall(r"[A-Za-z]+", reason or ""))

_TAG = re.compile(r"</?[a-z]+>|&[a-z]+;")  # HTML tags and entities
_COMMAND = re.compile(r"/[a-z_]+")
_WORD = re.compile(r"[A-Za-z_]{3,}")


def english_words(text: str) -> set[str]:
    """ASCII words of three letters or more that are not allowed tokens (tags, entities and
    /commands removed first)."""
    text = _COMMAND.sub(" ", _TAG.sub(" ", text))
    return {w for w in _WORD.findall(text) if w not in ALLOWED and not w.startswith("NPSBOT_")}


def assert_chinese(outputs: Iterable[str]) -> None:
    found = {text: words for text in outputs if (words := english_words(text))}
    assert found == {}, "English words in admin output"


def test_the_check_finds_an_english_label() -> None:
    assert english_words("<b>NPS +50</b> · Promoters 7 · 推荐者 c1 Acme") == {"Promoters"}
    assert english_words("用法：/resolve <提醒编号>") == set()


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared database fixture, filled with the stored data every output is built from."""
    await build(db, settings().admin.cutoffs)  # type: ignore[attr-defined]
    return db


async def test_digest_caption_and_chart_labels_are_chinese(db: Database) -> None:
    # Non-standard cut-offs, so the digest's note about them is rendered too.
    s: Any = settings(ADMIN_LANGUAGE="zh", PROMOTER_MIN="8", PASSIVE_MIN="6")
    async with db.read() as tx:
        data = await gather_digest_data(tx, s, DAY)
    digest = compose_digest(data, s.admin_language)
    labels = chart_labels(s.company_name, DAY, s.admin_language)
    assert "推荐者" in digest.text and "当天" in digest.caption
    assert_chinese([digest.text, digest.caption, *astuple(labels)])


async def test_nps_report_is_chinese_with_kinds_events_and_no_value_groups(db: Database) -> None:
    s: Any = settings(ADMIN_LANGUAGE="zh", PROMOTER_MIN="8", PASSIVE_MIN="6")
    svc = cast(Any, SimpleNamespace(settings=s, catalog=None))
    outputs = []
    async with db.read() as tx:
        for args in (["30d"], ["2026-11-22"], ["7d", "kind=relationship"], ["2026-11-01"]):
            outputs += await _nps_work(svc, tx, args, NOW)
    assert "最近 30 天" in outputs[0] and "交易型" in outputs[0]
    assert_chinese(outputs)


async def test_alert_cards_and_buttons_are_chinese(db: Database) -> None:
    async with db.read() as tx:
        # The data set raises two alerts: c3 (score 3, resolved by Alex) and c5 (score 0).
        views = await alerts.get_many(tx, [1, 2])
    assert [v.customer_ref for v in views] == ["c3", "c5"] and views[0].resolved_at
    tz = settings().timezone  # type: ignore[attr-defined]
    single = compose_alert_messages([(views[0], {"score"})], tz, ZH, alert_callback)
    both = [(view, {"score", "reason"}) for view in views]
    batch = compose_alert_messages(both, tz, ZH, alert_callback)
    outputs = []
    for text, keyboard in [*single, *batch]:
        outputs.append(text)
        outputs += [button["text"] for row in keyboard["inline_keyboard"] for button in row]
    assert "贬损者" in outputs[0]
    assert_chinese(outputs)


async def test_stats_is_chinese(db: Database) -> None:
    s: Any = settings(ADMIN_LANGUAGE="zh")
    async with db.transaction() as tx:
        await digests.record_baseline(tx, DAY, NOW)
    async with db.read() as tx:
        by_status = await surveys.count_by_status(tx)
        health = await reports.delivery_health(tx)
        last = await digests.last_day(tx)
    limiter = SimpleNamespace(rate=29.5, configured_rate=30.0)
    sender = SimpleNamespace(last_success=NOW, rate_limited=2, limiter=limiter)
    failing = EndpointHealth("https://hooks.example.com/nps", 3, 4, 1, "timeout")
    outputs = [
        stats_text(ZH, s.timezone, by_status, health, last, sender, SimpleNamespace(sent=7)),
        stats_text(ZH, s.timezone, {}, health, None, sender, None),
        privacy_line(ZH, None, None, 0, s.timezone),
        privacy_line(ZH, 90, None, 1, s.timezone),
        privacy_line(ZH, 90, (NOW, 12), 1, s.timezone),
        webhooks_line(ZH, [], []),
        webhooks_line(ZH, [failing], []),
        webhooks_line(ZH, [failing], [failing]),
    ]
    assert "队列与发送状况" in outputs[0]
    assert_chinese(outputs)


def test_export_caption_usage_lines_refusals_and_argument_errors_are_chinese() -> None:
    period, flt = parse_report_args(["30d", "plan=pro"], DAY)
    filters = f" · {flt.label}"
    label = period_label(period, ZH)
    outputs = [
        ZH.render("export_caption", rows=1234, period=label, filters=filters)
        + ZH.render("export_truncated", rows=100_000),
        ZH.render("no_answers_export", period=label, filters=filters),
        *(ZH.usage(command) for command in _usage_commands()),
        ZH.render("not_admin", company="Acme"),
        ZH.render("not_admin_button"),
        ZH.render("button_invalid"),
    ]
    for args in (["zz"], ["7d", "30d"], ["=pro"], ["400d"], ["2026-13-01"], ["a=1", "b=2"]):
        with pytest.raises(TextError) as caught:
            parse_report_args(args, DAY)
        outputs.append(ZH.error(caught.value))
    assert_chinese(outputs)


def _usage_commands() -> list[str]:
    return [key.removeprefix("usage_") for key in en.ADMIN if key.startswith("usage_")]


def test_every_admin_and_report_text_is_chinese_when_filled_with_data() -> None:
    # The whole table, including texts no scenario above reaches (relay, refusals, errors).
    values = {"company": "Acme", "customer": "c1", "admin": "Alex", "kind": ZH.media("photo")}
    outputs = [
        ZH.render(key, **{name: values.get(name, 1) for name in fields(template)})
        for key, template in {**en.ADMIN, **en.REPORT}.items()
    ]
    assert len(outputs) > 150
    assert_chinese(outputs)
