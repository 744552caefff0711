"""Simulated customers at work: how each one opens the link, presses, types, opts out or
switches language, with human pauses, and checks what the bot answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.core.callback_data import LANGUAGE, LanguagePress
from bot.core.linking import make_payload
from bot.core.nps import categorize
from bot.core.texts import thanks_key
from bot.usecases.queueing import queue_survey
from bot.usecases.services import utc_now
from standin.demo.company import demo_catalog
from standin.demo.customers import Behaviour, Customer
from standin.demo.errors import DemoError
from standin.models import BotMessage
from standin.server import StandIn
from standin.users import SimUser
from storage import Database

STEP_TIMEOUT = 20.0  # seconds a customer waits for any one reply of the bot
RUN_TIMEOUT = 120.0  # seconds for all customers together


async def next_reply(
    person: Customer, user: SimUser, what: str, since: int | None = None, buttons: bool = False
) -> BotMessage:
    """Wait for the bot's next message to this customer and record it in the transcript."""
    try:
        message = await user.wait_for_message(
            (lambda m: bool(m.button_data)) if buttons else None,
            timeout=STEP_TIMEOUT,
            since=since,
        )
    except TimeoutError as exc:
        raise DemoError(
            f"{person.external_id} ({person.behaviour}) waited in vain for {what}: {exc}"
        ) from None
    person.sees(message)
    return message


async def pause(person: Customer, low: float, high: float) -> None:
    """A human pause: reading, thinking, typing."""
    await asyncio.sleep(person.rng.uniform(low, high))


async def link(person: Customer, user: SimUser, secret: str) -> None:
    """Open the signed deep link (``/start <payload>``) and read the bot's welcome."""
    person.says("/start  (opens the link from the Acme Delivery app)")
    await user.start(make_payload(secret, person.external_id))
    await next_reply(person, user, "the welcome after /start")


async def opt_out(person: Customer, user: SimUser) -> None:
    """Send /stop and read the confirmation."""
    await pause(person, 0.2, 0.8)
    person.says("/stop")
    await user.send_text("/stop")
    await next_reply(person, user, "the /stop confirmation")


async def switch_language(person: Customer, user: SimUser) -> None:
    """Send /language and pick 简体中文; the menu turns into the confirmation."""
    await pause(person, 0.2, 0.8)
    person.says("/language")
    since = user.last_message_id
    await user.send_text("/language")
    menu = await next_reply(person, user, "the /language menu", since=since, buttons=True)
    person.says("taps [简体中文]")
    await user.press(menu, data=LANGUAGE.encode(LanguagePress("zh")))
    try:
        await user.wait_for_edit(menu.message_id, timeout=STEP_TIMEOUT)
    except TimeoutError as exc:
        raise DemoError(f"{person.external_id}: /language was not confirmed: {exc}") from None
    person.sees(menu)


async def enqueue(person: Customer, db: Database) -> None:
    """Queue the customer's transactional survey, with their attributes (a delivery carries
    its order number, which the questionnaire's delivery question shows)."""
    attributes = {"plan": person.plan, "region": person.region}
    if person.event_type == "delivery":
        attributes["order_id"] = f"A{10000 + person.index}"
    result = await queue_survey(
        db,
        person.external_id,
        utc_now(),
        event_type=person.event_type,
        event_id=person.event_id,
        attributes=attributes,
    )
    person.survey_id = result.survey_id


async def send_junk(person: Customer, user: SimUser, junk: str) -> None:
    """Send something that is not a score and read the bot's correction."""
    await pause(person, 0.3, 1.0)
    if junk == "sticker":
        person.says("[sticker 👍]")
        await user.send_sticker("👍")
    else:
        person.says(junk)
        await user.send_text(junk)
    await next_reply(person, user, f"the bot's answer to {junk!r}")


async def give_score(person: Customer, user: SimUser, question: BotMessage) -> BotMessage:
    """Tap the button (or type the number); returns the drivers keyboard that follows."""
    assert person.score is not None
    await pause(person, 0.3, 1.5)
    since = user.last_message_id
    if person.behaviour is Behaviour.TYPE:
        person.says(str(person.score))
        await user.send_text(str(person.score))
    else:
        person.says(f"taps [{person.score}]")
        await user.press(question, text=str(person.score))
    return await next_reply(person, user, "the drivers keyboard", since=since, buttons=True)


