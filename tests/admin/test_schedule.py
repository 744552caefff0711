"""When digests are due (pure, controllable clock) and the runner's never-twice record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.telegram.sender import Sender
from bot.core.delivery import CallResult
from bot.core.digest_schedule import digest_moment, due_digest_days, latest_due_day
from bot.core.nps import STANDARD_CUTOFFS
from bot.settings import Settings
from bot.usecases.digests import run_due_digests
from bot.usecases.services import Services
from storage import Database, digests
from tests.support.clock import Clock

BERLIN = ZoneInfo("Europe/Berlin")
AT = time(9, 0)


def at(text: str, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# --- the pure decision ---------------------------------------------------------------------


def test_not_due_before_the_time_and_due_from_the_time_on() -> None:
    last = date(2026, 11, 21)
    assert due_digest_days(at("2026-11-23T08:59:59"), BERLIN, AT, last) == []
    assert due_digest_days(at("2026-11-23T08:59:59"), BERLIN, AT, date(2026, 11, 22)) == []
    assert due_digest_days(at("2026-11-23T09:00:00"), BERLIN, AT, last) == [date(2026, 11, 22)]
    assert due_digest_days(at("2026-11-23T23:59:00"), BERLIN, AT, last) == [date(2026, 11, 22)]


def test_never_twice_once_the_day_is_recorded() -> None:
    now = at("2026-11-23T09:00:01")
    assert due_digest_days(now, BERLIN, AT, date(2026, 11, 22)) == []
    assert due_digest_days(now + timedelta(hours=10), BERLIN, AT, date(2026, 11, 22)) == []


def test_catch_up_after_downtime_oldest_first_capped() -> None:
    last = date(2026, 11, 18)
    now = at("2026-11-23T10:30:00")
    assert due_digest_days(now, BERLIN, AT, last, max_days=7) == [
        date(2026, 11, 19),
        date(2026, 11, 20),
        date(2026, 11, 21),
        date(2026, 11, 22),
    ]
    # A long outage sends only the latest max_days.
    assert due_digest_days(now, BERLIN, AT, date(2026, 10, 1), max_days=3) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
        date(2026, 11, 22),
    ]
    # Down over the moment, back before the next one: yesterday's is still due.
    assert due_digest_days(at("2026-11-23T08:00"), BERLIN, AT, date(2026, 11, 20)) == [
        date(2026, 11, 21)
    ]


def test_nothing_recorded_gives_only_the_latest_due_day() -> None:
    assert due_digest_days(at("2026-11-23T10:00"), BERLIN, AT, None) == [date(2026, 11, 22)]
    assert due_digest_days(at("2026-11-23T08:00"), BERLIN, AT, None) == [date(2026, 11, 21)]


def test_time_zone_decides_the_day_not_utc() -> None:
    # 08:30 UTC is 09:30 in Berlin (winter): due there, not yet in New York (03:30).
    now = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert latest_due_day(now, BERLIN, AT) == date(2026, 11, 22)
    assert latest_due_day(now, ZoneInfo("America/New_York"), AT) == date(2026, 11, 21)


def test_dst_changes_keep_the_wall_clock_time() -> None:
    # Spring forward in Berlin on 2026-03-29: 09:00 local is 07:00 UTC (it was 08:00 UTC).
    assert digest_moment(date(2026, 3, 28), BERLIN, AT) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert digest_moment(date(2026, 3, 27), BERLIN, AT) == datetime(2026, 3, 28, 8, tzinfo=UTC)
    # A time skipped by the jump (02:30 does not exist on 2026-03-29) still happens once.
    skipped = digest_moment(date(2026, 3, 28), BERLIN, time(2, 30))
    assert datetime(2026, 3, 29, 0, tzinfo=UTC) <= skipped <= datetime(2026, 3, 29, 2, tzinfo=UTC)
    assert due_digest_days(skipped, BERLIN, time(2, 30), date(2026, 3, 27)) == [date(2026, 3, 28)]
    # Fall back on 2026-10-25: 02:30 happens twice; the digest is due at the first.
    first = digest_moment(date(2026, 10, 24), BERLIN, time(2, 30))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_naive_now_and_bad_cap_are_rejected() -> None:
    with pytest.raises(ValueError):
        due_digest_days(datetime(2026, 11, 23, 9), BERLIN, AT, None)
    with pytest.raises(ValueError):
        due_digest_days(at("2026-11-23T09:00"), BERLIN, AT, None, max_days=0)


# --- the runner on a real database with a controllable clock -------------------------------


class RecordingSender(Sender):
    """Records calls instead of making them."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, dict[str, Any]]] = []
        self.rate_limited = 0

    async def call(self, chat_id: int, method: str, params: dict[str, Any]) -> CallResult:
        self.calls.append((chat_id, method, params))
        return CallResult(result=True)


