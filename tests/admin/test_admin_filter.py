"""Specification of the admin filter the admin commands and replies are registered behind
(alert presses, which PTB filters cannot see, ask the same rule in their guard)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update, User

from bot.adapters.telegram.admin_filter import AdminFilter
from bot.settings import Settings

ADMIN_GROUP = -1001
ADMIN_USER = 42


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
            "NPSBOT_ADMIN_CHAT_IDS": f"{ADMIN_GROUP},{ADMIN_USER}",
        }
    )


def command(chat_id: int, user_id: int, text: str = "/nps") -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    user = User(user_id, "Someone", is_bot=False)
    message = Message(1, datetime(2025, 1, 1, tzinfo=UTC), chat, from_user=user, text=text)
    return Update(1, message=message)


@pytest.mark.parametrize(
    ("chat_id", "user_id"),
    [
        (ADMIN_GROUP, 7),  # anyone in the admin group
        (ADMIN_USER, ADMIN_USER),  # the admin's private chat
    ],
)
def test_updates_from_admins_pass(settings: Settings, chat_id: int, user_id: int) -> None:
    admin = AdminFilter(settings)
    assert admin.check_update(command(chat_id, user_id))


@pytest.mark.parametrize(
    ("chat_id", "user_id"),
    [
        (7, 7),
        (-555, 8),
        (-555, ADMIN_USER),  # a configured admin user in an unlisted group: not there
        (7, ADMIN_USER),  # nor in someone else's private chat
    ],
)
def test_updates_from_anyone_else_are_filtered_out(
    settings: Settings, chat_id: int, user_id: int
) -> None:
    admin = AdminFilter(settings)
    assert not admin.check_update(command(chat_id, user_id))
    assert (~admin).check_update(command(chat_id, user_id))  # what the refusal sees


def test_without_configured_admins_nobody_passes() -> None:
    settings = Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
        }
    )
    assert not AdminFilter(settings).check_update(command(ADMIN_USER, ADMIN_USER))
