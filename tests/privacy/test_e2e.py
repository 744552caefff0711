"""The real bot process against the stand-in: /mydata, /delete_me (No, expired, forged from
another chat, Yes), an erased customer not surveyed until they link anew, and the daily
retention run recorded and shown in /stats, with past NPS unchanged."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.core import erasure_confirmation as confirm
from bot.core.linking import make_payload
from bot.core.records import SurveyStatus
from bot.usecases.services import utc_now
from standin import SimUser, StandIn
from storage import Database, privacy
from tests.conftest import HarnessFactory
from tests.e2e.harness import (
    BOT_USERNAME,
    QUICK_CHATS,
    SECRET,
    TOKEN,
    Harness,
    customer_state,
    receive_survey,
)
from tests.privacy.conftest import Person, assert_nothing_personal, dump, nps_figures, person, seed

pytestmark = pytest.mark.asyncio(loop_scope="module")

_ids = itertools.count(1)
OLD = utc_now() - timedelta(days=400)


@dataclass
class Rig:
    """The bot (retention 30 days, one admin), and a customer with 400-day-old answers."""

    h: Harness
    admin: SimUser
    old: Person
    old_figures: dict[str, Any]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def rig(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[Rig]:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        admin = server.add_user(first_name="Admin")
        h = inprocess_bots(
            server,
            tmp_path_factory.mktemp("privacy"),
            {
                "NPSBOT_RETENTION_DAYS": "30",
                "NPSBOT_ADMIN_CHAT_IDS": str(admin.id),
                "NPSBOT_DIGEST_TIME": "off",
            },
        )
        # Old data, written before the bot starts: its first retention check finds it.
        db = await Database.open(h.database)
        try:
            old = await seed(db, person("olga", 990001), now=OLD)
            async with db.transaction() as tx:  # delivered long ago
                await tx.execute("UPDATE outbox SET done_at = created_at")
                await tx.execute("UPDATE alert_events SET notified_at = created_at")
                await tx.execute("UPDATE webhook_deliveries SET delivered_at = created_at")
            figures = await nps_figures(db, OLD - timedelta(days=1), OLD + timedelta(days=2))
        finally:
            await db.close()
        await h.start_bot()
        try:
            yield Rig(h, admin, old, figures)
        finally:
            await h.bot.stop_async()


async def answered_customer(h: Harness, tag: str) -> tuple[SimUser, Person]:
    """A linked customer with attributes who answered a survey with a reason."""
    who = person(f"{tag}{next(_ids)}", 0)
    who.note = f"never-written-note-{tag}"
    user = await h.linked_user(who.external_id)
    who.chat_id = user.id
    survey_id, question = await receive_survey(
        h,
        user,
        who.external_id,
        event_id=f"order-{who.external_id}-1",
        event_type="delivery",
        attributes=who.attributes,
    )
    who.survey_ids.append(survey_id)
    mark = user.last_message_id
    await user.press(question, data=f"nps:{survey_id}:3")
    await user.wait_for_message(lambda m: "wrong" in (m.text or ""), since=mark)
    mark = user.last_message_id
    await user.send_text(who.reason)
    await user.wait_for_message(lambda m: "Thank you" in (m.text or ""), since=mark)
    return user, who


async def command(user: SimUser, text: str, expect: str) -> Any:
    mark = user.last_message_id
    await user.send_text(text)
    return await user.wait_for_message(lambda m: expect in (m.shown_text or ""), since=mark)


async def test_mydata_sends_the_stored_data_as_messages_and_a_json_document(rig: Rig) -> None:
    user, who = await answered_customer(rig.h, "mydata")
    mark = user.last_message_id
    await user.send_text("/mydata")
    document = await user.wait_for_message(lambda m: m.kind == "document", since=mark, timeout=15)
    texts = "\n".join(m.text or "" for m in user.messages if m.message_id > mark and m.text)
    assert who.external_id in texts and who.reason in texts
    assert all(v in texts for v in who.attributes.values())
    assert "Your score: 3 (detractor)" in texts and "delivery" in texts
    assert document.file_name == "my-data.json" and document.file_bytes is not None
    data = json.loads(document.file_bytes.decode("utf-8"))
    assert data["customer"]["customer_id"] == who.external_id
    assert data["customer"]["attributes"] == who.attributes
    (survey,) = data["surveys"]
    assert (survey["survey_id"], survey["kind"], survey["event_type"], survey["status"]) == (
        who.survey_ids[0],
        "transactional",
        "delivery",
        "answered",
    )
    assert survey["answer"]["score"] == 3 and survey["answer"]["reason"] == who.reason
    # Someone whose chat is not linked learns that nothing is stored.
    stranger = rig.h.server.add_user()
    await stranger.start()
    await stranger.wait_for_message()
    await command(stranger, "/mydata", "nothing is stored")


async def test_delete_me_no_expired_and_forged_presses_erase_nothing_then_yes_erases(
    rig: Rig,
) -> None:
    h = rig.h
    user, who = await answered_customer(h, "erase")
    other, other_who = await answered_customer(h, "bystander")

    prompt = await command(user, "/delete_me", "Erase your data")
    yes_data, no_data = prompt.button_data
    query = await user.press(prompt, data=no_data)
    assert "nothing was erased" in ((await user.wait_for_callback_answer(query)).text or "")
    await user.wait_for_edit(prompt.message_id)
    assert "nothing was erased" in (user.message(prompt.message_id).text or "")  # type: ignore[union-attr]
    assert (await customer_state(h, who.external_id)) is not None

    # An expired confirmation (valid signature, time passed) erases nothing.
    prompt = await command(user, "/delete_me", "Erase your data")
    customer = await customer_state(h, who.external_id)
    key = confirm.confirmation_key(SECRET)
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    stale = confirm.callback_data(key, confirm.YES, user.id, customer.id, past)
    query = await user.press_raw(prompt.message_id, stale)
    assert "expired" in ((await user.wait_for_callback_answer(query)).text or "")
    assert (await customer_state(h, who.external_id)) is not None

    # Another chat pressing this chat's Yes (copied data, its own message): refused.
    fresh = await command(user, "/delete_me", "Erase your data")
    yes_data = fresh.button_data[0]
    query = await other.press_raw(other.last_message_id, yes_data)
    assert "no longer valid" in ((await other.wait_for_callback_answer(query)).text or "")
    forged = yes_data[:-1] + ("A" if yes_data[-1] != "A" else "B")
    query = await user.press_raw(fresh.message_id, forged)
    assert "no longer valid" in ((await user.wait_for_callback_answer(query)).text or "")
    assert (await customer_state(h, who.external_id)) is not None
    assert "not made for it" in h.bot.log()

    # Yes: erased, the prompt says so, and nothing of theirs is left anywhere.
    query = await user.press(fresh, data=yes_data)
    assert "erased" in ((await user.wait_for_callback_answer(query)).text or "")
    await user.wait_for_edit(fresh.message_id)
    assert "Done" in (user.message(fresh.message_id).text or "")  # type: ignore[union-attr]
    assert await customer_state(h, who.external_id) is None
    async with h.db() as db:
        rows = await _nothing_personal(db, who)
    assert any(other_who.reason == a["reason"] for a in rows["answers"])  # the bystander's stays
    # Pressing Yes again finds nothing to erase.
    query = await user.press_raw(fresh.message_id, yes_data)
    assert "nothing to erase" in ((await user.wait_for_callback_answer(query)).text or "")

    # Not surveyed any more: the company's next survey is skipped, not sent.
    survey_id = await h.queue_survey(who.external_id, event_id=f"after-{who.external_id}")
    async with h.db() as db, db.read() as tx:
        from storage import surveys

        skipped = await surveys.get(tx, survey_id)
    assert skipped is not None and skipped.status is SurveyStatus.SKIPPED
    assert skipped.status_reason == "not_linked"
    # Until they open a new signed link: a fresh customer, surveyed again.
    mark = user.last_message_id
    await user.start(make_payload(SECRET, who.external_id))
    await user.wait_for_message(lambda m: "all set" in (m.text or ""), since=mark)
    relinked = await customer_state(h, who.external_id)
    assert relinked is not None and relinked.id != customer.id and relinked.attributes == {}
    await receive_survey(h, user, who.external_id, event_id=f"again-{who.external_id}")


async def _nothing_personal(db: Database, who: Person) -> dict[str, list[dict[str, Any]]]:
    """:func:`assert_nothing_personal`, retried while the running bot's own transaction
    keeps the WAL checkpoint from completing."""
    for _ in range(50):
        if await db.checkpoint():
            break
        await asyncio.sleep(0.1)
    await assert_nothing_personal(db, who)
    return await dump(db)


async def test_the_daily_retention_run_is_recorded_shown_in_stats_and_keeps_the_nps(
    rig: Rig,
) -> None:
    h = rig.h

    async def recorded() -> privacy.PrivacyRun | None:
        async with h.db() as db, db.read() as tx:
            return await privacy.last_run(tx, "retention")

    deadline = asyncio.get_running_loop().time() + 30
    run = await recorded()
    while run is None:
        assert asyncio.get_running_loop().time() < deadline, h.bot.log()
        await asyncio.sleep(0.2)
        run = await recorded()
    assert run.counts["answer_texts"] == 2 and run.counts["customer_attributes"] >= 1
    async with h.db() as db:
        rows = await dump(db)
        assert await nps_figures(db, OLD - timedelta(days=1), OLD + timedelta(days=2)) == (
            rig.old_figures
        )
    old_answers = [a for a in rows["answers"] if a["survey_id"] in rig.old.survey_ids]
    assert [a["reason"] for a in old_answers] == [None, None]
    assert [a["score"] for a in old_answers] == [3, 4]
    await rig.admin.start()
    await rig.admin.wait_for_message()
    stats = await command(rig.admin, "/stats", "Privacy:")
    assert "retention 30 days, last run" in (stats.text or "")
    assert f"{run.total} anonymised" in (stats.text or "")
