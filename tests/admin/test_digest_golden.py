"""The digest as a function of stored answers: a fixed data set goes through the storage
aggregations and the pure composer, and must give exactly the golden text."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.nps import Counts, Cutoffs, categorize
from bot.core.records import SurveyKind, SurveyStatus
from bot.reports.chart import render_chart
from bot.reports.digest import chart_labels, compose_digest
from bot.reports.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, utf16_len
from bot.settings import Settings, SettingsError
from bot.usecases.digests import gather_digest_data
from storage import Database, alerts, answers, customers, surveys

TZ = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 22)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def settings(**extra: str) -> object:
    return Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme & Co",
            "NPSBOT_TIMEZONE": "Europe/Berlin",
            "NPSBOT_DIGEST_ATTRIBUTE": "plan",
            **{f"NPSBOT_{k}": v for k, v in extra.items()},
        }
    )


# (customer, plan, event type, kind, local day offset from DAY, hour, score, reason)
ANSWERS = [
    ("c1", "pro", "delivery", "transactional", 0, 0, 10, "Fast & friendly"),
    ("c2", "pro", "delivery", "transactional", 0, 9, 9, None),
    ("c3", "basic", "delivery", "transactional", 0, 11, 3, "Parcel <late>"),
    ("c4", "basic", "support", "transactional", 0, 14, 7, "ok"),
    ("c5", "basic", "support", "transactional", 0, 23, 0, "Never again"),
    ("c6", None, None, "relationship", 0, 20, 10, None),
    # The day before, and days within the 7- and 30-day windows.
    ("c7", "pro", "delivery", "transactional", -1, 12, 2, "bad"),
    ("c8", "pro", "delivery", "transactional", -3, 12, 9, None),
    ("c9", "basic", "delivery", "transactional", -20, 12, 10, None),
    ("c10", "basic", "delivery", "transactional", -40, 12, 1, None),
    # The next local day (00:30 in Berlin is still DAY in UTC): not in the digest.
    ("c11", "pro", "delivery", "transactional", 1, 0, 0, "too late to count"),
]


async def build(db: Database, cutoffs: Cutoffs) -> None:
    async with db.transaction() as tx:
        for cid, plan, event, kind, offset, hour, score, reason in ANSWERS:
            day = DAY + timedelta(days=offset)
            sent = local(day, hour) - timedelta(minutes=30) if hour else local(day, 0)
            answered_at = local(day, hour, 30 if hour == 0 and offset == 1 else 0)
            attrs = {"plan": plan} if plan else {}
            customer = await customers.upsert(tx, cid, sent, attrs)
            await customers.link_chat(tx, cid, 5000 + int(cid[1:]), "en", sent)
            survey = await surveys.create(
                tx, customer.id, SurveyKind(kind), sent, event_type=event, attributes=attrs
            )
            await surveys.mark_sent(tx, survey.id, 5000 + int(cid[1:]), 1, sent)
            await surveys.mark_answered(tx, survey.id, answered_at)
            category = categorize(score, cutoffs)
            await answers.record_score(tx, survey.id, score, category.value, answered_at)
            if reason:
                await answers.record_reason(tx, survey.id, reason, 2, answered_at)
            if score <= 6 and offset == 0:
                alert = await alerts.create(tx, survey.id, answered_at)
                if cid == "c3":
                    await alerts.resolve(tx, alert, "Alex (1)", "called", answered_at)
        # Sent on DAY and not answered; one expired and one failed on DAY.
        quiet = await customers.upsert(tx, "q1", local(DAY, 8))
        for status in (SurveyStatus.EXPIRED, SurveyStatus.FAILED, None):
            survey = await surveys.create(tx, quiet.id, SurveyKind.TRANSACTIONAL, local(DAY, 8))
            if status is SurveyStatus.FAILED:
                await surveys.close(tx, survey.id, status, "blocked", local(DAY, 8, 5))
                continue
            await surveys.mark_sent(tx, survey.id, 7777, 3, local(DAY, 8))
            if status is SurveyStatus.EXPIRED:
                await surveys.close(
                    tx,
                    survey.id,
                    status,
                    "no answer",
                    local(DAY, 20),
                    from_statuses=(SurveyStatus.SENT,),
                )


GOLDEN = """\
<b>NPS digest · Acme &amp; Co · 2026-11-22</b>
<i>Days in Europe/Berlin; intervals are 95%.</i>

<b>NPS +17</b> on 2026-11-22 (n = 6, too few answers for an interval)
Promoters 3 (50%) · Passives 1 (17%) · Detractors 2 (33%)

