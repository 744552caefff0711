"""Reading an update's JSON before PTB parses it (bot.adapters.telegram.raw): the worker
key is the chat PTB's ``effective_chat`` would give (else ``effective_user``), for every
kind of update, and a body that is no update gives chat 0 rather than an error."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.adapters.telegram.raw import chat_key, update_id_of

USER = {"id": 7, "is_bot": False, "first_name": "A"}
GROUP = {"id": -100, "type": "group", "title": "G"}

UPDATES: list[dict[str, Any]] = [
    {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": GROUP, "from": USER}},
    {
        "update_id": 2,
        "edited_message": {"message_id": 1, "date": 0, "edit_date": 1, "chat": GROUP, "from": USER},
    },
    {
        "update_id": 3,
        "callback_query": {
            "id": "q",
            "from": USER,
            "chat_instance": "1",
            "message": {"message_id": 1, "date": 0, "chat": GROUP},
        },
    },
    # A press on an inline message has no message: its user is the key.
    {
        "update_id": 4,
        "callback_query": {"id": "q", "from": USER, "chat_instance": "1", "inline_message_id": "i"},
    },
    {
        "update_id": 5,
        "poll_answer": {
            "poll_id": "p",
            "user": USER,
            "option_ids": [0],
            "option_persistent_ids": ["a"],
        },
    },
]


@pytest.mark.parametrize("raw", UPDATES, ids=lambda raw: next(k for k in raw if k != "update_id"))
def test_the_chat_key_is_the_chat_ptb_would_give(raw: dict[str, Any]) -> None:
    update = Update.de_json(raw, None)
    assert update is not None
    expected = update.effective_chat or update.effective_user
    assert expected is not None
    assert chat_key(raw) == expected.id


@pytest.mark.parametrize(
    "raw", [{"update_id": 1}, {"update_id": 1, "message": {"chat": "x"}}, [], "text", None]
)
def test_something_that_is_no_update_goes_to_chat_zero(raw: Any) -> None:
    assert chat_key(raw) == 0


def test_the_update_id_is_read_only_from_an_object_with_an_integer_id() -> None:
    assert update_id_of({"update_id": 5}) == 5
    assert update_id_of({"update_id": "5"}) is None
    assert update_id_of([5]) is None
