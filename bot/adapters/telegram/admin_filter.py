"""What every admin handler shares: who is an admin (and the filter that asks), names,
escaping.

Admin handlers are written like every other (:func:`bot.adapters.telegram.handler.handler`). They
never wait for their replies to be sent: an admin group is paced at 19 messages a minute,
and the poller handles a batch's chats together, so waiting there would hold back every
customer's update in the batch. Replies are committed to the outbox with the update's
claim and flushed by a background task (started through the services' supervisor).
"""

from __future__ import annotations

import logging

from telegram import Update, User
from telegram.ext import filters

from bot.settings import Settings

log = logging.getLogger(__name__)


def is_admin(settings: Settings, chat_id: int | None, user_id: int | None) -> bool:
    """Whether an update in ``chat_id`` from ``user_id`` comes from an admin.

    Admin rights belong to chats, not to people: an update counts only in a configured admin
    chat. A configured group makes everyone in it an admin there; a configured user id is an
    admin only in their private chat with the bot (whose chat id equals their user id), never
    in another group, where strangers would see what the bot answers.
    """
    if chat_id is None or chat_id not in settings.admin_chat_ids:
        return False
    # A positive chat id is a private chat: only its own user speaks there.
    return chat_id < 0 or user_id == chat_id


def update_is_admin(settings: Settings, update: Update) -> bool:
    """:func:`is_admin` for an update."""
    chat = update.effective_chat
    user = update.effective_user
    return is_admin(settings, chat.id if chat else None, user.id if user else None)


class AdminFilter(filters.UpdateFilter):
    """Lets through updates from admins (:func:`update_is_admin`), for the wiring."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="AdminFilter")
        self.settings = settings

    def filter(self, update: Update) -> bool:
        """Whether an admin sent ``update``."""
        return update_is_admin(self.settings, update)


def admin_name(user: User | None) -> str:
    """How an admin is recorded and shown: name and user id (no HTML escaping)."""
    if user is None:
        return "an admin"
    name = user.full_name.strip() or "admin"
    return f"{name} ({user.id})"
