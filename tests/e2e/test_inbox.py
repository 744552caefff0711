"""The durable inbox, in-process against the stand-in: an update Telegram delivers again
changes nothing, and a chat with hundreds of updates waiting holds no other chat's update
out of getUpdates' window of 100 (each batch is confirmed once stored, not once handled)."""

from __future__ import annotations

import time
from pathlib import Path

from standin import StandIn
from storage import inbox
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, receive_survey

BACKLOG = 200


async def test_a_redelivered_update_changes_nothing(
    tmp_path: Path, inprocess_bots: HarnessFactory
) -> None:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = inprocess_bots(server, tmp_path, None)
        await h.start_bot()
        try:
            user = await h.linked_user("inbox-redelivery")
            _, question = await receive_survey(h, user, "inbox-redelivery")
            mark = user.last_message_id
            await user.press(question, text="9")
            await user.wait_for_message(lambda m: "value most" in (m.text or ""), since=mark)
            mark = user.last_message_id
            await user.send_text("Friendly courier")
            await user.wait_for_message(lambda m: "means a lot" in (m.text or ""), since=mark)
            seen = [(m.message_id, m.text, m.edit_count) for m in user.messages]
            answers = len(user.callback_answers)

            # Telegram delivers the press and the reason again (a lost confirmation).
            replayed = server.redeliver(2)
            assert len(replayed) == 2
            await h.wait_for(lambda: server.pending_updates == 0, 15, "the replay confirmed")
            # Handled in order per chat: once this reply is in, anything the replay could
            # have caused in this chat would be in too.
            mark = user.last_message_id
            await user.send_text("/help")
            await user.wait_for_message(since=mark)
            later = [(m.message_id, m.text, m.edit_count) for m in user.messages]
            assert later[: len(seen)] == seen and len(later) == len(seen) + 1
            assert len(user.callback_answers) == answers
            for update_id in replayed:
                assert await h.inbox_row(update_id) == (0, 1, "handled")
        finally:
            await h.bot.stop_async()


async def test_a_backlog_in_one_chat_holds_no_other_chat_out_of_the_window(
    tmp_path: Path, inprocess_bots: HarnessFactory
) -> None:
    # Every press waits for its answer (answerCallbackQuery, slowed to 4 a second here), so
    # the flooding chat's 200 presses take nearly a minute to work through. Before the
    # inbox, getUpdates' offset stayed at the oldest update in hand: the other customer's
    # press, behind all 200 in Telegram's one queue, came into the window of 100 only once
    # more than 100 of the backlog were handled.
    env = {"NPSBOT_FLOOD_PENDING_UPDATES": "1000", "NPSBOT_PRESS_ANSWER_SECONDS": "14"}
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = inprocess_bots(server, tmp_path, env)
        await h.start_bot()
        try:
            busy = await h.linked_user("inbox-busy")
            busy_survey, busy_question = await receive_survey(h, busy, "inbox-busy")
            calm = await h.linked_user("inbox-calm")
            _, calm_question = await receive_survey(h, calm, "inbox-calm")
            server.delay("answerCallbackQuery", 0.25)
            for i in range(BACKLOG):
                await busy.press_raw(busy_question.message_id, f"nps:{busy_survey}:{i % 11}")
            mark = calm.last_message_id
            started = time.monotonic()
            await calm.press(calm_question, text="8")
            await calm.wait_for_message(
                lambda m: "make it a 10" in (m.text or ""), timeout=30, since=mark
            )
            waited = time.monotonic() - started
            busy_answered = len(busy.callback_answers)
            # The calm customer overtook the backlog: most of it is still waiting.
            assert busy_answered < BACKLOG // 2, (busy_answered, waited)
            # Every update was stored and confirmed, handled or not.
            await h.wait_for(lambda: server.pending_updates == 0, 15, "all confirmed")
            async with h.db() as db, db.read() as tx:
                waiting = len(await inbox.unhandled(tx))
            assert waiting > 0
        finally:
            server.delay("answerCallbackQuery", 0)
            await h.bot.stop_async()
