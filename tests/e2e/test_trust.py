"""Links that cannot be hijacked, answers bound to the chat a survey went to, and admins
only in admin chats: the bot in-process against the stand-in (issue 12, items 1–3)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.adapters.ops_api.api import relink
from bot.core.linking import make_payload
from standin import SimUser
from storage import customers, privacy
from tests.admin.conftest import admin_bot
from tests.conftest import HarnessFactory
from tests.e2e.harness import (
    BOT_USERNAME,
    SECRET,
    Harness,
    customer_state,
    receive_survey,
    survey_state,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

_ids = itertools.count(1)


def new_customer() -> str:
    return f"trust-{next(_ids)}"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def trust(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[tuple[Harness, SimUser]]:
    """An in-process bot whose only admin is a listed USER (no admin group)."""
    async with admin_bot(inprocess_bots, tmp_path_factory.mktemp("trust"), {}) as world:
        yield world.h, world.admin


async def reply_to(user: SimUser, text: str) -> str:
    """Send ``text``; the bot's next message's text."""
    mark = user.last_message_id
    if text.startswith("/start "):
        await user.start(text.split(" ", 1)[1])
    else:
        await user.send_text(text)
    return (await user.wait_for_message(since=mark)).text or ""


async def refusals(h: Harness, cid: str) -> tuple[int, list[str]]:
    """What ops sees (GET /v1/customers/{id} reads the same): count and latest reasons."""
    async with h.db() as db, db.read() as tx:
        customer = await customers.get_by_external_id(tx, cid)
        assert customer is not None
        count, last = await customers.link_refusals(tx, customer.id)
    return count, [reason for _, reason in last]


async def stored_data(h: Harness, cid: str) -> object:
    async with h.db() as db, db.read() as tx:
        customer = await customers.get_by_external_id(tx, cid)
        assert customer is not None
        return await privacy.customer_data(tx, customer.id)


async def test_a_second_chat_cannot_take_over_a_linked_customer(
    trust: tuple[Harness, SimUser],
) -> None:
    h, _ = trust
    cid = new_customer()
    owner = h.server.add_user(first_name="Owner")
    used = make_payload(SECRET, cid)
    assert "You're all set" in await reply_to(owner, f"/start {used}")
    # The owner answers a first survey with a reason; a second one is still open.
    answered, question = await receive_survey(h, owner, cid)
    mark = owner.last_message_id
    await owner.press(question, text="9")
    await owner.wait_for_message(lambda m: "?" in (m.text or ""), since=mark)
    mark = owner.last_message_id
    await owner.send_text("Quick and friendly")
    await owner.wait_for_message(lambda m: "Thank" in (m.text or ""), since=mark)
    open_id, open_question = await receive_survey(h, owner, cid)
    before = await stored_data(h, cid)

    attacker = h.server.add_user(first_name="Mallory")
    # The owner's own (used) link, forwarded or leaked: refused.
    assert "already been used" in await reply_to(attacker, f"/start {used}")
    # A fresh genuine link (minted again): the account is linked elsewhere, refused.
    assert "already linked to another Telegram chat" in await reply_to(
        attacker, f"/start {make_payload(SECRET, cid)}"
    )
    # Nothing links the attacker's chat: a typed score counts for nobody...
    assert "open the link" in await reply_to(attacker, "0")
    # ...and the customer's data is neither shown nor erased there.
    assert "isn't linked" in await reply_to(attacker, "/mydata")
    await reply_to(attacker, "/delete_me")
    assert not any(m.kind == "document" or m.buttons for m in attacker.messages)

    assert (await customer_state(h, cid)).chat_id == owner.id
    assert await stored_data(h, cid) == before  # surveys, answers, reasons untouched
    survey, answer = await survey_state(h, open_id)
    assert survey.status.value == "sent" and answer is None
    assert await refusals(h, cid) == (2, ["linked_elsewhere", "used"])
    # The owner's chat still works: their press counts for their open survey.
    mark = owner.last_message_id
    await owner.press(open_question, text="10")
    await owner.wait_for_message(lambda m: "?" in (m.text or ""), since=mark)
    _, answer = await survey_state(h, open_id)
    assert answer is not None and answer.score == 10
    assert (await survey_state(h, answered))[1].score == 9


async def test_an_expired_link_is_refused_and_links_nobody(trust: tuple[Harness, SimUser]) -> None:
    h, _ = trust
    cid = new_customer()
    user = h.server.add_user()
    old = make_payload(SECRET, cid, h.now() - timedelta(days=31))
    assert "has expired" in await reply_to(user, f"/start {old}")
    assert await customer_state(h, cid) is None
    # A link minted 29 days ago still works.
    recent = make_payload(SECRET, cid, h.now() - timedelta(days=29))
    assert "You're all set" in await reply_to(user, f"/start {recent}")
    assert (await customer_state(h, cid)).chat_id == user.id


async def test_a_relink_moves_the_customer_and_tells_the_old_chat(
    trust: tuple[Harness, SimUser],
) -> None:
    h, _ = trust
    cid = new_customer()
    old_phone = await h.linked_user(cid)
    survey_id, _ = await receive_survey(h, old_phone, cid)  # sent to the old chat, open
    async with h.db() as db:
        result = await relink(db, SECRET, BOT_USERNAME, cid, h.now())
    assert result is not None
    payload = result[1].split("?start=")[1]

    new_phone = h.server.add_user(first_name="New phone")
    mark = old_phone.last_message_id
    assert "You're all set" in await reply_to(new_phone, f"/start {payload}")
    told = await old_phone.wait_for_message(since=mark)
    assert "moved to another Telegram chat" in (told.text or "")
    assert (await customer_state(h, cid)).chat_id == new_phone.id

    # The open survey went to the old chat: a typed score from the new chat (which now
    # holds the customer) is not matched to it, nor is one from the old chat any more.
    await reply_to(new_phone, "0")
    await reply_to(old_phone, "3")
    survey, answer = await survey_state(h, survey_id)
    assert answer is None and survey.chat_id == old_phone.id

    # The relink link was single use.
    third = h.server.add_user()
    assert "already been used" in await reply_to(third, f"/start {payload}")
    assert (await customer_state(h, cid)).chat_id == new_phone.id


async def test_a_listed_admin_user_is_no_admin_in_an_unlisted_group(
    trust: tuple[Harness, SimUser], tmp_path: Path
) -> None:
    h, admin = trust
    stranger = h.server.add_user(first_name="Stranger")
    group = h.server.add_group("Some other group", members=[admin, stranger])
    await group.send_text(admin, "/export")
    refusal = await group.wait_for_message(timeout=15)
    assert "only for Acme Delivery's feedback team" in (refusal.text or "")
    assert "NPSBOT" not in (refusal.text or "")  # refusals never name settings
    assert all(m.kind == "text" for m in group.messages)  # no CSV posted there
    # The same admin in their private chat with the bot: the export arrives.
    mark = admin.last_message_id
    await admin.send_text("/export")
    doc = await admin.wait_for_message(lambda m: m.kind == "document", timeout=30, since=mark)
    assert doc.file_name is not None and doc.file_name.endswith(".csv")


async def test_stats_shows_the_refused_link_attempts(trust: tuple[Harness, SimUser]) -> None:
    h, admin = trust
    cid = new_customer()
    await h.linked_user(cid)
    stranger = h.server.add_user()
    assert "already linked" in await reply_to(stranger, f"/start {make_payload(SECRET, cid)}")
    async with h.db() as db, db.read() as tx:
        expected = await customers.count_link_refusals_since(tx, h.now() - timedelta(days=7))
    assert expected >= 1
    stats = await reply_to(admin, "/stats")
    assert f"Links: {expected} refused in the last 7 days" in stats
