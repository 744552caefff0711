"""Registration of the admin side's handlers."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.adapters.telegram.admin_filter import AdminFilter
from bot.core.callback_data import ALERT
from bot.settings import Settings

# Admin handlers run in this group, before the customers' handlers (group 0); a handler
# that has dealt with an admin's update raises ApplicationHandlerStop so that the
# customers' handlers never see it.
ADMIN_GROUP = -1


def register_admin_handlers(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Register every admin handler on ``app``."""
    from bot.adapters.telegram.handlers.admin import COMMANDS, refuse_non_admin
    from bot.adapters.telegram.handlers.alerts import on_admin_message, on_alert_press

    new_message = filters.UpdateType.MESSAGE
    admin = AdminFilter(settings)
    for command, callback in COMMANDS.items():
        app.add_handler(CommandHandler(command, callback, filters=new_message & admin), ADMIN_GROUP)
    # The same commands from anyone else: a polite refusal (commands in a customer's
    # private chat included, which the customer handlers would otherwise call unknown).
    app.add_handler(
        CommandHandler(list(COMMANDS), refuse_non_admin, filters=new_message), ADMIN_GROUP
    )
    # Honoured only from admins, refused (with an answer) to anyone else by the handler.
    app.add_handler(CallbackQueryHandler(on_alert_press, pattern=ALERT.pattern), ADMIN_GROUP)
    # An admin's reply to a customer after pressing Reply; other messages pass through.
    app.add_handler(
        MessageHandler(new_message & ~filters.COMMAND & admin, on_admin_message), ADMIN_GROUP
    )
