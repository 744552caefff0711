"""Weekly and monthly digests: sent once per period at the digest time, caught up after
downtime, and their texts (golden, English and Chinese)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.core.delivery import CallResult
from bot.core.periods import Period
from bot.reports.trend import TrendRow
from bot.settings import Settings
from bot.usecases import digests as digests_usecase
from bot.usecases.digests import run_due_period_digests
from bot.usecases.rollups import sync_zone
from storage import Database, digests
from tests.admin.test_digest_golden import TZ, build
from tests.admin.test_digest_golden import settings as golden_settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Recorder:
    def __init__(self) -> None:
        self.texts: list[tuple[int, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, chat_id: int, method: str, params: dict[str, Any]) -> CallResult:
        self.calls.append((method, params))
        if method == "sendMessage":
            self.texts.append((chat_id, params["text"]))
        return CallResult(result={})


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


async def _run(tmp_path: Path, lang: str, moments: list[datetime]) -> list[Any]:
    s = cast(
        Settings,
        golden_settings(
            WEEKLY_DIGEST="mon",
            MONTHLY_DIGEST="1",
            ADMIN_LANGUAGE=lang,
            ADMIN_CHAT_IDS="-100",
            # Intervals even for the golden's small samples (the minimum has its own tests).
            MIN_SAMPLE="1",
        ),
    )
    db = await Database.open(tmp_path / f"period-{lang}.sqlite3")
    sender = Recorder()
    results: list[Any] = []
    try:
        await build(db, s.admin.cutoffs)
        await sync_zone(db, TZ.key, moments[0])
        for now in moments:
            svc = cast(
                Any,
                SimpleNamespace(
                    settings=s, db=db, catalog=None, sender=sender, clock=lambda n=now: n
                ),
            )
            results.append(await run_due_period_digests(svc, now))
        async with db.read() as tx:
            results.append(await digests.status_of(tx, date(2026, 11, 16), "week"))
    finally:
        await db.close()
    return [results, sender.texts, sender.calls]


GOLDEN_EN = [
    """\
<b>Acme &amp; Co: weekly NPS digest</b>
<b>NPS · 2026-11-16 – 2026-11-22</b>
<i>Days in Europe/Berlin; intervals are 95%.</i>

<b>NPS +13</b> (n = 8, 95% interval -43 to +61)
Promoters 4 (50%) · Passives 1 (12%) · Detractors 3 (38%)
Previous 2026-11-09 – 2026-11-15: no answers; no comparison possible.

<b>By survey kind</b>
transactional: 0 (n = 7, -54 to +54)
relationship: +100 (n = 1, -49 to +99)

<b>By event type</b>
delivery: +20 (n = 5, -49 to +74)
support: -50 (n = 2, -79 to +39)
(none): +100 (n = 1, -49 to +99)""",
    """\
<b>Acme &amp; Co: weekly NPS digest</b>
<b>NPS · 2026-11-23 – 2026-11-29</b>
<i>Days in Europe/Berlin; intervals are 95%.</i>

<b>NPS -100</b> (n = 1, 95% interval -99 to +49)
Promoters 0 (0%) · Passives 0 (0%) · Detractors 1 (100%)
Previous 2026-11-16 – 2026-11-22: +13 (n = 8, -43 to +61); change -113 points, within the noise.
<i>All answers are from transactional surveys.</i>

<b>By event type</b>
delivery: -100 (n = 1, -99 to +49)""",
    """\
<b>Acme &amp; Co: monthly NPS digest</b>
<b>NPS · 2026-11-01 – 2026-11-30</b>
<i>Days in Europe/Berlin; intervals are 95%.</i>

<b>NPS +10</b> (n = 10, 95% interval -41 to +56)
Promoters 5 (50%) · Passives 1 (10%) · Detractors 4 (40%)
Previous 2026-10-01 – 2026-10-31: -100 (n = 1, -99 to +49); change +110 points, within the noise.

<b>By survey kind</b>
transactional: 0 (n = 9, -50 to +50)
relationship: +100 (n = 1, -49 to +99)

<b>By event type</b>
delivery: +14 (n = 7, -47 to +67)
support: -50 (n = 2, -79 to +39)
(none): +100 (n = 1, -49 to +99)""",
]

GOLDEN_ZH = [
    """\
<b>Acme &amp; Co：每周 NPS 摘要</b>
<b>NPS · 2026-11-16 – 2026-11-22</b>
<i>日期按 Europe/Berlin 计算；区间为 95%。</i>

<b>NPS +13</b>（n = 8，95% 区间 -43 至 +61）
推荐者 4（50%）· 被动者 1（12%）· 贬损者 3（38%）
上一期2026-11-09 – 2026-11-15：无回答；无法比较。

