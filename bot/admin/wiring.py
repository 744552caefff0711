"""Registration of the admin side's handlers."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram.callback_data import ALERT

# Admin handlers run in this group, before the customers' handlers (group 0); a handler
# that has dealt with an admin's update raises ApplicationHandlerStop so that the
# customers' handlers never see it.
ADMIN_GROUP = -1

ADMIN_COMMANDS = ("nps", "digest", "export", "survey", "stats", "resolve", "cancel")


def register_admin_handlers(app: Application) -> None:  # type: ignore[type-arg]
    """Register every admin handler on ``app``."""
    from bot.admin.alerts import on_admin_message, on_alert_press
    from bot.admin.commands import on_command

    new_message = filters.UpdateType.MESSAGE
    # Commands from anyone: non-admins get a polite refusal (commands in a customer's
    # private chat included, which the customer handlers would otherwise call unknown).
    app.add_handler(
        CommandHandler(list(ADMIN_COMMANDS), on_command, filters=new_message), ADMIN_GROUP
    )
    app.add_handler(CallbackQueryHandler(on_alert_press, pattern=ALERT.pattern), ADMIN_GROUP)
    # An admin's reply to a customer after pressing Reply; other messages pass through.
    app.add_handler(MessageHandler(new_message & ~filters.COMMAND, on_admin_message), ADMIN_GROUP)