def _drivers_written_about(
    person: Customer, toggles: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The toggles (at most two) of drivers whose keywords the customer's reason uses: people
    tick what they are about to write about (the themes model learns from those ticks)."""
    text = (person.reason or "").lower()
    drivers = demo_catalog().drivers(categorize(person.score or 0))
    chosen = []
    for label, data in toggles:
        driver = drivers[int(data.rsplit(":", 1)[1])]
        words = [w.lower() for ws in driver.keywords.values() for w in ws]
        if any(w in text for w in words):
            chosen.append((label, data))
    return chosen[:2]


async def pick_drivers(person: Customer, user: SimUser, keyboard: BotMessage) -> None:
    """Tick one or two drivers (each press redraws the keyboard), press Done, and read the
    follow-up question."""
    buttons = [(text, data) for row in keyboard.buttons for text, data in row if data]
    toggles, done = buttons[:-1], buttons[-1]
    picked = _drivers_written_about(person, toggles) or person.rng.sample(
        toggles, person.rng.choice((1, 2))
    )
    for text, data in picked:
        await pause(person, 0.2, 0.8)
        person.says(f"taps [{text}]")
        edits = keyboard.edit_count
        await user.press(keyboard, data=data)
        try:
            await user.wait_for_edit(keyboard.message_id, timeout=STEP_TIMEOUT, edits=edits + 1)
        except TimeoutError as exc:
            raise DemoError(f"{person.external_id}: [{text}] was not ticked: {exc}") from None
    by_index = demo_catalog().drivers(categorize(person.score or 0))
    person.drivers = tuple(
        by_index[i].id for i in sorted(int(data.rsplit(":", 1)[1]) for _, data in picked)
    )
    await pause(person, 0.2, 0.8)
    person.says(f"taps [{done[0]}]")
    since = user.last_message_id
    await user.press(keyboard, data=done[1])
    await next_reply(person, user, "the follow-up question", since=since)
    person.sees(keyboard)


async def give_reason(person: Customer, user: SimUser) -> None:
    """Type the reason and check the bot's thank-you is the one for the category."""
    assert person.reason is not None and person.category is not None
    await pause(person, 0.5, 2.0)
    person.says(person.reason)
    await user.send_text(person.reason)
    thanks = await next_reply(person, user, "the thank-you")
    expected = demo_catalog().render(thanks_key(person.category), person.lang)
    if thanks.text != expected:
        raise DemoError(
            f"{person.external_id} scored {person.score} and expected the thank-you "
            f"{expected!r} but got {thanks.text!r}"
        )
    person.thanked = True


async def act(person: Customer, server: StandIn, db: Database, secret: str) -> None:
    """Everything one customer does, from opening the link to the thank-you."""
    await pause(person, 0.0, 2.0)
    user = server.add_user(first_name=person.name, language_code=person.language_code)
    await link(person, user, secret)
    if person.switches_language:
        await switch_language(person, user)
    if person.behaviour is Behaviour.OPT_OUT:
        await opt_out(person, user)
    since = user.last_message_id
    await enqueue(person, db)
    if person.behaviour is Behaviour.OPT_OUT:
        return  # the survey is skipped at once: nothing arrives
    question = await next_reply(person, user, "the survey question", since=since, buttons=True)
    if person.behaviour is Behaviour.IGNORE:
        person.says("(reads it and never answers)")
        return
    for junk in person.junk:
        await send_junk(person, user, junk)
    keyboard = await give_score(person, user, question)
    await pick_drivers(person, user, keyboard)
    await give_reason(person, user)


async def run_customers(
    people: Sequence[Customer], server: StandIn, db: Database, secret: str
) -> list[str]:
    """All customers at once; returns the problems (empty when all went as planned)."""
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            results = await asyncio.gather(
                *(act(p, server, db, secret) for p in people), return_exceptions=True
            )
    except TimeoutError:
        return [f"the customers did not finish within {RUN_TIMEOUT:.0f} s"]
    problems = []
    for person, result in zip(people, results, strict=True):
        if isinstance(result, DemoError):
            problems.append(str(result))
        elif isinstance(result, BaseException):
            problems.append(f"{person.external_id}: {type(result).__name__}: {result}")
    return problems
