"""Sending, editing, deleting, callbacks, media and commands through a real PTB Bot."""

from __future__ import annotations

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from standin import FakeClock, SimUser, StandIn
from standin.users import TINY_PNG


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


@pytest.fixture
async def ann(server: StandIn) -> SimUser:
    user = server.add_user("Ann")
    await user.start()
    return user


async def test_edit_text_keeps_history_and_drops_omitted_keyboard(bot: Bot, ann: SimUser) -> None:
    sent = await bot.send_message(ann.id, "Q1", reply_markup=keyboard("a", "b"))
    await bot.edit_message_text("Q1 (answered)", chat_id=ann.id, message_id=sent.message_id)
    msg = ann.messages[0]
    assert (msg.text, msg.history, msg.edited, msg.edit_count) == ("Q1 (answered)", ["Q1"], True, 1)
    assert msg.reply_markup is None  # Telegram drops the keyboard when it is not resent
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Q1 (answered)", chat_id=ann.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=ann.id, message_id=999)
    edited = await bot.edit_message_reply_markup(
        chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard("c")
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None
    assert ann.messages[0].button_data == ["c"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ann.id, message_id=sent.message_id, reply_markup=keyboard("c")
        )


async def test_edits_to_a_blocked_user_are_forbidden(bot: Bot, ann: SimUser) -> None:
    sent = await bot.send_message(ann.id, "Q1")
    ann.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.edit_message_text("Q2", chat_id=ann.id, message_id=sent.message_id)


async def test_callback_answers(server: StandIn, bot: Bot, ann: SimUser, clock: FakeClock) -> None:
    sent = await bot.send_message(ann.id, "Rate", reply_markup=keyboard("1", "2"))
    first = await ann.press(sent.message_id, text="1")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(first, text="x" * 201)
    assert await bot.answer_callback_query(first, text="x" * 200, show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(first)  # answered already
    second = await ann.press(ann.messages[0], data="2")
    clock.advance(15.5)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(second)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")
    assert [(a.query_id, a.show_alert) for a in ann.callback_answers] == [(first, True)]


async def test_press_checks_the_current_keyboard(bot: Bot, ann: SimUser) -> None:
    sent = await bot.send_message(ann.id, "Rate", reply_markup=keyboard("1", "2"))
    with pytest.raises(LookupError, match="no button"):
        await ann.press(sent.message_id, data="3")
    await bot.edit_message_reply_markup(chat_id=ann.id, message_id=sent.message_id)
    with pytest.raises(LookupError, match="no button"):
        await ann.press(sent.message_id, data="1")
    query_id = await ann.press_raw(sent.message_id, "forged:other-user")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "forged:other-user"
    await ann.press_raw(777, "ghost")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None and query.message is not None
    assert query.message.message_id == 777 and not query.message.is_accessible


async def test_delete_message(bot: Bot, ann: SimUser) -> None:
    sent = await bot.send_message(ann.id, "bye")
    assert await bot.delete_message(ann.id, sent.message_id)
    assert ann.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ann.id, sent.message_id)


async def test_reply_to(bot: Bot, ann: SimUser) -> None:
    mid = await ann.send_text("why?")
    sent = await bot.send_message(ann.id, "because", reply_to_message_id=mid)
    assert sent.reply_to_message is not None and sent.reply_to_message.text == "why?"
    assert ann.last_message is not None and ann.last_message.reply_to_message_id == mid
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ann.id, "x", reply_to_message_id=555)


async def test_send_photo_and_document(
    server: StandIn, bot: Bot, ann: SimUser, clock: FakeClock
) -> None:
    sent = await bot.send_photo(ann.id, TINY_PNG, caption="<b>NPS</b> chart", parse_mode="HTML")
    assert sent.caption == "NPS chart" and sent.photo
    msg = ann.last_message
    assert msg is not None and msg.kind == "photo" and msg.file_bytes == TINY_PNG
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(ann.id, TINY_PNG, caption="c" * 1025)
    await bot.send_photo(ann.id, TINY_PNG, caption="c" * 1024)
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.send_photo(ann.id, b"\0" * (10 * 1024 * 1024 + 1))
    doc = await bot.send_document(ann.id, b"a,b\n1,2\n", filename="export.csv")
    assert doc.document is not None and doc.document.file_name == "export.csv"
    last = ann.last_message
    assert last is not None and last.kind == "document" and last.file_name == "export.csv"
    assert last.file_bytes == b"a,b\n1,2\n"
    # The same file again by file_id, as bots do to avoid re-uploading.
    again = await bot.send_document(ann.id, doc.document.file_id, caption="again")
    assert again.document is not None
    assert ann.last_message is not None and ann.last_message.file_bytes == b"a,b\n1,2\n"
    clock.advance(1)  # four sends used the chat's burst; edits are rate-limited too
    edited = await bot.edit_message_caption(
        chat_id=ann.id, message_id=again.message_id, caption="new caption"
    )
    assert not isinstance(edited, bool) and edited.caption == "new caption"
    assert server.stats.deliveries[ann.id] == 4


async def test_commands(bot: Bot) -> None:
    commands = [BotCommand("start", "Begin"), BotCommand("nps", "Show the NPS")]
    assert await bot.set_my_commands(commands)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "nps"]
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{i}", "x") for i in range(101)])
    with pytest.raises(BadRequest, match="Bot_command_description_invalid"):
        await bot.set_my_commands([BotCommand("ok", "d" * 257)])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_get_chat_and_chat_action(server: StandIn, bot: Bot, ann: SimUser) -> None:
    chat = await bot.get_chat(ann.id)
    assert chat.type == "private" and chat.first_name == "Ann"
    group = server.add_group("Admins", members=[ann])
    assert (await bot.get_chat(group.id)).title == "Admins"
    assert await bot.send_chat_action(ann.id, "typing")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(1)
