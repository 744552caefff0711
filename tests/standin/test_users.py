"""Simulated users and groups: waiting helpers, ids, group presses."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from standin import FakeClock, StandIn


async def test_ids(server: StandIn) -> None:
    first, second = server.add_user("A"), server.add_user("B", language_code=None)
    assert (first.id, second.id) == (1_000_001, 1_000_002)
    assert "language_code" not in second.user
    assert server.add_user("C", user_id=77).id == 77
    with pytest.raises(ValueError):
        server.add_user("D", user_id=77)
    assert server.add_group("G1").id == -1001000000001
    assert server.add_group("G2").id == -1001000000002


async def test_wait_for_message_sees_only_new_messages(
    server: StandIn, bot: Bot, clock: FakeClock
) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    await bot.send_message(ann.id, "old")

    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(ann.id, "first")
        await bot.send_message(ann.id, "second")

    task = asyncio.create_task(reply_later())
    msg = await ann.wait_for_message(
        lambda m: m.text is not None and m.text.startswith("s"), timeout=2
    )
    assert msg.text == "second"
    await task
    clock.advance(2)  # the chat's burst of four is spent
    waiting = asyncio.create_task(ann.wait_for_message(count=2, timeout=2))
    await asyncio.sleep(0)
    await bot.send_message(ann.id, "third")
    await bot.send_message(ann.id, "fourth")
    assert (await waiting).text == "fourth"


async def test_wait_for_message_timeout_lists_what_arrived(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    waiting = asyncio.create_task(ann.wait_for_message(lambda m: m.text == "never", timeout=0.3))
    await asyncio.sleep(0)
    await bot.send_message(ann.id, "something else")
    with pytest.raises(TimeoutError, match="'something else'"):
        await waiting


async def test_wait_for_and_wait_for_edit(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    sent = await bot.send_message(ann.id, "v1")

    async def edit_later() -> None:
        await asyncio.sleep(0.05)
        await bot.edit_message_text("v2", chat_id=ann.id, message_id=sent.message_id)

    task = asyncio.create_task(edit_later())
    msg = await ann.wait_for_edit(sent.message_id, timeout=2)
    assert msg.text == "v2" and msg.history == ["v1"]
    await task
    await server.wait_for(lambda: server.stats.calls.get("editMessageText") == 1, timeout=1)
    with pytest.raises(TimeoutError):
        await ann.wait_for(lambda: False, timeout=0.1)


async def test_group_messages_and_presses(server: StandIn, bot: Bot) -> None:
    boss = server.add_user("Boss")
    group = server.add_group("Admins", members=[boss])
    mid = await group.send_text(boss, "/nps@nps_test_bot week")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ack", callback_data="ack:1")]])
    alert = await bot.send_message(
        group.id, "Detractor!", reply_markup=markup, reply_to_message_id=mid
    )
    assert group.last_message is not None and group.last_message.text == "Detractor!"
    query_id = await group.press(boss, alert.message_id, text="Ack")
    updates = await bot.get_updates()
    command = updates[0].message
    assert command is not None and command.chat.type == "supergroup"
    assert command.chat.title == "Admins" and command.entities[0].length == 17
    query = updates[1].callback_query
    assert query is not None and query.id == query_id and query.from_user.id == boss.id
    assert query.message is not None and query.message.chat.id == group.id
    group.remove_bot()
    with pytest.raises(Exception, match="kicked"):
        await bot.send_message(group.id, "x")
