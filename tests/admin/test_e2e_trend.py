"""/trend end to end: the running bot answers an admin with the NPS per week or month
(n and interval, from the rollups) and a chart; bad arguments get the usage line, and
anyone else is refused."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from standin import BotMessage, SimUser
from tests.admin.conftest import admin_bot
from tests.conftest import HarnessFactory
from tests.e2e.harness import Harness, receive_survey

pytestmark = pytest.mark.asyncio(loop_scope="module")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ids = itertools.count(1)


def text(message: BotMessage) -> str:
    return message.shown_text or ""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[tuple[Harness, SimUser]]:
    async with admin_bot(
        inprocess_bots,
        tmp_path_factory.mktemp("trend"),
        {"NPSBOT_TIMEZONE": "UTC", "NPSBOT_MIN_SAMPLE": "2"},
    ) as world:
        yield world.h, world.admin


async def answer(h: Harness, score: int) -> None:
    cid = f"trend-{next(_ids)}"
    user = await h.linked_user(cid)
    _, question = await receive_survey(h, user, cid, event_type="delivery")
    mark = user.last_message_id
    await user.press(question, text=str(score))
    await user.wait_for_message(lambda m: "?" in text(m), since=mark)


async def test_admin_gets_the_weekly_and_monthly_trend_with_a_chart(
    world: tuple[Harness, SimUser],
) -> None:
    h, me = world
    for score in (10, 9, 3):
        await answer(h, score)
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())

    mark = me.last_message_id
    await me.send_text("/trend")
    chart = await me.wait_for_message(lambda m: m.kind == "photo", timeout=30, since=mark)
    assert chart.file_bytes is not None and chart.file_bytes.startswith(PNG_SIGNATURE)
    report = await me.wait_for_message(lambda m: "NPS by week" in text(m), timeout=15, since=mark)
    lines = text(report).splitlines()
    assert "NPS by week, last 12 weeks" in lines[0]
    rows = [line for line in lines if line[:4].isdigit()]
    assert len(rows) == 12
    # This week: 2 promoters, 1 detractor of 3 answers, with its interval; earlier weeks empty.
    assert rows[-1].startswith(f"{monday.isoformat()} – ") and "(so far)" in rows[-1]
    assert "+33 (n = 3, " in rows[-1] and " to " in rows[-1]
    assert all(row.endswith(": no answers") for row in rows[:-1])
    earliest = monday - timedelta(weeks=11)
    assert rows[0].startswith(earliest.isoformat())

    mark = me.last_message_id
    await me.send_text("/trend months")
    chart = await me.wait_for_message(lambda m: m.kind == "photo", timeout=30, since=mark)
    assert chart.file_bytes is not None and chart.file_bytes.startswith(PNG_SIGNATURE)
    report = await me.wait_for_message(lambda m: "NPS by month" in text(m), timeout=15, since=mark)
    assert f"{today:%Y-%m} (so far): +33 (n = 3, " in text(report)


async def test_trend_with_bad_arguments_gets_the_usage_line(
    world: tuple[Harness, SimUser],
) -> None:
    _, me = world
    for bad in ("/trend fortnights", "/trend weeks months"):
        mark = me.last_message_id
        await me.send_text(bad)
        reply = await me.wait_for_message(since=mark, timeout=15)
        assert "Usage: /trend [weeks|months]" in text(reply)
        assert reply.kind != "photo"


async def test_trend_is_refused_to_non_admins(world: tuple[Harness, SimUser]) -> None:
    h, _ = world
    user = await h.linked_user(f"trend-{next(_ids)}")
    mark = user.last_message_id
    await user.send_text("/trend")
    reply = await user.wait_for_message(since=mark)
    assert "only for" in text(reply) and "feedback team" in text(reply)
    assert all(m.kind != "photo" for m in user.messages)
