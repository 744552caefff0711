"""A bare python-telegram-bot application that only answers button presses.

The framework's ceiling for the answers benchmark: PTB's own Updater polling the same
stand-in, concurrent updates on, one ``answerCallbackQuery`` per press, nothing else.
``BENCH_TRANSPORT=aiohttp``: with npsbot's transport instead of PTB's httpx.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.adapters.telegram.transport import AiohttpRequest


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press; that is all."""
    assert update.callback_query is not None
    await update.callback_query.answer("ok")


def main() -> None:
    """Poll until SIGTERM."""
    builder = (
        Application.builder()
        .token(os.environ["NPSBOT_TOKEN"])
        .base_url(os.environ["NPSBOT_API_BASE_URL"])
        .concurrent_updates(True)
    )
    if os.environ.get("BENCH_TRANSPORT") == "aiohttp":
        builder = builder.request(AiohttpRequest(64)).get_updates_request(AiohttpRequest(2))
    else:
        builder = builder.connection_pool_size(64)
    app = builder.build()
    app.add_handler(CallbackQueryHandler(on_press))
    app.run_polling(poll_interval=0.0, timeout=1, allowed_updates=["callback_query"])


if __name__ == "__main__":
    main()
