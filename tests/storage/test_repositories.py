"""Specification of the repositories (storage.customers/surveys/answers/outbox; the inbox
is specified in test_inbox.py) and of Database transaction scopes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.records import Survey, SurveyKind, SurveyStatus, from_db_time, to_db_time
from storage import Database, answers, customers, inbox, outbox, surveys
from tests.support.postgres import INTEGRITY_ERRORS

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
REL = SurveyKind.RELATIONSHIP


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def sent_survey(
    db: Database, external_id: str, chat_id: int, message_id: int, minute: float = 0
) -> int:
    """A customer linked to ``chat_id`` with one survey sent to it; returns the survey id."""
    async with db.transaction() as tx:
        customer, _ = await customers.link_chat(tx, external_id, chat_id, "en", at(minute))
        survey = await surveys.create(tx, customer.id, REL, at(minute))
        assert await surveys.mark_sent(tx, survey.id, chat_id, message_id, at(minute))
    return survey.id


# --- time format ----------------------------------------------------------------------


def test_db_time_is_fixed_width_utc_and_round_trips() -> None:
    berlin = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    assert to_db_time(berlin) == "2024-05-01T12:00:00.123456Z"
    assert from_db_time(to_db_time(berlin)) == berlin
    assert from_db_time(None) is None
    assert from_db_time(to_db_time(berlin)).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01T00:00:00.000000Z",
        "2024-05-01 12:00:00.000000Z",
        "2024-05-01T12:00:00.000000+",
        "2024-05-01T12:00:00Z",
        "2024-05-01",
    ],
)
def test_db_time_other_than_the_stored_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        from_db_time(text)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db_time(datetime(2024, 5, 1, 12, 0))


# --- customers -------------------------------------------------------------------------


async def test_upsert_creates_then_merges_attributes(db: Database) -> None:
    async with db.transaction() as tx:
        first = await customers.upsert(tx, "c1", at(0), {"plan": "basic", "city": "Oslo"})
        second = await customers.upsert(tx, "c1", at(5), {"plan": "pro", "seats": 3})
        third = await customers.upsert(tx, "c1", at(6))
    assert first.attributes == {"plan": "basic", "city": "Oslo"}
    assert second.id == first.id
    assert second.attributes == {"plan": "pro", "city": "Oslo", "seats": 3}
    assert third.attributes == second.attributes
    assert second.created_at == at(0)
    assert second.updated_at == at(5)
    assert (first.chat_id, first.opted_out, first.blocked, first.linked_at) == (
        None,
        False,
        False,
        None,
    )


async def test_upsert_keeps_unicode_attributes(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "Zoë", at(0), {"город": "Москва"})
    async with db.read() as tx:
        assert await customers.get_by_external_id(tx, "Zoë") == c
    assert c.attributes == {"город": "Москва"}


async def test_upsert_with_null_attribute_is_idempotent(db: Database) -> None:
    async with db.transaction() as tx:
        first = await customers.upsert(tx, "c1", at(0), {"vip": None})
        second = await customers.upsert(tx, "c1", at(1), {"vip": None})
    assert second.attributes == first.attributes == {"vip": None}


async def test_link_chat_creates_customer_and_sets_chat(db: Database) -> None:
    async with db.transaction() as tx:
        c, previous = await customers.link_chat(tx, "c1", 100, "de", at(1))
    assert previous is None
    # Telegram's language_code is the app language, not a choice: language stays unset.
    assert (c.external_id, c.chat_id, c.linked_at) == ("c1", 100, at(1))
    assert (c.telegram_language, c.language) == ("de", None)
    async with db.read() as tx:
        assert await customers.get_by_chat(tx, 100) == c
        assert await customers.get(tx, c.id) == c


async def test_link_chat_moves_chat_to_the_new_customer(db: Database) -> None:
    async with db.transaction() as tx:
        old, _ = await customers.link_chat(tx, "old", 100, None, at(0))
        new, previous = await customers.link_chat(tx, "new", 100, None, at(1))
    assert previous == "old"
    assert new.chat_id == 100
    async with db.read() as tx:
        moved_from = await customers.get(tx, old.id)
        assert moved_from is not None
        assert moved_from.chat_id is None
        assert moved_from.updated_at == at(1)
        linked = await customers.get_by_chat(tx, 100)
        assert linked is not None
        assert linked.external_id == "new"


async def test_relinking_the_same_pair_reports_no_previous(db: Database) -> None:
    async with db.transaction() as tx:
        await customers.link_chat(tx, "c1", 100, None, at(0))
        _, previous = await customers.link_chat(tx, "c1", 100, None, at(1))
    assert previous is None


async def test_link_chat_clears_opt_out_and_blocked_and_keeps_languages(db: Database) -> None:
    async with db.transaction() as tx:
        c, _ = await customers.link_chat(tx, "c1", 100, "fr", at(0))
        await customers.set_language(tx, c.id, "zh", at(0))
        await customers.set_opted_out(tx, c.id, True, at(1))
        await customers.set_blocked(tx, c.id, True, at(2))
        flagged = await customers.get(tx, c.id)
        relinked, _ = await customers.link_chat(tx, "c1", 200, "en", at(3))
    assert flagged is not None
    assert (flagged.opted_out, flagged.blocked) == (True, True)
    assert (relinked.opted_out, relinked.blocked) == (False, False)
    assert relinked.chat_id == 200
    assert relinked.language == "zh"  # the customer's own choice survives relinking
    assert relinked.telegram_language == "en"  # the app language is the latest seen


async def test_mark_blocked_by_chat_flags_only_that_chat(db: Database) -> None:
    async with db.transaction() as tx:
        await customers.link_chat(tx, "a", 1, None, at(0))
        await customers.link_chat(tx, "b", 2, None, at(0))
        await customers.mark_blocked_by_chat(tx, 1, at(1))
        a = await customers.get_by_chat(tx, 1)
        b = await customers.get_by_chat(tx, 2)
    assert a is not None and b is not None
    assert (a.blocked, b.blocked) == (True, False)


# --- surveys ---------------------------------------------------------------------------


async def test_create_queues_a_pending_survey(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        s = await surveys.create(
            tx,
            c.id,
            SurveyKind.TRANSACTIONAL,
            at(0),
            event_type="order",
            event_id="ord-1",
            attributes={"sku": "X"},
        )
        plain = await surveys.create(tx, c.id, REL, at(0), send_at=at(30))
    assert (s.status, s.kind, s.event_type, s.event_id) == (
        SurveyStatus.PENDING,
        SurveyKind.TRANSACTIONAL,
        "order",
        "ord-1",
    )
    assert s.attributes == {"sku": "X"}
    assert (s.send_at, s.created_at, s.send_attempts) == (at(0), at(0), 0)
    assert (s.sent_at, s.chat_id, s.message_id) == (None, None, None)
    assert plain.send_at == at(30)
    async with db.read() as tx:
        assert await surveys.get_by_event_id(tx, "ord-1") == s
        assert await surveys.get(tx, 9999) is None


async def test_event_id_is_unique(db: Database) -> None:
    with pytest.raises(INTEGRITY_ERRORS):
        async with db.transaction() as tx:
            c = await customers.upsert(tx, "c1", at(0))
            await surveys.create(tx, c.id, REL, at(0), event_id="e1")
            await surveys.create(tx, c.id, REL, at(0), event_id="e1")
    async with db.read() as tx:
        assert await surveys.get_by_event_id(tx, "e1") is None  # whole unit rolled back


async def test_due_returns_pending_surveys_oldest_first_up_to_limit(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        late = await surveys.create(tx, c.id, REL, at(0), send_at=at(10))
        early = await surveys.create(tx, c.id, REL, at(0), send_at=at(5))
        same_a = await surveys.create(tx, c.id, REL, at(0), send_at=at(7))
        same_b = await surveys.create(tx, c.id, REL, at(0), send_at=at(7))
        future = await surveys.create(tx, c.id, REL, at(0), send_at=at(60))
        closed = await surveys.create(tx, c.id, REL, at(0), send_at=at(1))
        await surveys.close(tx, closed.id, SurveyStatus.SKIPPED, "opted out", at(1))
    async with db.read() as tx:
        assert [s.id for s in await surveys.due(tx, at(10), 10)] == [
            early.id,
            same_a.id,
            same_b.id,
            late.id,
        ]
        assert [s.id for s in await surveys.due(tx, at(10), 2)] == [early.id, same_a.id]
        assert await surveys.due(tx, at(4), 10) == []
        assert await surveys.next_due_time(tx) == at(5)
        counts = await surveys.count_by_status(tx)
    assert future.id not in [s.id for s in await _due(db, at(59))]
    assert counts[SurveyStatus.PENDING] == 5
    assert counts[SurveyStatus.SKIPPED] == 1
    assert counts[SurveyStatus.SENT] == 0


async def _due(db: Database, now: datetime) -> list[Survey]:
    async with db.read() as tx:
        return await surveys.due(tx, now, 100)


async def test_next_due_time_is_none_when_nothing_is_queued(db: Database) -> None:
    async with db.read() as tx:
        assert await surveys.next_due_time(tx) is None


async def test_mark_send_started_counts_attempts_only_while_pending(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        s = await surveys.create(tx, c.id, REL, at(0))
        assert await surveys.mark_send_started(tx, s.id, at(1)) is True
        assert await surveys.mark_send_started(tx, s.id, at(2)) is True
        await surveys.postpone(tx, s.id, at(30), "timeout")
        postponed = await surveys.get(tx, s.id)
        assert await surveys.mark_sent(tx, s.id, 100, 55, at(31)) is True
        assert await surveys.mark_send_started(tx, s.id, at(32)) is False
        final = await surveys.get(tx, s.id)
    assert postponed is not None and final is not None
    assert (
        postponed.send_attempts,
        postponed.send_at,
        postponed.send_started_at,
        postponed.status_reason,
    ) == (2, at(30), None, "timeout")
    assert final.send_attempts == 2
    assert final.status_reason is None


async def test_mark_sent_only_once_and_records_where(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        s = await surveys.create(tx, c.id, REL, at(0))
        assert await surveys.mark_sent(tx, s.id, 100, 55, at(1)) is True
        assert await surveys.mark_sent(tx, s.id, 200, 66, at(2)) is False
        got = await surveys.get(tx, s.id)
    assert got is not None
    assert (got.status, got.chat_id, got.message_id, got.sent_at) == (
        SurveyStatus.SENT,
        100,
        55,
        at(1),
    )


async def test_mark_answered_only_from_sent(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        s = await surveys.create(tx, c.id, REL, at(0))
        assert await surveys.mark_answered(tx, s.id, at(1)) is False  # still pending
        await surveys.mark_sent(tx, s.id, 100, 55, at(2))
        assert await surveys.mark_answered(tx, s.id, at(3)) is True
        assert await surveys.mark_answered(tx, s.id, at(4)) is False  # second press
        got = await surveys.get(tx, s.id)
    assert got is not None
    assert (got.status, got.answered_at) == (SurveyStatus.ANSWERED, at(3))


async def test_close_only_from_allowed_statuses(db: Database) -> None:
    async with db.transaction() as tx:
        c = await customers.upsert(tx, "c1", at(0))
        pending = await surveys.create(tx, c.id, REL, at(0))
        sent = await surveys.create(tx, c.id, REL, at(0))
        await surveys.mark_sent(tx, sent.id, 100, 1, at(1))
        answered = await surveys.create(tx, c.id, REL, at(0))
        await surveys.mark_sent(tx, answered.id, 100, 2, at(1))
        await surveys.mark_answered(tx, answered.id, at(2))

        # Default: only pending surveys can be closed.
        assert await surveys.close(tx, sent.id, SurveyStatus.EXPIRED, "late", at(3)) is False
        assert await surveys.close(tx, pending.id, SurveyStatus.FAILED, "400", at(3)) is True
        assert await surveys.close(tx, pending.id, SurveyStatus.SKIPPED, "x", at(4)) is False
        expire_from = (SurveyStatus.SENT,)
        assert (
            await surveys.close(
                tx, sent.id, SurveyStatus.EXPIRED, "late", at(5), from_statuses=expire_from
            )
            is True
        )
        assert (
            await surveys.close(
                tx, answered.id, SurveyStatus.EXPIRED, "late", at(5), from_statuses=expire_from
            )
            is False
        )
        got_pending = await surveys.get(tx, pending.id)
        got_sent = await surveys.get(tx, sent.id)
        got_answered = await surveys.get(tx, answered.id)
    assert got_pending is not None and got_sent is not None and got_answered is not None
    assert (got_pending.status, got_pending.status_reason, got_pending.closed_at) == (
        SurveyStatus.FAILED,
        "400",
        at(3),
    )
    assert (got_sent.status, got_sent.closed_at) == (SurveyStatus.EXPIRED, at(5))
    assert got_answered.status is SurveyStatus.ANSWERED


async def test_get_with_customer(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.read() as tx:
        pair = await surveys.get_with_customer(tx, sid)
        assert await surveys.get_with_customer(tx, 9999) is None
    assert pair is not None
    assert (pair[0].id, pair[1].external_id) == (sid, "c1")


# --- open conversation -------------------------------------------------------------------


async def test_open_conversation_follows_the_survey_to_completion(db: Database) -> None:
    async with db.read() as tx:
        assert await surveys.open_conversation(tx, 100) is None  # unknown chat
    async with db.transaction() as tx:
        c, _ = await customers.link_chat(tx, "c1", 100, None, at(0))
        s = await surveys.create(tx, c.id, REL, at(0))
        assert await surveys.open_conversation(tx, 100) is None  # pending: not asked yet
        await surveys.mark_sent(tx, s.id, 100, 7, at(1))
        awaiting_score = await surveys.open_conversation(tx, 100)
        await answers.record_score(tx, s.id, 9, "promoter", at(2))
        await surveys.mark_answered(tx, s.id, at(2))
        awaiting_reason = await surveys.open_conversation(tx, 100)
        await answers.record_reason(tx, s.id, "fast", 8, at(3))
        done = await surveys.open_conversation(tx, 100)
    assert awaiting_score is not None
    assert (awaiting_score.survey.id, awaiting_score.customer.id) == (s.id, c.id)
    assert (awaiting_score.awaiting_score, awaiting_score.awaiting_reason) == (True, False)
    assert awaiting_reason is not None
    assert (awaiting_reason.awaiting_score, awaiting_reason.awaiting_reason) == (False, True)
    assert awaiting_reason.answer is not None and awaiting_reason.answer.score == 9
    assert done is None


async def test_open_conversation_is_the_latest_sent_survey(db: Database) -> None:
    older = await sent_survey(db, "c1", 100, 1, minute=0)
    async with db.transaction() as tx:
        c = await customers.get_by_external_id(tx, "c1")
        assert c is not None
        newer = await surveys.create(tx, c.id, REL, at(10))
        await surveys.mark_sent(tx, newer.id, 100, 2, at(10))
    async with db.read() as tx:
        conv = await surveys.open_conversation(tx, 100)
    assert conv is not None
    assert conv.survey.id == newer.id != older


async def test_open_conversation_is_only_a_survey_sent_to_that_chat(db: Database) -> None:
    # Sent to chat 100; the customer then moved to chat 200 (a relink).
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        await customers.link_chat(tx, "c1", 200, None, at(2))
        # The new chat holds the customer, but the open survey was sent elsewhere.
        assert await surveys.open_conversation(tx, 200) is None
        # The old chat no longer holds the customer: it answers nothing either.
        assert await surveys.open_conversation(tx, 100) is None
        # Back in chat 100, its survey is open again: the chat, not the customer, decides.
        await customers.link_chat(tx, "c1", 100, None, at(3))
        conv = await surveys.open_conversation(tx, 100)
    assert conv is not None and conv.survey.id == sid


async def test_open_conversation_ignores_closed_and_finished_surveys(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        await surveys.close(
            tx, sid, SurveyStatus.EXPIRED, "late", at(5), from_statuses=(SurveyStatus.SENT,)
        )
        assert await surveys.open_conversation(tx, 100) is None


async def test_finish_without_reason_ends_the_conversation(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        await answers.record_score(tx, sid, 3, "detractor", at(1))
        await surveys.mark_answered(tx, sid, at(1))
        await answers.finish_without_reason(tx, sid, at(60))
        conv = await surveys.open_conversation(tx, 100)
        answer = await answers.get_for_survey(tx, sid)
        assert await answers.record_reason(tx, sid, "too late", 9, at(61)) is False
    assert conv is None
    assert answer is not None
    assert (answer.completed_at, answer.reason) == (at(60), None)


# --- answers -----------------------------------------------------------------------------


async def test_record_score_only_once(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        first = await answers.record_score(tx, sid, 9, "promoter", at(1))
        second = await answers.record_score(tx, sid, 2, "detractor", at(2))
        stored = await answers.get_for_survey(tx, sid)
    assert first is not None
    assert (first.survey_id, first.score, first.category, first.scored_at) == (
        sid,
        9,
        "promoter",
        at(1),
    )
    assert (first.reason, first.completed_at) == (None, None)
    assert second is None
    assert stored == first


async def test_score_outside_0_to_10_is_refused_by_the_schema(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    with pytest.raises(INTEGRITY_ERRORS):
        async with db.transaction() as tx:
            await answers.record_score(tx, sid, 11, "promoter", at(1))


async def test_record_reason_only_once(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        assert await answers.record_reason(tx, sid, "no answer yet", 5, at(1)) is False
        await answers.record_score(tx, sid, 8, "passive", at(1))
        assert await answers.record_reason(tx, sid, "good", 20, at(2)) is True
        assert await answers.record_reason(tx, sid, "changed mind", 21, at(3)) is False
        stored = await answers.get_for_survey(tx, sid)
    assert stored is not None
    assert (stored.reason, stored.reason_message_id, stored.reason_at, stored.completed_at) == (
        "good",
        20,
        at(2),
        at(2),
    )


async def test_update_reason_from_edit_only_for_the_matching_chat(db: Database) -> None:
    a = await sent_survey(db, "a", 100, 1)
    b = await sent_survey(db, "b", 200, 1)
    async with db.transaction() as tx:
        for sid in (a, b):
            await answers.record_score(tx, sid, 9, "promoter", at(1))
            await answers.record_reason(tx, sid, "original", 20, at(2))  # same message id
        edited = await answers.update_reason_from_edit(tx, 100, 20, "edited", at(3))
        wrong_message = await answers.update_reason_from_edit(tx, 100, 21, "nope", at(4))
        unknown_chat = await answers.update_reason_from_edit(tx, 300, 20, "nope", at(4))
        other = await answers.get_for_survey(tx, b)
    assert edited is not None
    assert (edited.survey_id, edited.reason, edited.reason_at) == (a, "edited", at(3))
    assert edited.completed_at == at(2)
    assert wrong_message is None
    assert unknown_chat is None
    assert other is not None and other.reason == "original"


# --- outbox ------------------------------------------------------------------------------


async def test_outbox_records_what_a_message_is_about_but_never_sends_it(db: Database) -> None:
    async with db.transaction() as tx:
        await outbox.enqueue(tx, -5, "sendMessage", {"text": "x"}, at(0), about=[9, 3, 9])
        row = await tx.fetchone("SELECT params FROM outbox")
        assert row is not None and f'"{outbox.ABOUT}": [3, 9]' in row[0]
        (item,) = await outbox.pending_for_chat(tx, -5)
    assert item.params == {"text": "x"}  # what the sender passes to Telegram


async def test_outbox_pending_in_order_until_done_or_failed(db: Database) -> None:
    async with db.transaction() as tx:
        first = await outbox.enqueue(tx, 100, "sendMessage", {"text": "hé"}, at(0))
        second = await outbox.enqueue(
            tx, 100, "editMessageText", {"text": "b"}, at(1), survey_id=None
        )
        other = await outbox.enqueue(tx, -5, "sendMessage", {"text": "c"}, at(2))
        third = await outbox.enqueue(tx, 100, "sendMessage", {"text": "d"}, at(3))
    assert first < second < other < third
    async with db.read() as tx:
        items = await outbox.pending_for_chat(tx, 100)
        assert await outbox.pending_chats(tx) == [-5, 100]
        assert await outbox.count_pending(tx) == 4
    assert [i.id for i in items] == [first, second, third]
    assert (items[0].method, items[0].params, items[0].attempts, items[0].created_at) == (
        "sendMessage",
        {"text": "hé"},
        0,
        at(0),
    )

    async with db.transaction() as tx:
        await outbox.mark_started(tx, first, at(4))
        await outbox.mark_started(tx, second, at(4))
        await outbox.mark_started(tx, second, at(5))
        await outbox.mark_done(tx, first, at(5))
        await outbox.record_error(tx, second, "timeout")
        await outbox.mark_failed(tx, other, "x" * 900, at(6))
    async with db.read() as tx:
        left = await outbox.pending_for_chat(tx, 100)
        assert await outbox.pending_chats(tx) == [100]
        assert await outbox.count_pending(tx) == 2
        (last_error,) = await tx.fetchone("SELECT last_error FROM outbox WHERE id = ?", (other,))  # type: ignore[misc]
    assert [(i.id, i.attempts) for i in left] == [(second, 2), (third, 0)]
    assert last_error == "x" * 500


async def test_outbox_item_can_reference_its_survey(db: Database) -> None:
    sid = await sent_survey(db, "c1", 100, 1)
    async with db.transaction() as tx:
        await outbox.enqueue(tx, 100, "sendMessage", {}, at(1), survey_id=sid)
        (item,) = await outbox.pending_for_chat(tx, 100)
    assert item.survey_id == sid


# --- transactions ------------------------------------------------------------------------


async def customer_names(db: Database) -> list[str]:
    sql = "SELECT external_id FROM customers ORDER BY id"
    async with db.read() as tx:
        return [r[0] for r in await tx.fetchall(sql)]


async def test_exception_rolls_back_the_whole_unit(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as tx:
            await customers.upsert(tx, "a", at(0))
            await outbox.enqueue(tx, 1, "sendMessage", {}, at(0))
            await inbox.claim(tx, 1, 1, at(0))
            raise RuntimeError("boom")
    assert await customer_names(db) == []
    async with db.transaction() as tx:
        assert await outbox.count_pending(tx) == 0
        assert await inbox.claim(tx, 1, 1, at(0)) is True  # the claim was rolled back too


async def test_cancellation_rolls_back(db: Database) -> None:
    inside = asyncio.Event()

    async def unit() -> None:
        async with db.transaction() as tx:
            await customers.upsert(tx, "cancelled", at(0))
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(unit())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await customer_names(db) == []
    async with db.transaction() as tx:  # the database is usable afterwards
        await customers.upsert(tx, "after", at(1))
    assert await customer_names(db) == ["after"]


async def test_transactions_from_two_tasks_do_not_interleave(db: Database) -> None:
    a_inside, a_may_finish = asyncio.Event(), asyncio.Event()
    b_entered = asyncio.Event()

    async def failing_unit() -> None:
        async with db.transaction() as tx:
            await customers.upsert(tx, "a1", at(0))
            a_inside.set()
            await a_may_finish.wait()
            await customers.upsert(tx, "a2", at(0))
            raise RuntimeError("a fails")

    async def good_unit() -> None:
        await a_inside.wait()
        async with db.transaction() as tx:
            b_entered.set()
            await customers.upsert(tx, "b1", at(0))
            await asyncio.sleep(0)  # yield to the other task mid-unit
            await customers.upsert(tx, "b2", at(0))

    a = asyncio.create_task(failing_unit())
    b = asyncio.create_task(good_unit())
    await a_inside.wait()
    for _ in range(20):  # give b every chance to barge into a's transaction
        await asyncio.sleep(0)
    assert not b_entered.is_set()
    a_may_finish.set()
    results = await asyncio.gather(a, b, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] is None
    assert await customer_names(db) == ["b1", "b2"]


async def test_many_concurrent_units_all_commit_whole(db: Database) -> None:
    async def unit(n: int) -> None:
        async with db.transaction() as tx:
            await customers.upsert(tx, f"{n}-first", at(0))
            await asyncio.sleep(0)
            await customers.upsert(tx, f"{n}-second", at(0))
            if n % 3 == 0:
                raise ValueError(n)

    results = await asyncio.gather(*(unit(n) for n in range(9)), return_exceptions=True)
    assert [isinstance(r, ValueError) for r in results] == [n % 3 == 0 for n in range(9)]
    names = await customer_names(db)
    assert sorted(names) == sorted(
        f"{n}-{part}" for n in range(9) if n % 3 for part in ("first", "second")
    )
    # Each unit's two rows are adjacent: no other unit wrote in between.
    for i in range(0, len(names), 2):
        assert names[i].split("-")[0] == names[i + 1].split("-")[0]


async def test_committed_unit_is_visible_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    first = await Database.open(path)
    async with first.transaction() as tx:
        await customers.upsert(tx, "kept", at(0), {"k": 1})
    await first.close()
    second = await Database.open(path)
    try:
        async with second.read() as tx:
            c = await customers.get_by_external_id(tx, "kept")
    finally:
        await second.close()
    assert c is not None and c.attributes == {"k": 1}


async def test_telegram_language_is_stored_only_when_it_changes(db: Database) -> None:
    async with db.transaction() as tx:
        c, _ = await customers.link_chat(tx, "c1", 100, "en", at(0))
        assert not await customers.note_telegram_language(tx, c, "en", at(1))
        assert not await customers.note_telegram_language(tx, c, None, at(1))
        assert await customers.note_telegram_language(tx, c, "zh-hans", at(2))
        changed = await customers.get(tx, c.id)
        relinked, _ = await customers.link_chat(tx, "c1", 100, None, at(3))
    assert changed is not None and changed.telegram_language == "zh-hans"
    assert changed.updated_at == at(2)
    assert relinked.telegram_language == "zh-hans"  # an absent code keeps the last one


async def test_drivers_step_is_guarded_and_ends_with_the_reason(db: Database) -> None:
    async with db.transaction() as tx:
        c, _ = await customers.link_chat(tx, "c1", 100, "en", at(0))
        s = await surveys.create(tx, c.id, SurveyKind.TRANSACTIONAL, at(0))
        await answers.record_score(tx, s.id, 3, "detractor", at(1))
        assert await answers.start_drivers(tx, s.id)
        assert not await answers.start_drivers(tx, s.id)  # once
        assert await answers.set_drivers(tx, s.id, ["late"], 77)
        assert await answers.set_drivers(tx, s.id, ["late", "price"], 99)
        during = await answers.get_for_survey(tx, s.id)
        assert await answers.finish_drivers(tx, s.id, ["price"], None, at(2))
        assert not await answers.finish_drivers(tx, s.id, [], None, at(3))  # already done
        assert not await answers.set_drivers(tx, s.id, ["late"], None)  # step over
        done = await answers.get_for_survey(tx, s.id)
    assert during is not None and during.awaiting_drivers
    assert during.drivers == ("late", "price") and during.drivers_message_id == 77
    assert done is not None and not done.awaiting_drivers
    assert (done.drivers, done.drivers_done_at) == (("price",), at(2))


async def test_a_reason_during_the_drivers_step_ends_it(db: Database) -> None:
    async with db.transaction() as tx:
        c, _ = await customers.link_chat(tx, "c1", 100, "en", at(0))
        s = await surveys.create(tx, c.id, SurveyKind.TRANSACTIONAL, at(0))
        await answers.record_score(tx, s.id, 10, "promoter", at(1))
        plain = await surveys.create(tx, c.id, SurveyKind.TRANSACTIONAL, at(0))
        await answers.record_score(tx, plain.id, 10, "promoter", at(1))
        await answers.start_drivers(tx, s.id)
        assert await answers.record_reason(tx, s.id, "fast", 5, at(4))
        assert await answers.record_reason(tx, plain.id, "nice", 6, at(4))
        with_step = await answers.get_for_survey(tx, s.id)
        without = await answers.get_for_survey(tx, plain.id)
    assert with_step is not None and (with_step.drivers, with_step.drivers_done_at) == ((), at(4))
    assert without is not None and (without.drivers, without.drivers_done_at) == (None, None)
