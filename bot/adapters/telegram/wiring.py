"""All handler registration in one place."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.admin_filter import AdminFilter
from bot.adapters.telegram.bot_data import SERVICES_KEY
from bot.adapters.telegram.handler import answer_unknown_press
from bot.adapters.telegram.handlers import admin, alerts, conversation, language, linking, privacy
from bot.core.callback_data import ALERT, DRIVER, ERASURE, LANGUAGE, SCORE
from bot.settings import Settings
from bot.usecases.services import Services

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE
# Admin handlers run in this group, before the customers' handlers (group 0); a handler
# that has dealt with an admin's update raises ApplicationHandlerStop so that the
# customers' handlers never see it.
ADMIN_GROUP = -1


class FailedUpdates:
    """Update ids whose handler raised, so the poller can retry before confirming them."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB error handler: log with context and remember the update."""
        update_id = chat_id = None
        if isinstance(update, Update):
            update_id = update.update_id
            chat_id = update.effective_chat.id if update.effective_chat else None
        log.error(
            "handler failed for update %s (chat %s)", update_id, chat_id, exc_info=context.error
        )
        if update_id is not None:
            self.ids.add(update_id)


def services_of(app: Application) -> Services:  # type: ignore[type-arg]
    """The services stored in ``app.bot_data`` (before the handlers are registered)."""
    found = app.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


def register_handlers(app: Application, failures: FailedUpdates) -> None:  # type: ignore[type-arg]
    """Register every handler on ``app``."""
    _register_admin_handlers(app, services_of(app).settings)
    app.add_handler(CommandHandler("start", linking.on_start, filters=PRIVATE & NEW_MESSAGE))
    app.add_handler(CommandHandler("stop", linking.on_stop, filters=PRIVATE & NEW_MESSAGE))
    app.add_handler(CommandHandler("help", linking.on_help, filters=PRIVATE & NEW_MESSAGE))
    # Privacy commands, before the catch-all that answers unknown commands with help.
    app.add_handler(CommandHandler("mydata", privacy.on_mydata, filters=PRIVATE & NEW_MESSAGE))
    app.add_handler(
        CommandHandler("delete_me", privacy.on_delete_me, filters=PRIVATE & NEW_MESSAGE)
    )
    app.add_handler(CallbackQueryHandler(privacy.on_erase_press, pattern=ERASURE.pattern))
    app.add_handler(CommandHandler("language", language.on_language, filters=PRIVATE & NEW_MESSAGE))
    app.add_handler(CallbackQueryHandler(conversation.on_score_press, pattern=SCORE.pattern))
    app.add_handler(CallbackQueryHandler(conversation.on_driver_press, pattern=DRIVER.pattern))
    app.add_handler(CallbackQueryHandler(language.on_language_press, pattern=LANGUAGE.pattern))
    app.add_handler(CallbackQueryHandler(answer_unknown_press))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, linking.on_help))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE, conversation.on_message))
    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, conversation.on_edited_message)
    )
    app.add_error_handler(failures.on_error)


def _register_admin_handlers(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    is_admin = AdminFilter(settings)
    for command, callback in admin.COMMANDS.items():
        app.add_handler(
            CommandHandler(command, callback, filters=NEW_MESSAGE & is_admin), ADMIN_GROUP
        )
    # The same commands from anyone else: a polite refusal (commands in a customer's
    # private chat included, which the customer handlers would otherwise call unknown).
    app.add_handler(
        CommandHandler(list(admin.COMMANDS), admin.refuse_non_admin, filters=NEW_MESSAGE),
        ADMIN_GROUP,
    )
    # Honoured only from admins, refused (with an answer) to anyone else by the handler.
    app.add_handler(CallbackQueryHandler(alerts.on_alert_press, pattern=ALERT.pattern), ADMIN_GROUP)
    # An admin's reply to a customer after pressing Reply; other messages pass through.
    app.add_handler(
        MessageHandler(NEW_MESSAGE & ~filters.COMMAND & is_admin, alerts.on_admin_message),
        ADMIN_GROUP,
    )
