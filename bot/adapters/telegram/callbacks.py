"""Answering button presses (answerCallbackQuery) without letting a late answer fail a
handler whose real work is already committed."""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery
from telegram.error import BadRequest, NetworkError

log = logging.getLogger(__name__)

CALLBACK_TEXT_LIMIT = 200  # Telegram's limit for answerCallbackQuery text


async def answer_query(query: CallbackQuery, text: str | None = None) -> bool:
    """Answer the press; False if Telegram refused or could not be reached.

    A press answered too late (a backlog after downtime: "query is too old") only loses the
    little toast; the press itself was handled. Raising would make the receiver retry an
    update that has nothing left to do.
    """
    return await answer_press(query.get_bot(), query.id, text)


async def answer_press(bot: Bot, query_id: str, text: str | None = None) -> bool:
    """:func:`answer_query` by the press's id (for a press that was never parsed)."""
    try:
        await bot.answer_callback_query(query_id, text[:CALLBACK_TEXT_LIMIT] if text else None)
    except BadRequest as exc:
        log.info("callback query %s not answered: %s", query_id, exc.message)
        return False
    except NetworkError as exc:
        log.warning("callback query %s not answered: %s", query_id, exc.message)
        return False
    return True


class PressAnswers:
    """The presses answered (or being answered) so far, so each is answered once: the
    flood control answers a press kept waiting behind its chat's backlog "one moment" before
    Telegram's 15 s deadline, and the handler then leaves it be (Telegram would refuse a
    second answer)."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def claim(self, query_id: str) -> bool:
        """True the first time ``query_id`` is claimed: the caller answers it."""
        if query_id in self._ids:
            return False
        self._ids.add(query_id)
        return True

    def forget(self, query_id: str) -> None:
        """The press's update is done: nothing will answer it any more."""
        self._ids.discard(query_id)
