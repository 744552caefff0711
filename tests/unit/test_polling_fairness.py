"""Per-chat fairness of the polling loop (bot.adapters.telegram.polling.Poller): a chat whose
update is still in hand delays neither the next getUpdates nor another chat's updates, and
the offset never confirms an update that is not handled yet."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.adapters.telegram.polling import Poller
from bot.adapters.telegram.wiring import FailedUpdates


def _message(update_id: int, chat: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "x"},
            "text": text,
        },
    }


class FakeBot:
    """getUpdates from a script of batches (then long-polls until released)."""

    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self.batches = batches
        self.offsets: list[int | None] = []
        self.confirmed: list[int] = []
        self.idle = asyncio.Event()
        self.changed = asyncio.Event()  # set whenever the bot or the app is called

    async def do_api_request(self, method: str, api_kwargs: dict[str, Any], **_: Any) -> Any:
        assert method == "getUpdates"
        self.offsets.append(api_kwargs["offset"])
        self.changed.set()
        if self.batches:
            return self.batches.pop(0)
        await self.idle.wait()
        return []

    async def get_updates(self, offset: int, **_: Any) -> list[Any]:
        self.confirmed.append(offset)
        return []


class FakeApp:
    """Handles chat 1's first update only once ``release`` is set; records the order."""

    def __init__(self, bot: FakeBot) -> None:
        self.bot = bot
        self.release = asyncio.Event()
        self.handled: list[int] = []

    async def process_update(self, update: Update) -> None:
        if update.update_id == 1:
            await self.release.wait()
        self.handled.append(update.update_id)
        self.bot.changed.set()


async def _until(cond: Any, changed: asyncio.Event) -> None:
    async with asyncio.timeout(5):
        while not cond():
            changed.clear()
            await changed.wait()


async def test_a_chat_in_hand_delays_neither_fetching_nor_other_chats() -> None:
    bot = FakeBot(
        [
            [_message(1, 1, "slow"), _message(2, 1, "after slow"), _message(3, 2, "b1")],
            [_message(4, 2, "b2"), _message(5, 3, "c1")],
        ]
    )
    app = FakeApp(bot)
    poller = Poller(app, FailedUpdates(), timeout=30)  # type: ignore[arg-type]
    stop = asyncio.Event()
    run = asyncio.create_task(poller.run(stop))
    # Chats 2 and 3 are handled (from two batches) while chat 1's first update is in hand.
    await _until(lambda: set(app.handled) == {3, 4, 5}, bot.changed)
    assert 2 not in app.handled  # chat 1 keeps its order
    assert len(bot.offsets) >= 3  # fetched again without waiting for the first batch
    assert all(o is None or o <= 1 for o in bot.offsets)  # update 1 is never confirmed
    assert poller.offset == 1
    app.release.set()
    await _until(lambda: len(app.handled) == 5, bot.changed)
    assert app.handled.index(1) < app.handled.index(2)
    stop.set()
    bot.idle.set()
    await run
    assert bot.confirmed == [6]


async def test_updates_fetched_again_while_an_older_one_is_in_hand_are_handled_once() -> None:
    first = [_message(1, 1, "slow"), _message(2, 2, "quick")]
    bot = FakeBot([first, list(first), list(first)])
    app = FakeApp(bot)
    poller = Poller(app, FailedUpdates(), timeout=30)  # type: ignore[arg-type]
    stop = asyncio.Event()
    run = asyncio.create_task(poller.run(stop))
    await _until(lambda: not bot.batches, bot.changed)
    app.release.set()
    await _until(lambda: len(app.handled) == 2, bot.changed)
    stop.set()
    bot.idle.set()
    await run
    assert sorted(app.handled) == [1, 2]
    assert bot.confirmed == [3]