<b>By survey kind</b>
transactional: 0 (n = 5, too few answers for an interval)
relationship: +100 (n = 1, too few answers for an interval)

<b>Trend</b>
vs the day before, -100 (n = 1, too few answers for an interval): +117 points, within the noise
Last 7 days +13 (n = 8, too few answers for an interval) vs no answers: \
no comparison (no answers in the previous 7 days)
Last 30 days +22 (n = 9, too few answers for an interval) \
vs -100 (n = 1, too few answers for an interval): +122 points, within the noise

<b>Responses</b>
Answered 6 of 8 sent (75% response rate) · 1 expired · 1 failed

<b>By event type</b>
delivery: +33 (n = 3, too few answers for an interval)
support: -50 (n = 2, too few answers for an interval)
(none): +100 (n = 1, too few answers for an interval)

<b>By plan</b>
basic: -67 (n = 3, too few answers for an interval)
pro: +100 (n = 2, too few answers for an interval)
(none): +100 (n = 1, too few answers for an interval)

<b>Latest comments</b>
Detractors:
• 0 · <i>Never again</i> — c5, support
• 3 · <i>Parcel &lt;late&gt;</i> — c3, delivery
Passives:
• 7 · <i>ok</i> — c4, support
Promoters:
• 10 · <i>Fast &amp; friendly</i> — c1, delivery

<b>Follow-up:</b> 2 detractors, 1 followed up"""


async def test_golden_digest_from_stored_answers(tmp_path: Path) -> None:
    s = settings()
    db = await Database.open(tmp_path / "golden.sqlite3")
    try:
        await build(db, s.admin.cutoffs)  # type: ignore[attr-defined]
        async with db.read() as tx:
            data = await gather_digest_data(tx, s, DAY)  # type: ignore[arg-type]
    finally:
        await db.close()
    digest = compose_digest(data)
    assert digest.text == GOLDEN
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in digest.messages)
    assert utf16_len(digest.caption) <= CAPTION_LIMIT
    assert "Day: +17 (n = 6" in digest.caption
    # The chart's inputs: 30 days ending on DAY, and that window's score distribution.
    assert len(data.trend) == 30 and data.trend[-1].day == DAY
    assert data.trend[-1].counts == Counts(promoters=3, passives=1, detractors=2)
    assert sum(data.histogram) == 9 and data.histogram[10] == 3
    labels = chart_labels("Acme & Co $x$", DAY)
    png = render_chart(data.trend, data.histogram, labels, s.admin.cutoffs)  # type: ignore[attr-defined]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1050, 1350)


async def test_non_standard_cut_offs_are_applied_and_said(tmp_path: Path) -> None:
    s = settings(PROMOTER_MIN="8", PASSIVE_MIN="6")
    db = await Database.open(tmp_path / "cutoffs.sqlite3")
    try:
        await build(db, s.admin.cutoffs)  # type: ignore[attr-defined]
        async with db.read() as tx:
            data = await gather_digest_data(tx, s, DAY)  # type: ignore[arg-type]
    finally:
        await db.close()
    digest = compose_digest(data)
    # 7 is a passive under 6/8 too; nothing moves here except the wording, so compare counts.
    assert data.today == Counts(promoters=3, passives=1, detractors=2)
    assert "non-standard cut-offs (promoters 8–10, passives 6–7, detractors 0–5)" in digest.text
    assert "Non-standard cut-offs." in digest.caption


async def test_min_sample_setting_reaches_the_digest(tmp_path: Path) -> None:
    s = settings(MIN_SAMPLE="1")
    db = await Database.open(tmp_path / "min-sample.sqlite3")
    try:
        await build(db, s.admin.cutoffs)  # type: ignore[attr-defined]
        async with db.read() as tx:
            data = await gather_digest_data(tx, s, DAY)  # type: ignore[arg-type]
    finally:
        await db.close()
    assert data.min_sample == 1
    text = compose_digest(data).text
    assert "<b>NPS +17</b> on 2026-11-22 (n = 6, 95% interval -44 to +66)" in text
    assert "too few answers" not in text


def test_cut_off_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="NPSBOT_PASSIVE_MIN"):
        settings(PASSIVE_MIN="9", PROMOTER_MIN="9")
    with pytest.raises(SettingsError, match="NPSBOT_PASSIVE_MIN"):
        settings(PASSIVE_MIN="abc")
    with pytest.raises(SettingsError, match="NPSBOT_PROMOTER_MIN"):
        settings(PROMOTER_MIN="11")
