"""getUpdates as PTB uses it: long polling, confirmation by offset, 409, update shapes."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict

from standin import FakeClock, StandIn
from tests.standin.conftest import TOKEN, api


def polling(server: StandIn) -> bool:
    """Whether a getUpdates call is parked in the stand-in (white-box: the moment a poll
    has arrived or gone, without sleeping to guess it)."""
    return server.methods._poller is not None


async def test_long_poll_wakes_when_an_update_arrives(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: polling(server), timeout=2)
    await asyncio.sleep(0)  # the poll, now parked in the stand-in, has not returned
    assert not poll.done()
    await ann.send_text("hello")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.5
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_empty_long_poll_waits_for_its_timeout(server: StandIn, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2.0


async def test_redelivery_until_confirmed(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.send_text("one")
    await ann.send_text("two")
    first = await bot.get_updates()
    again = await bot.get_updates()  # no offset: nothing confirmed, same updates
    assert [u.update_id for u in first] == [500_000, 500_001]
    assert [u.update_id for u in again] == [500_000, 500_001]
    assert server.pending_updates == 2
    rest = await bot.get_updates(offset=500_001)
    assert [u.message.text for u in rest if u.message] == ["two"]
    assert server.pending_updates == 1
    assert await bot.get_updates(offset=500_002) == ()
    assert server.pending_updates == 0


async def test_limit_and_negative_offset(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    for i in range(5):
        await ann.send_text(f"m{i}")
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [500_000, 500_001]
    last = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last if u.message] == ["m3", "m4"]
    assert server.pending_updates == 2


async def test_a_newer_poller_terminates_the_older_one_with_409(server: StandIn, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=3))
    await server.wait_for(lambda: polling(server), timeout=2)
    # A second bot instance (PTB's getUpdates pool holds one connection per Bot).
    async with Bot(TOKEN, base_url=server.base_url) as second:
        second_poll = asyncio.create_task(second.get_updates(timeout=3))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(poll, 2)
        await server.add_user("Ann").send_text("delivered to the newer poller")
        assert len(await asyncio.wait_for(second_poll, 2)) == 1
    assert server.stats.errors == {409: 1}


async def test_abandoned_poll_does_not_block_a_restarted_bot(server: StandIn, bot: Bot) -> None:
    # A bot killed mid-poll leaves a hanging request; its successor must not get 409.
    session = aiohttp.ClientSession()
    abandoned = asyncio.create_task(session.post(api(server, "getUpdates"), data={"timeout": "30"}))
    await server.wait_for(lambda: polling(server), timeout=2)
    abandoned.cancel()
    await session.close()
    await server.wait_for(lambda: not polling(server), timeout=2)  # it saw the socket close
    assert await bot.get_updates(timeout=0) == ()


async def test_allowed_updates_filters_new_updates(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await bot.get_updates(allowed_updates=["callback_query"])
    await ann.send_text("ignored")
    assert server.pending_updates == 0
    await bot.get_updates(allowed_updates=[])  # empty list: back to the default set
    await ann.send_text("seen")
    assert server.pending_updates == 1


async def test_user_actions_become_proper_ptb_updates(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann", language_code="de")
    await ann.start("camp-7_x")
    await ann.send_sticker("🔥")
    await ann.send_photo(caption="look")
    await ann.send_voice(duration=4)
    mid = await ann.send_text("/help now")
    await ann.edit_text(mid, "edited")
    ann.block()
    updates = await bot.get_updates()
    assert all(isinstance(u, Update) for u in updates)
    start = updates[0].message
    assert start is not None and start.text == "/start camp-7_x"
    assert start.from_user is not None and start.from_user.language_code == "de"
    assert start.entities[0].type == "bot_command" and start.entities[0].length == 6
    assert start.chat.type == "private" and start.chat.id == ann.id
    assert updates[1].message is not None and updates[1].message.sticker is not None
    assert updates[1].message.sticker.emoji == "🔥"
    photo = updates[2].message
    assert photo is not None and len(photo.photo) == 2 and photo.caption == "look"
    assert updates[3].message is not None and updates[3].message.voice is not None
    assert updates[3].message.voice.file_id
    help_message = updates[4].message
    assert help_message is not None and help_message.entities[0].length == 5
    edited = updates[5].edited_message
    assert edited is not None and edited.text == "edited" and edited.edit_date is not None
    assert edited.message_id == mid
    member = updates[6].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    assert [u.message.message_id for u in updates[:5] if u.message] == [1, 2, 3, 4, 5]
    # A file a user sent can be downloaded through PTB.
    assert photo.photo[-1].file_id
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded).startswith(b"\x89PNG")


async def test_start_after_block_unblocks(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    ann.block()
    await ann.start()
    assert not ann.blocked
    sent = await bot.send_message(ann.id, "welcome back")
    assert sent.message_id == 3  # /start, /start again, then this


async def test_stop_ends_pending_poll(clock: object) -> None:
    server = StandIn(token=TOKEN)
    await server.start()
    session = aiohttp.ClientSession()
    try:
        poll = asyncio.create_task(session.post(api(server, "getUpdates"), data={"timeout": "30"}))
        await server.wait_for(lambda: polling(server), timeout=2)
        started = time.monotonic()
        await server.stop()
        response = await asyncio.wait_for(poll, 2)
        assert response.status == 200
        assert time.monotonic() - started < 1.5
    finally:
        await session.close()


async def test_an_update_is_stamped_delivered_once_when_first_fetched(
    server: StandIn, bot: Bot, clock: FakeClock
) -> None:
    ann = server.add_user("Ann")
    delivered: list[tuple[int, float, float | None]] = []
    server.on_update_delivered(lambda u: delivered.append((u.update_id, u.created, u.delivered)))
    await ann.send_text("hello")
    clock.advance(2.5)
    await bot.get_updates()
    clock.advance(1.0)
    await bot.get_updates()  # fetched again, unconfirmed: not a first delivery
    assert len(delivered) == 1
    update_id, created, at = delivered[0]
    assert update_id == 500_000
    assert at is not None and at - created == pytest.approx(2.5)


async def test_call_listeners_see_each_successful_call_with_its_parameters(
    server: StandIn, bot: Bot
) -> None:
    ann = server.add_user("Ann")
    ann.mark_started()
    calls: list[tuple[str, object]] = []
    server.on_call(lambda method, params, at: calls.append((method, params.get("chat_id"))))
    await bot.send_message(ann.id, "hi")
    with pytest.raises(BadRequest):
        await bot.send_message(ann.id, "")  # refused: not a call the listener sees
    assert calls == [("sendMessage", str(ann.id))]