<b>按调查类型</b>
交易型: 0（n = 7，-54 至 +54）
关系型: +100（n = 1，-49 至 +99）

<b>按事件类型</b>
delivery: +20（n = 5，-49 至 +74）
support: -50（n = 2，-79 至 +39）
（无）: +100（n = 1，-49 至 +99）""",
    """\
<b>Acme &amp; Co：每周 NPS 摘要</b>
<b>NPS · 2026-11-23 – 2026-11-29</b>
<i>日期按 Europe/Berlin 计算；区间为 95%。</i>

<b>NPS -100</b>（n = 1，95% 区间 -99 至 +49）
推荐者 0（0%）· 被动者 0（0%）· 贬损者 1（100%）
上一期2026-11-16 – 2026-11-22：+13（n = 8，-43 至 +61）；变化 -113 分，在噪声范围内。
<i>所有回答均来自交易型调查。</i>

<b>按事件类型</b>
delivery: -100（n = 1，-99 至 +49）""",
    """\
<b>Acme &amp; Co：每月 NPS 摘要</b>
<b>NPS · 2026-11-01 – 2026-11-30</b>
<i>日期按 Europe/Berlin 计算；区间为 95%。</i>

<b>NPS +10</b>（n = 10，95% 区间 -41 至 +56）
推荐者 5（50%）· 被动者 1（10%）· 贬损者 4（40%）
上一期2026-10-01 – 2026-10-31：-100（n = 1，-99 至 +49）；变化 +110 分，在噪声范围内。

<b>按调查类型</b>
交易型: 0（n = 9，-50 至 +50）
关系型: +100（n = 1，-49 至 +99）

<b>按事件类型</b>
delivery: +14（n = 7，-47 至 +67）
support: -50（n = 2，-79 至 +39）
（无）: +100（n = 1，-49 至 +99）""",
]


MOMENTS = [
    at(date(2026, 11, 23), 8),  # Monday before the digest time: the baseline is recorded
    at(date(2026, 11, 23), 9),  # Monday at nine: the week of 16-22 November
    at(date(2026, 11, 23), 9),  # again (a second job run): nothing twice
    at(date(2026, 12, 1), 10),  # after downtime: the week of 23-29 November, and November
]


async def test_weekly_and_monthly_digests_golden_sent_once_with_catch_up(
    tmp_path: Path,
) -> None:
    for lang, golden in (("en", GOLDEN_EN), ("zh", GOLDEN_ZH)):
        results, texts, _ = await _run(tmp_path, lang, MOMENTS)
        assert results == [
            [],
            [("week", date(2026, 11, 16))],
            [],
            [("week", date(2026, 11, 23)), ("month", date(2026, 11, 1))],
            "sent",
        ]
        assert [text for _, text in texts] == golden


async def test_weekly_and_monthly_digests_carry_a_chart_of_nps_per_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    charted: list[tuple[str, list[TrendRow]]] = []
    real = digests_usecase.render_trend_chart

    def spy(settings: Settings, rows: list[TrendRow], unit: str) -> bytes:
        charted.append((unit, list(rows)))
        return real(settings, rows, unit)

    monkeypatch.setattr(digests_usecase, "render_trend_chart", spy)
    _, texts, calls = await _run(tmp_path, "en", MOMENTS)
    # Each digest: the chart, captioned with its title, then its text.
    methods = [method for method, _ in calls]
    assert methods == ["sendPhoto", "sendMessage"] * 3
    titles = [text.splitlines()[0] for _, text in texts]
    for (_, photo), title in zip(calls[0::2], titles, strict=True):
        assert photo["caption"] == title and photo["parse_mode"] == "HTML"
        assert photo["photo"].data.startswith(PNG_SIGNATURE)
    assert [p["photo"].filename for _, p in calls[0::2]] == [
        "nps-week-2026-11-16.png",
        "nps-week-2026-11-23.png",
        "nps-month-2026-11-01.png",
    ]
    # The chart shows the 12 weeks or months ending with the digest's period, counted as
    # the digest's text counts that period (n = 8, 1 and 10 in the golden texts).
    assert [unit for unit, _ in charted] == ["weeks", "weeks", "months"]
    week, later_week, month = (rows for _, rows in charted)
    assert len(week) == len(later_week) == len(month) == 12
    assert week[-1].period == Period(date(2026, 11, 16), date(2026, 11, 22))
    assert week[0].period.start == date(2026, 8, 31)
    assert [r.counts.n for r in week[-1:]] == [8] and not any(r.partial for r in week)
    assert later_week[-1].counts.n == 1 and later_week[-2].counts.n == 8
    assert month[-1].period == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert month[0].period.start == date(2025, 12, 1)
    assert month[-1].counts.n == 10 and month[-2].counts.n == 1
