"""The bot's log holds no personal data: a whole conversation, an admin's reply relayed to
the customer and back, and an erasure, run in-process against the stand-in; the log names
the internal customer number, never the company's customer id, the order id, the user's
name or their words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from standin import SimUser, StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import BOT_USERNAME, QUICK_CHATS, TOKEN, Harness, receive_survey

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXTERNAL_ID = "crm-Q7x9-4411"
ORDER_ID = "ORD-55821-XK"
FIRST_NAME, LAST_NAME = "Zebulon", "Quixote-Marlowe"
REASON = "The blue parcel arrived crushed near Wexford"
CUSTOMER_REPLY = "Thanks, my neighbour Ophelia took it in"


@dataclass
class Rig:
    h: Harness
    admin: SimUser


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def rig(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[Rig]:
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        admin = server.add_user(first_name="Admin")
        h = inprocess_bots(
            server,
            tmp_path_factory.mktemp("logs"),
            {
                "NPSBOT_ADMIN_CHAT_IDS": str(admin.id),
                "NPSBOT_DIGEST_TIME": "off",
                "NPSBOT_QUIET_HOURS": "off",
                "NPSBOT_CONTACT_INTERVAL_DAYS": "0",
            },
        )
        await h.start_bot()
        await admin.start()  # so the bot may write to the admin
        await admin.wait_for(lambda: bool(admin.messages), timeout=10)
        try:
            yield Rig(h, admin)
        finally:
            await h.bot.stop_async()


def shown(user: SimUser, since: int) -> list[str]:
    return [m.shown_text or "" for m in user.messages if m.message_id > since]


async def test_a_conversation_a_relay_and_an_erasure_leave_no_personal_data_in_the_log(
    rig: Rig,
) -> None:
    h, admin = rig.h, rig.admin
    user = await h.linked_user(EXTERNAL_ID, first_name=FIRST_NAME, last_name=LAST_NAME)
    admin_mark = admin.last_message_id

    # The conversation: a detractor's score and reason (each raises an alert).
    survey_id, question = await receive_survey(
        h, user, EXTERNAL_ID, event_id=ORDER_ID, event_type="delivery"
    )
    mark = user.last_message_id
    await user.press(question, data=f"nps:{survey_id}:3")
    await user.wait_for_message(lambda m: "wrong" in (m.text or ""), since=mark)
    mark = user.last_message_id
    await user.send_text(REASON)
    await user.wait_for_message(lambda m: "Thank you" in (m.text or ""), since=mark)

    # The admin replies through the alert; the customer answers; it comes back.
    alert = await admin.wait_for_message(
        lambda m: any(d.startswith("al:r:") for d in m.button_data), since=admin_mark, timeout=20
    )
    assert EXTERNAL_ID in (alert.shown_text or "")  # the admins see who it is; the log not
    reply_data = next(d for d in alert.button_data if d.startswith("al:r:"))
    mark = admin.last_message_id
    query = await admin.press(alert, data=reply_data)
    await admin.wait_for_callback_answer(query)
    await admin.wait_for_message(lambda m: "next message" in (m.shown_text or ""), since=mark)
    user_mark = user.last_message_id
    await admin.send_text("Sorry about that, a new one is on its way.")
    await user.wait_for_message(lambda m: "new one" in (m.text or ""), since=user_mark)
    mark = admin.last_message_id
    await user.send_text(CUSTOMER_REPLY)
    await admin.wait_for_message(lambda m: CUSTOMER_REPLY in (m.shown_text or ""), since=mark)

    # The customer erases their data.
    mark = user.last_message_id
    await user.send_text("/delete_me")
    prompt = await user.wait_for_message(
        lambda m: "Erase your data" in (m.shown_text or ""), since=mark
    )
    query = await user.press(prompt, data=prompt.button_data[0])
    assert "erased" in ((await user.wait_for_callback_answer(query)).text or "")

    log = h.bot.log()
    assert f"survey {survey_id} scored 3" in log and "erased" in log  # the log saw it all
    assert "customer #" in log
    for personal in (EXTERNAL_ID, ORDER_ID, FIRST_NAME, LAST_NAME, REASON, CUSTOMER_REPLY):
        for piece in (personal, personal[:12]):
            assert piece not in log, f"{piece!r} is in the log"
