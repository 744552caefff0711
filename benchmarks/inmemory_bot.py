"""A plain python-telegram-bot bot that keeps its surveys in memory: the answers benchmark's
reference for what the same conversation costs without a database.

It makes exactly the Bot API calls npsbot makes for a press and a reason (the benchmark
counts them on the stand-in and checks they match), with the same texts from the same
catalog:

- at start-up, not measured: ``sendMessage`` with the question and the 0–10 keyboard to each
  chat listed in the file ``BENCH_CHATS`` (one chat id a line);
- a score press: ``answerCallbackQuery`` ("Thanks, you chose 9."), and beside it, as
  npsbot's outbox flush does, ``editMessageText`` (the question with the answer, buttons
  gone) then ``sendMessage`` (the category's follow-up);
- the reason (a text while a follow-up is waiting): ``sendMessage`` (the thank-you).

PTB's own Updater polls; ``BENCH_CONCURRENCY`` sets PTB's concurrent updates (default 8).
``BENCH_TRANSPORT=aiohttp`` swaps PTB's httpx transport for npsbot's
(:mod:`bot.adapters.telegram.transport`): the same bot with the same transport, to tell what
npsbot's database costs from what its cheaper transport saves.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.transport import AiohttpRequest
from bot.core.callback_data import SCORE
from bot.core.keyboards import score_keyboard
from bot.core.nps import Category, categorize
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.startup import builtin_catalog
from bot.core.texts import followup_key, thanks_key

LANG = "en"


@dataclass
class Survey:
    """One chat's survey, in memory only."""

    survey_id: int
    question: str
    message_id: int = 0
    category: Category | None = None  # set by the press
    reason: str | None = None


class Memory:
    """Every chat's survey and the catalog, for the handlers."""

    def __init__(self, catalog: Catalog, chats: list[int]) -> None:
        self.catalog = catalog
        self.surveys = {
            chat: Survey(index + 1, catalog.question("transactional", LANG))
            for index, chat in enumerate(chats)
        }


def memory(context: ContextTypes.DEFAULT_TYPE) -> Memory:
    """The bot's in-memory state."""
    found = context.application.bot_data["memory"]
    assert isinstance(found, Memory)
    return found


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A score press: answer it; edit the question; send the follow-up."""
    query = update.callback_query
    assert query is not None and query.message is not None
    mem = memory(context)
    press = SCORE.parse(query.data)
    chat_id = query.message.chat.id
    survey = mem.surveys.get(chat_id)
    if press is None or survey is None or survey.survey_id != press.survey_id:
        await query.answer(mem.catalog.render("press_invalid", LANG))
        return
    if survey.category is not None:
        await query.answer(mem.catalog.render("press_already_answered", LANG))
        return
    survey.category = categorize(press.score)
    catalog = mem.catalog
    score = press.score
    answered = catalog.render("question_answered", LANG, question=survey.question, score=score)
    followup = catalog.render(followup_key(survey.category), LANG)

    async def replies() -> None:
        await context.bot.edit_message_text(answered, chat_id, survey.message_id)
        await context.bot.send_message(chat_id, followup)

    # npsbot answers the press after its commit while the chat's outbox flush (edit, then
    # follow-up) runs beside it: the same calls, arranged the same way.
    await asyncio.gather(
        query.answer(catalog.render("press_recorded", LANG, score=press.score)), replies()
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The reason, when a follow-up is waiting for one: thank the customer."""
    message = update.effective_message
    assert message is not None and message.text is not None
    mem = memory(context)
    survey = mem.surveys.get(message.chat.id)
    if survey is None or survey.category is None or survey.reason is not None:
        await message.reply_text(mem.catalog.render("no_open_survey", LANG))
        return
    survey.reason = message.text
    await context.bot.send_message(
        message.chat.id, mem.catalog.render(thanks_key(survey.category), LANG)
    )


async def send_questions(app: Application) -> None:  # type: ignore[type-arg]
    """Ask every chat the question, a few dozen at a time (the set-up, not measured)."""
    mem: Memory = app.bot_data["memory"]
    gate = asyncio.Semaphore(32)

    async def ask(chat_id: int, survey: Survey) -> None:
        async with gate:
            markup = InlineKeyboardMarkup.de_json(score_keyboard(survey.survey_id), app.bot)
            sent = await app.bot.send_message(chat_id, survey.question, reply_markup=markup)
            survey.message_id = sent.message_id

    await asyncio.gather(*(ask(c, s) for c, s in mem.surveys.items()))


def main() -> None:
    """Send the questions, then poll until SIGTERM."""
    chats = [int(line) for line in Path(os.environ["BENCH_CHATS"]).read_text().split()]
    catalog = builtin_catalog(os.environ.get("NPSBOT_COMPANY_NAME", "Bench Co"))
    builder = (
        Application.builder()
        .token(os.environ["NPSBOT_TOKEN"])
        .base_url(os.environ["NPSBOT_API_BASE_URL"])
        .concurrent_updates(int(os.environ.get("BENCH_CONCURRENCY", "8")))
        .post_init(send_questions)
    )
    if os.environ.get("BENCH_TRANSPORT") == "aiohttp":
        builder = builder.request(AiohttpRequest(64)).get_updates_request(AiohttpRequest(2))
    else:
        builder = builder.connection_pool_size(64)
    app = builder.build()
    app.bot_data["memory"] = Memory(catalog, chats)
    app.add_handler(CallbackQueryHandler(on_press, pattern=SCORE.pattern))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, on_text))
    updates = ["message", "edited_message", "callback_query"]
    app.run_polling(poll_interval=0.0, timeout=1, allowed_updates=updates)


if __name__ == "__main__":
    main()
