"""A real PTB Application polling the stand-in, as the bot will run against it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from standin import StandIn
from tests.standin.conftest import TOKEN


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    payload = " ".join(context.args or [])
    buttons = [
        [InlineKeyboardButton(str(n), callback_data=f"nps:{n}") for n in range(0, 6)],
        [InlineKeyboardButton(str(n), callback_data=f"nps:{n}") for n in range(6, 11)],
    ]
    await context.bot.send_message(
        update.effective_chat.id, f"Rate us ({payload})", reply_markup=InlineKeyboardMarkup(buttons)
    )


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer("Thanks!")
    await query.edit_message_text(f"You chose {query.data.split(':')[1]}")


async def test_polling_application_round_trip(server: StandIn) -> None:
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_press))
    ann = server.add_user("Ann")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await ann.start("order-1")
        survey = await ann.wait_for_message(timeout=5)
        assert survey.text == "Rate us (order-1)"
        assert survey.button_data == [f"nps:{n}" for n in range(11)]
        query_id = await ann.press(survey, text="9")
        answer = await ann.wait_for_callback_answer(query_id, timeout=5)
        assert answer.text == "Thanks!"
        await ann.wait_for_edit(survey.message_id, timeout=5)
        assert ann.messages[0].text == "You chose 9" and ann.messages[0].reply_markup is None
        await app.updater.stop()
        await app.stop()
    # The updater's last getUpdates (timeout 0) confirmed everything: no 409 on shutdown.
    assert server.pending_updates == 0
    assert server.stats.errors == {}
    assert server.stats.calls["getMe"] >= 1 and server.stats.calls["deleteWebhook"] == 1
