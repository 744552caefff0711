"""First end-to-end check: PTB can talk to the stand-in."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from standin import StandIn


async def test_button_round_trip(server: StandIn, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "nps_test_bot" and me.is_bot
    ann = server.add_user("Ann")
    await ann.start("order_42")
    updates = await bot.get_updates(timeout=1)
    assert updates[0].message is not None
    assert updates[0].message.text == "/start order_42"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=f"nps:{i}") for i in range(5)]]
    )
    sent = await bot.send_message(
        ann.id, "<b>How likely?</b>", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.text == "How likely?"
    assert ann.last_message is not None and ann.last_message.button_data[2] == "nps:2"
    query_id = await ann.press(ann.last_message, data="nps:3")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert len(updates) == 1
    query = updates[0].callback_query
    assert query is not None and query.data == "nps:3" and query.id == query_id
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Thanks") is True
    answer = await ann.wait_for_callback_answer(query_id)
    assert answer.text == "Thanks"
