"""SIGKILL the real bot on either side of the inbox's commit.

- Killed after an update is stored and confirmed to Telegram but before it is handled:
  Telegram will not deliver it again, and the restart handles it from the inbox, once (even
  if Telegram delivers it again too).
- Killed after an update was stored and handled but before getUpdates confirmed it:
  Telegram delivers it again, and the inbox recognises it: nothing changes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from standin import StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, TOKEN, Harness, receive_survey, survey_state

pytestmark = pytest.mark.timeout(120)


async def wait_for_row(h: Harness, update_id: int, expected: tuple[object, ...]) -> None:
    """Wait until the update's inbox row reads ``expected`` (payload kept?, handled?,
    outcome); fail with the bot's log."""
    deadline = asyncio.get_running_loop().time() + 15
    while (row := await h.inbox_row(update_id)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"{row}; log:\n{h.bot.log()}"
        await asyncio.sleep(0.05)


async def test_killed_between_the_inbox_commit_and_handling_it_is_handled_once_after_restart(
    tmp_path: Path, subprocess_bots: HarnessFactory
) -> None:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = subprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            user = await h.linked_user("crash-inbox-1")
            survey_id, question = await receive_survey(h, user, "crash-inbox-1")
            # The press's handler waits for its answer: the chat's worker stays on it, so
            # the reason typed next is stored and confirmed but not handled.
            server.delay("answerCallbackQuery", 60)
            mark = user.last_message_id
            await user.press(question, text="3")
            await user.wait_for_message(lambda m: "went wrong" in (m.text or ""), since=mark)
            before = user.last_message_id
            reason = await user.send_text("The box was wet")
            reason_update = server.world.updates[-1].update_id
            await h.wait_for(lambda: server.pending_updates == 0, 15, "the reason confirmed")
            await wait_for_row(h, reason_update, (1, 0, None))  # stored, not handled
            h.bot.kill()
            # Telegram sends it again as well (as if the confirmation had been lost).
            assert server.redeliver(1) == [reason_update]
            server.delay("answerCallbackQuery", 0)
            await h.start_bot()
            await user.wait_for_message(
                lambda m: "Thank you for telling us" in (m.text or ""), since=before, timeout=20
            )
            await h.wait_for(lambda: server.pending_updates == 0, 15, "the replay confirmed")
            # Handled in order per chat: once this reply is in, a second handling of the
            # reason would have shown too.
            mark = user.last_message_id
            await user.send_text("/help")
            await user.wait_for_message(since=mark)
        finally:
            await h.bot.stop_async()
    after = [m.text or "" for m in user.messages if m.message_id > before]
    assert sum("Thank you for telling us" in t for t in after) == 1, after
    _, answer = await survey_state(h, survey_id)
    assert (answer.score, answer.reason, answer.reason_message_id) == (3, "The box was wet", reason)
    assert await h.inbox_row(reason_update) == (0, 1, "handled")


async def test_killed_before_getupdates_confirmed_a_handled_update_the_redelivery_changes_nothing(
    tmp_path: Path, subprocess_bots: HarnessFactory
) -> None:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = subprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            user = await h.linked_user("crash-inbox-2")
            survey_id, question = await receive_survey(h, user, "crash-inbox-2")
            mark = user.last_message_id
            await user.press(question, text="10")
            await user.wait_for_message(lambda m: "value most" in (m.text or ""), since=mark)
            await h.wait_for(lambda: server.pending_updates == 0, 15, "the press confirmed")
            # The bot's long poll in progress returns the reason at once; the next getUpdates,
            # which would confirm it, is held up until the bot is dead.
            server.delay("getUpdates", 60)
            mark = user.last_message_id
            await user.send_text("Quick and polite")
            reason_update = server.world.updates[-1].update_id
            await user.wait_for_message(lambda m: "means a lot" in (m.text or ""), since=mark)
            await wait_for_row(h, reason_update, (0, 1, "handled"))
            h.bot.kill()
            assert server.pending_updates == 1  # never confirmed: Telegram sends it again
            seen = [(m.message_id, m.text, m.edit_count) for m in user.messages]
            server.delay("getUpdates", 0)
            await h.start_bot()
            await h.wait_for(lambda: server.pending_updates == 0, 15, "the redelivery confirmed")
            mark = user.last_message_id
            await user.send_text("/help")
            await user.wait_for_message(since=mark)
        finally:
            await h.bot.stop_async()
    later = [(m.message_id, m.text, m.edit_count) for m in user.messages]
    assert later[: len(seen)] == seen and len(later) == len(seen) + 1  # only /help's reply
    _, answer = await survey_state(h, survey_id)
    assert (answer.score, answer.reason) == (10, "Quick and polite")