async def make_services(tmp_path: Path, clock: Clock, admins: str = "-100123,42") -> Services:
    settings = Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
            "NPSBOT_ADMIN_CHAT_IDS": admins,
            "NPSBOT_TIMEZONE": "Europe/Berlin",
            "NPSBOT_DIGEST_TIME": "09:00",
        }
    )
    db = await Database.open(tmp_path / "db.sqlite3")
    return Services(
        settings=settings, db=db, sender=RecordingSender(), cutoffs=STANDARD_CUTOFFS, clock=clock
    )


def digests_sent(svc: Services) -> list[tuple[int, str]]:
    sender = svc.sender
    assert isinstance(sender, RecordingSender)
    return [
        (chat, params["caption"]) for chat, method, params in sender.calls if method == "sendPhoto"
    ]


async def test_runner_on_time_catch_up_and_never_twice(tmp_path: Path) -> None:
    clock = Clock(at("2026-11-20T15:00"))
    svc = await make_services(tmp_path, clock)
    try:
        # First start: the baseline is the day before; nothing is sent for days not seen.
        assert await run_due_digests(svc, clock()) == []
        async with svc.db.read() as tx:
            assert await digests.last_day(tx) == date(2026, 11, 19)
        # Before the time nothing; at the time the digest of the first day, to each chat.
        assert await run_due_digests(svc, at("2026-11-21T08:59:59")) == []
        assert await run_due_digests(svc, at("2026-11-21T09:00:00")) == [date(2026, 11, 20)]
        sent = digests_sent(svc)
        assert [chat for chat, _ in sent] == [-100123, 42]
        assert all("2026-11-20" in caption for _, caption in sent)
        # The same moment again (a second job, a restart): never twice.
        assert await run_due_digests(svc, at("2026-11-21T09:00:01")) == []
        assert await run_due_digests(svc, at("2026-11-21T21:00")) == []
        # Down from 2026-11-21 evening to 2026-11-24 10:00: the missed days, oldest first.
        assert await run_due_digests(svc, at("2026-11-24T10:00")) == [
            date(2026, 11, 21),
            date(2026, 11, 22),
            date(2026, 11, 23),
        ]
        assert len(digests_sent(svc)) == 2 + 3 * 2
        assert await run_due_digests(svc, at("2026-11-24T10:00")) == []
        async with svc.db.read() as tx:
            assert await digests.status_of(tx, date(2026, 11, 23)) == "sent"
            assert await digests.interrupted(tx) == []
    finally:
        await svc.db.close()


async def test_a_claimed_day_is_not_resent_after_a_crash(tmp_path: Path) -> None:
    clock = Clock(at("2026-11-20T15:00"))
    svc = await make_services(tmp_path, clock)
    try:
        await run_due_digests(svc, clock())
        # A crash right after the claim committed: the row says claimed, nothing was sent.
        async with svc.db.transaction() as tx:
            assert await digests.claim(tx, date(2026, 11, 20), clock())
        assert await run_due_digests(svc, at("2026-11-21T09:00")) == []
        assert digests_sent(svc) == []
        async with svc.db.read() as tx:
            assert await digests.interrupted(tx) == [date(2026, 11, 20)]
    finally:
        await svc.db.close()


async def test_no_admin_chats_or_digest_off_sends_nothing(tmp_path: Path) -> None:
    clock = Clock(at("2026-11-21T10:00"))
    svc = await make_services(tmp_path, clock, admins="")
    try:
        assert await run_due_digests(svc, clock()) == []
        admin = svc.settings.admin.model_copy(update={"digest_time": None})
        off = svc.settings.model_copy(update={"admin": admin})
        assert await run_due_digests(replace(svc, settings=off), clock()) == []
        async with svc.db.read() as tx:
            assert await digests.last_day(tx) is None
    finally:
        await svc.db.close()
