"""The questionnaire end to end, through the real bot process and the stand-in: the drivers
step, languages (English, Chinese, a partial third one), /language, placeholders from event
properties (a bad file stopping start-up: test_questionnaire_startup.py)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from standin import BotMessage, SimUser, StandIn
from tests.conftest import HarnessFactory
from tests.e2e.harness import (
    BOT_USERNAME,
    QUICK_CHATS,
    ROOT,
    TOKEN,
    Harness,
    customer_state,
    receive_survey,
    survey_state,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLE = ROOT / "questionnaire.example.toml"
# The shipped example plus a third language with only one text: everything else in German
# falls back to the default (English) and is reported at start-up.
GERMAN = """

[language_names]
de = "Deutsch"

[texts.de]
greeting = "Hallo! Ich bin der Feedback-Bot von {company}. Öffnen Sie den Link von {company}."
"""

_ids = itertools.count(1)


def new_customer() -> str:
    return f"q-{next(_ids)}"


def text_of(message: BotMessage) -> str:
    return message.text or ""


def questionnaire_file(directory: Path) -> Path:
    path = directory / "questionnaire.toml"
    source = EXAMPLE.read_text(encoding="utf-8")
    source = source.replace('languages = ["en", "zh"]', 'languages = ["en", "zh", "de"]', 1)
    path.write_text(source + GERMAN, encoding="utf-8")
    return path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def qh(
    tmp_path_factory: pytest.TempPathFactory, inprocess_bots: HarnessFactory
) -> AsyncIterator[Harness]:
    """One stand-in and in-process bot with the questionnaire, for the whole module."""
    tmp = tmp_path_factory.mktemp("questionnaire")
    env = {"NPSBOT_QUESTIONNAIRE": str(questionnaire_file(tmp))}
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=QUICK_CHATS) as server:
        h = inprocess_bots(server, tmp, env)
        await h.start_bot()
        try:
            yield h
        finally:
            await h.bot.stop_async()


async def delivery_survey(
    h: Harness, user: SimUser, cid: str, order: str = "A-17"
) -> tuple[int, BotMessage]:
    return await receive_survey(
        h,
        user,
        cid,
        event_type="delivery",
        event_id=f"ev-{cid}",
        attributes={"order_id": order},
    )


async def score_and_get_drivers(
    user: SimUser, question: BotMessage, score: int
) -> tuple[BotMessage, int]:
    """Press ``score``; the drivers keyboard arrives. Returns it and the mark before it."""
    mark = user.last_message_id
    await user.press(question, text=str(score))
    keyboard = await user.wait_for_message(
        lambda m: any(d.startswith("drv:") for d in m.button_data), since=mark
    )
    return keyboard, mark


async def toggle(user: SimUser, keyboard: BotMessage, data: str) -> str:
    """Press a drivers button and wait for the keyboard to be redrawn; the button texts."""
    edits = keyboard.edit_count
    query = await user.press(keyboard, data=data)
    await user.wait_for_callback_answer(query)
    await user.wait_for_edit(keyboard.message_id, edits=edits + 1)
    return " | ".join(keyboard.button_texts)


# --- the drivers step ------------------------------------------------------------------


async def test_drivers_toggle_untoggle_done_then_the_reason(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    survey_id, question = await delivery_survey(qh, user, cid)
    assert text_of(question).startswith("Your order A-17 has been delivered.")
    keyboard, mark = await score_and_get_drivers(user, question, 3)
    assert "What mattered most?" in text_of(keyboard)
    edited = user.message(question.message_id)
    assert edited is not None and "Your answer: 3" in text_of(edited)
    assert text_of(edited).startswith("Your order A-17")  # the same question, re-rendered
    # No follow-up yet: the drivers come first.
    assert not any("What went wrong" in text_of(m) for m in user.messages)
    assert keyboard.button_texts == [
        "Late delivery",
        "Damaged parcel",
        "The courier",
        "Customer support",
        "Price",
        "Done",
    ]

    assert "✅ Late delivery" in await toggle(user, keyboard, f"drv:{survey_id}:0")
    assert "✅" not in await toggle(user, keyboard, f"drv:{survey_id}:0")  # untoggled
    await toggle(user, keyboard, f"drv:{survey_id}:1")
    shown = await toggle(user, keyboard, f"drv:{survey_id}:2")
    assert "✅ Damaged parcel" in shown and "✅ The courier" in shown
    _, stored = await survey_state(qh, survey_id)
    assert stored.drivers == ("damaged", "courier") and stored.drivers_done_at is None

    await user.press(keyboard, data=f"drv:{survey_id}:done")
    await user.wait_for_message(lambda m: "What went wrong" in text_of(m), since=mark)
    assert keyboard.button_data == []
    assert text_of(keyboard) == "What mattered most: Damaged parcel, The courier"

    before = user.last_message_id
    await user.send_text("It came torn open")
    await user.wait_for_message(lambda m: "Thank you for telling us" in text_of(m), since=before)
    survey, stored = await survey_state(qh, survey_id)
    assert survey.status == "answered" and stored.reason == "It came torn open"
    assert stored.drivers == ("damaged", "courier") and stored.drivers_done_at is not None

    # The step is over: a late press (or a redelivered one) stores nothing.
    query = await user.press_raw(keyboard.message_id, f"drv:{survey_id}:3")
    answer = await user.wait_for_callback_answer(query)
    assert "already answered" in (answer.text or "")
    assert (await survey_state(qh, survey_id))[1].drivers == ("damaged", "courier")


async def test_typing_the_reason_instead_of_done_ends_the_drivers_step(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    survey_id, question = await delivery_survey(qh, user, cid)
    keyboard, _ = await score_and_get_drivers(user, question, 10)
    await toggle(user, keyboard, f"drv:{survey_id}:0")
    mark = user.last_message_id
    await user.send_text("Super fast, thanks")
    await user.wait_for_message(lambda m: "means a lot" in text_of(m), since=mark)
    await user.wait_for(lambda: keyboard.button_data == [])
    assert text_of(keyboard) == "What mattered most: Delivery speed"
    # Their words were the answer: no follow-up question after the fact.
    assert not any("value most" in text_of(m) for m in user.messages)
    _, stored = await survey_state(qh, survey_id)
    assert stored.reason == "Super fast, thanks" and stored.drivers == ("speed",)


async def test_a_sticker_during_the_drivers_step_asks_for_the_buttons(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    survey_id, question = await delivery_survey(qh, user, cid)
    keyboard, _ = await score_and_get_drivers(user, question, 8)
    mark = user.last_message_id
    await user.send_sticker()
    await user.wait_for_message(lambda m: "tap the factors" in text_of(m), since=mark)
    assert len(keyboard.button_data) == 5  # four passive drivers and Done, still there
    _, stored = await survey_state(qh, survey_id)
    assert stored.drivers == () and stored.reason is None


async def test_forged_driver_presses_store_nothing(qh: Harness) -> None:
    victim_id, intruder_id = new_customer(), new_customer()
    victim = await qh.linked_user(victim_id)
    intruder = await qh.linked_user(intruder_id)
    survey_id, question = await delivery_survey(qh, victim, victim_id)
    await score_and_get_drivers(victim, question, 2)
    for data in (f"drv:{survey_id}:1", f"drv:{survey_id}:done", f"drv:{survey_id}:19"):
        query = await intruder.press_raw(intruder.last_message_id, data)
        answer = await intruder.wait_for_callback_answer(query)
        assert answer.text == "This button is no longer valid."
    # A driver the category does not offer, pressed by the owner, changes nothing either.
    query = await victim.press_raw(victim.last_message_id, f"drv:{survey_id}:9")
    assert (await victim.wait_for_callback_answer(query)).text == "This button is no longer valid."
    _, stored = await survey_state(qh, survey_id)
    assert stored.drivers == () and stored.drivers_done_at is None


async def test_a_restart_between_presses_loses_nothing(
    subprocess_bots: HarnessFactory, tmp_path: Path
) -> None:
    env = {"NPSBOT_QUESTIONNAIRE": str(EXAMPLE)}
    async with StandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        h = subprocess_bots(server, tmp_path, env)
        await h.start_bot()
        try:
            cid = new_customer()
            user = await h.linked_user(cid)
            survey_id, question = await delivery_survey(h, user, cid)
            keyboard, mark = await score_and_get_drivers(user, question, 9)
            await toggle(user, keyboard, f"drv:{survey_id}:2")
            h.bot.kill()  # SIGKILL: no clean shutdown
            await h.start_bot()
            await toggle(user, keyboard, f"drv:{survey_id}:3")
            await user.press(keyboard, data=f"drv:{survey_id}:done")
            await user.wait_for_message(lambda m: "value most" in text_of(m), since=mark)
            assert text_of(keyboard) == "What mattered most: Tracking, Price"
            _, stored = await survey_state(h, survey_id)
            assert stored.drivers == ("tracking", "price")
        finally:
            await h.bot.stop_async()


# --- languages ---------------------------------------------------------------------------


async def test_a_chinese_app_gets_every_text_in_chinese(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid, language_code="zh-hans")
    assert "设置完成" in text_of(user.messages[-1])
    survey_id, question = await delivery_survey(qh, user, cid, order="B-2")
    assert text_of(question).startswith("您的订单 B-2 已送达。")
    assert "Acme 快递" in text_of(question)
    keyboard, mark = await score_and_get_drivers(user, question, 10)
    assert "哪些因素最重要" in text_of(keyboard)
    assert keyboard.button_texts == ["配送速度", "快递员", "物流跟踪", "价格", "完成"]
    await toggle(user, keyboard, f"drv:{survey_id}:1")
    await user.press(keyboard, data=f"drv:{survey_id}:done")
    await user.wait_for_message(lambda m: "您最欣赏Acme 快递的哪一点" in text_of(m), since=mark)
    assert text_of(keyboard) == "最重要的因素：快递员"
    before = user.last_message_id
    await user.send_text("快递员很好")
    await user.wait_for_message(lambda m: "谢谢您" in text_of(m), since=before)
    customer = await customer_state(qh, cid)
    assert (customer.telegram_language, customer.language) == ("zh-hans", None)


async def test_language_command_switches_and_is_stored(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    mark = user.last_message_id
    await user.send_text("/language")
    menu = await user.wait_for_message(lambda m: bool(m.button_data), since=mark)
    assert text_of(menu) == "Which language would you like?"
    assert menu.button_texts == ["English", "简体中文", "Deutsch"]
    query = await user.press(menu, data="lang:zh")
    answer = await user.wait_for_callback_answer(query)
    assert answer.text == "好的，我会用简体中文和您交流。"
    await user.wait_for(lambda: menu.button_data == [])
    assert text_of(menu) == "好的，我会用简体中文和您交流。" and menu.button_data == []
    assert (await customer_state(qh, cid)).language == "zh"
    mark = user.last_message_id
    await user.send_text("/help")  # the app is still English: the choice wins
    await user.wait_for_message(lambda m: "目前没有需要您填写的调查" in text_of(m), since=mark)
    _, question = await delivery_survey(qh, user, cid)
    assert text_of(question).startswith("您的订单 A-17")


async def test_forged_language_data_stores_nothing(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    for data in ("lang:fr", "lang:ZH", "lang:zh ", "lang:"):
        query = await user.press_raw(user.last_message_id, data)
        answer = await user.wait_for_callback_answer(query)
        assert answer.text == "That language isn't available."
    assert (await customer_state(qh, cid)).language is None


async def test_the_telegram_language_is_followed_when_it_changes(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid)
    user.user["language_code"] = "zh"
    mark = user.last_message_id
    await user.send_text("/help")
    await user.wait_for_message(lambda m: "目前没有需要您填写的调查" in text_of(m), since=mark)
    assert (await customer_state(qh, cid)).telegram_language == "zh"
    # The dispatcher, with no update at hand, uses the stored app language.
    _, question = await delivery_survey(qh, user, cid)
    assert text_of(question).startswith("您的订单")


async def test_an_unknown_language_gets_the_default(qh: Harness) -> None:
    cid = new_customer()
    user = await qh.linked_user(cid, language_code="fr")
    assert "You're all set" in text_of(user.messages[-1])
    _, question = await delivery_survey(qh, user, cid)
    assert text_of(question).startswith("Your order A-17")


async def test_a_missing_translation_falls_back_to_the_default(qh: Harness) -> None:
    stranger = qh.server.add_user(language_code="de-AT")
    await stranger.start()
    greeting = await stranger.wait_for_message(timeout=10, since=0)
    assert text_of(greeting).startswith("Hallo! Ich bin der Feedback-Bot von Acme Delivery.")
    cid = new_customer()
    user = await qh.linked_user(cid, language_code="de")
    assert "You're all set" in text_of(user.messages[-1])  # no German text: English
    # ...and the start-up log listed it (once, as a warning), not a send-time error.
    log = qh.bot.log()
    assert log.count("missing a translation") == 1
    assert "de: linked" in log and "de: drivers.labels.speed" in log
