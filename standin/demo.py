"""``npsbot demo``: the real bot, offline, against the local Telegram stand-in.

The demo starts the stand-in in this process and the real bot as a child process
(``python -m bot run``) pointed at it, in a temporary directory. Simulated customers of
"Acme Delivery" open their signed deep links, each gets one transactional survey (queued
straight into the bot's database, as ``npsbot survey`` does) and answers it the way real
people do: most tap a button, some type the number, some send nonsense first, some ignore
the survey and one or two send /stop before it arrives. The bot runs with the shipped
``questionnaire.example.toml``: about a third of the customers use Telegram in Chinese
(``language_code`` zh-hans) and see every text in Chinese, one switches to Chinese with
/language, and everyone who answers picks one or two drivers before writing their reason.
Detractors' alerts reach the admin group; at the end an admin sends /digest there and the
demo waits for the digest (chart and text), then /export for the CSV (with the drivers).
Afterwards the demo stops the bot with SIGTERM and prints what happened, read back from the
bot's own database, and everything the admin group received.

Nothing leaves 127.0.0.1 and no Telegram token is needed. On success the temporary
directory is removed; on failure it is kept and the bot's log path and its last lines are
printed.
"""

from __future__ import annotations

import asyncio
import functools
import random
import secrets
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.dispatch.queueing import queue_survey
from bot.domain.nps import Category, Counts, NpsEstimate, categorize, estimate
from bot.linking import make_payload
from bot.questionnaire.catalog import Catalog
from bot.questionnaire.loader import load_questionnaire
from bot.telegram.callback_data import LANGUAGE, LanguagePress
from bot.telegram.services import utc_now
from bot.texts import thanks_key
from standin.botprocess import BotProcess, offline_env
from standin.models import BotMessage
from standin.server import StandIn
from standin.users import SimGroup, SimUser
from storage import Database, answers, surveys
from storage.records import Answer, Survey, SurveyStatus

COMPANY = "Acme Delivery"
# The shipped example questionnaire: English and Chinese, drivers for every category.
QUESTIONNAIRE = Path(__file__).resolve().parents[1] / "questionnaire.example.toml"
CHINESE_SHARE = 3  # one customer in three uses Telegram in Chinese
EXPORT_LINES_SHOWN = 6
BOT_USERNAME = "acme_nps_demo_bot"
ADMIN_GROUP_TITLE = "Acme Delivery — NPS admins"

BOT_START_TIMEOUT = 30.0  # seconds until the bot must be polling the stand-in
STEP_TIMEOUT = 20.0  # seconds a customer waits for any one reply of the bot
RUN_TIMEOUT = 120.0  # seconds for all customers together
STOP_TIMEOUT = 15.0  # seconds the bot gets to shut down after SIGTERM
DIGEST_TIMEOUT = 60.0  # seconds for the digest to reach the (paced) admin group
LOG_TAIL_LINES = 30
SAMPLE_REASONS_PER_CATEGORY = 8

PLANS = ("basic", "basic", "basic", "pro")  # three in four customers are on basic
REGIONS = ("north", "south", "east", "west")
EVENT_TYPES = ("delivery", "delivery", "support_ticket")  # deliveries are more common
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tamar",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
)
# What people type instead of a score; each gets a polite correction from the bot.
JUNK = ("10/10", "ten", "sticker", "11")

# What Chinese-speaking customers write, by category.
REASONS_ZH: dict[Category, tuple[str, ...]] = {
    Category.PROMOTER: ("快递员很准时，态度也很好", "物流跟踪很准确", "送货速度非常快"),
    Category.PASSIVE: ("总体还行，就是送货时间段太长", "价格有点贵", "包装有点压坏了"),
    Category.DETRACTOR: ("包裹晚了两天也没人通知我", "包裹送到时已经损坏", "客服一直不回复"),
}

# Realistic reasons by category and by what the survey was about.
REASONS: dict[Category, dict[str, tuple[str, ...]]] = {
    Category.PROMOTER: {
        "delivery": (
            "Courier arrived early and was really friendly",
            "Tracking was spot on, I knew exactly when it would come",
            "Always on time, never had a damaged parcel",
            "The driver left it with my neighbour exactly as I asked",
            "Rescheduling in the app took ten seconds",
        ),
        "support_ticket": (
            "Support sorted out my problem in five minutes",
            "A real person answered straight away and fixed it",
            "They refunded the lost parcel without any hassle",
            "Clear answers, no copy-paste replies",
        ),
    },
    Category.PASSIVE: {
        "delivery": (
            "Fine overall, but the delivery window is far too wide",
            "Arrived on time but the box was a bit dented",
            "Good service, a little pricey compared to others",
            "Would love evening delivery slots",
            "Mostly reliable, one parcel came a day late",
        ),
        "support_ticket": (
            "They helped, but it took two days to get a reply",
            "Solved in the end, after I chased them twice",
            "Friendly, but I had to repeat my order number three times",
            "OK, the chat bot before the human was annoying",
        ),
    },
    Category.DETRACTOR: {
        "delivery": (
            "Parcel was two days late and nobody told me",
            "Driver left it in the rain at the front door",
            "Tracking said delivered but it never arrived",
            "Waited at home all day and no one came",
            "The package arrived damaged",
        ),
        "support_ticket": (
            "Support closed my ticket without solving anything",
            "I was charged twice and I'm still waiting for the refund",
            "Had to explain my problem to three different agents",
            "No answer for a week, then a canned reply",
        ),
    },
}


class Behaviour(StrEnum):
    """How a simulated customer reacts to the survey."""

    PRESS = "presses a button"
    TYPE = "types the number"
    JUNK_FIRST = "sends junk first"
    IGNORE = "ignores the survey"
    OPT_OUT = "sends /stop first"


class DemoError(RuntimeError):
    """Something went wrong in the demo; the message says what."""


@functools.cache
def demo_catalog() -> Catalog:
    """The texts the bot will use, to check what the customers see against them."""
    return Catalog(load_questionnaire(QUESTIONNAIRE), COMPANY)


# --- planning the customers -------------------------------------------------------------


@dataclass
class Customer:
    """One simulated customer: who they are, what they will do, and what they saw."""

    index: int
    external_id: str
    name: str
    plan: str
    region: str
    event_type: str
    event_id: str
    behaviour: Behaviour
    category: Category | None
    score: int | None
    reason: str | None
    junk: tuple[str, ...]
    rng: random.Random
    language_code: str = "en"  # what their Telegram app sends
    switches_language: bool = False  # sends /language and picks Chinese
    transcript: list[tuple[str, str]] = field(default_factory=list)
    survey_id: int | None = None
    thanked: bool = False
    drivers: tuple[str, ...] = ()  # driver ids they picked

    @property
    def lang(self) -> str:
        """The language the bot should speak to them in."""
        return "zh" if self.switches_language or self.language_code.startswith("zh") else "en"

    @property
    def answers(self) -> bool:
        """Whether this customer gives a score and a reason."""
        return self.behaviour in (Behaviour.PRESS, Behaviour.TYPE, Behaviour.JUNK_FIRST)

    def says(self, text: str) -> None:
        """Record a line the customer typed or an action they took."""
        self.transcript.append(("customer", text))

    def sees(self, message: BotMessage) -> None:
        """Record a bot message as the customer saw it when it arrived."""
        text = message.shown_text or f"[{message.kind}]"
        if message.button_texts:
            text += "\n" + " ".join(f"[{b}]" for b in message.button_texts)
        self.transcript.append(("bot", text))


def allocate(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` into whole counts proportional to ``shares`` (largest remainder)."""
    weight = sum(shares)
    exact = [total * s / weight for s in shares]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def plan_behaviours(count: int, rng: random.Random) -> list[Behaviour]:
    """About 70 % press, 10 % type, 10 % send junk first, 10 % ignore; one or two opt out."""
    opt_outs = min(count, 1 if count < 20 else 2)
    kinds = (Behaviour.PRESS, Behaviour.TYPE, Behaviour.JUNK_FIRST, Behaviour.IGNORE)
    numbers = allocate(count - opt_outs, (0.7, 0.1, 0.1, 0.1))
    plan = [Behaviour.OPT_OUT] * opt_outs
    for kind, n in zip(kinds, numbers, strict=True):
        plan += [kind] * n
    rng.shuffle(plan)
    return plan


def plan_categories(count: int, rng: random.Random) -> list[Category]:
    """Categories for ``count`` answers: about 45 % promoters, 30 % passives, 25 % detractors."""
    order = (Category.PROMOTER, Category.PASSIVE, Category.DETRACTOR)
    numbers = allocate(count, (0.45, 0.30, 0.25))
    categories = [c for c, n in zip(order, numbers, strict=True) for _ in range(n)]
    rng.shuffle(categories)
    return categories


def pick_score(category: Category, rng: random.Random) -> int:
    """A score in the category; detractors lean towards 5 and 6, as in real surveys."""
    if category is Category.PROMOTER:
        return rng.choices((9, 10), weights=(45, 55))[0]
    if category is Category.PASSIVE:
        return rng.choices((7, 8), weights=(45, 55))[0]
    return rng.choices(range(7), weights=(4, 2, 3, 5, 7, 10, 12))[0]


def plan_customers(count: int, seed: int) -> list[Customer]:
    """``count`` customers with attributes, behaviour, intended score and reason (seeded)."""
    rng = random.Random(seed)
    behaviours = plan_behaviours(count, rng)
    answering = {Behaviour.PRESS, Behaviour.TYPE, Behaviour.JUNK_FIRST}
    categories = iter(plan_categories(sum(b in answering for b in behaviours), rng))
    people = []
    switcher_chosen = False
    for index, behaviour in enumerate(behaviours, start=1):
        own = random.Random(rng.getrandbits(64))
        event_type = own.choice(EVENT_TYPES)
        category = next(categories) if behaviour in answering else None
        chinese = index % CHINESE_SHARE == 0
        # The first English-speaking customer who answers switches to Chinese.
        switches = not chinese and behaviour in answering and not switcher_chosen
        switcher_chosen = switcher_chosen or switches
        reason = None
        if category is not None:
            pool = REASONS_ZH[category] if chinese or switches else REASONS[category][event_type]
            reason = own.choice(pool)
        junk: tuple[str, ...] = ()
        if behaviour is Behaviour.JUNK_FIRST:
            junk = tuple(own.sample(JUNK, own.choice((1, 2))))
        people.append(
            Customer(
                index=index,
                external_id=f"cust-{index:04d}",
                name=own.choice(FIRST_NAMES),
                plan=own.choice(PLANS),
                region=own.choice(REGIONS),
                event_type=event_type,
                event_id=f"demo-{seed}-{event_type}-{index:04d}",
                behaviour=behaviour,
                category=category,
                score=pick_score(category, own) if category else None,
                reason=reason,
                junk=junk,
                rng=own,
                language_code="zh-hans" if chinese else "en",
                switches_language=switches,
            )
        )
    return people


# --- the bot process --------------------------------------------------------------------


def fake_token() -> str:
    """A random token of BotFather's shape (digits, colon, 35 URL-safe characters)."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


def bot_environment(server: StandIn, db_path: Path, secret: str, admin_chat: int) -> dict[str, str]:
    """The bot's settings: all from the environment, none from a ``.env`` file."""
    return offline_env(
        server,
        db_path,
        link_secret=secret,
        company=COMPANY,
        bot_username=BOT_USERNAME,
        extra={
            "NPSBOT_ADMIN_CHAT_IDS": str(admin_chat),
            # The scheduled digest is off; the demo asks for it with /digest at the end.
            "NPSBOT_DIGEST_TIME": "off",
            "NPSBOT_DIGEST_ATTRIBUTE": "plan",
            "NPSBOT_QUESTIONNAIRE": str(QUESTIONNAIRE),
        },
    )


async def wait_polling(bot: BotProcess, server: StandIn, timeout: float) -> None:  # noqa: ASYNC109
    """Return once the bot polls the stand-in; DemoError if it exits or never does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while server.stats.calls.get("getUpdates", 0) == 0:
        if bot.exited:
            assert bot.proc is not None
            raise DemoError(f"the bot exited during start-up (code {bot.proc.returncode})")
        if asyncio.get_running_loop().time() > deadline:
            raise DemoError(f"the bot did not start polling within {timeout:.0f} s")
        await asyncio.sleep(0.05)


# --- the customers' side ----------------------------------------------------------------


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


async def pick_drivers(person: Customer, user: SimUser, keyboard: BotMessage) -> None:
    """Tick one or two drivers (each press redraws the keyboard), press Done, and read the
    follow-up question."""
    buttons = [(text, data) for row in keyboard.buttons for text, data in row if data]
    toggles, done = buttons[:-1], buttons[-1]
    picked = person.rng.sample(toggles, person.rng.choice((1, 2)))
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


async def request_digest(admins: SimGroup, admin: SimUser) -> list[str]:
    """An admin sends /digest in the admin group; wait for the chart and the text.

    The group is paced at 19 messages a minute and detractor alerts may be queued ahead of
    the digest, hence the generous timeout. Returns the problems (empty on success).
    """
    mark = admins.last_message_id
    await admins.send_text(admin, "/digest")
    try:
        photo = await admins.wait_for_message(
            lambda m: m.kind == "photo", timeout=DIGEST_TIMEOUT, since=mark
        )
        await admins.wait_for_message(
            lambda m: (m.text or "").startswith("NPS digest"), timeout=DIGEST_TIMEOUT, since=mark
        )
    except TimeoutError as exc:
        return [f"the digest did not reach the admin group: {exc}"]
    if not (photo.file_bytes or b"").startswith(b"\x89PNG\r\n\x1a\n"):
        return ["the digest's chart is not a PNG image"]
    return []


async def request_export(admins: SimGroup, admin: SimUser) -> list[str]:
    """An admin sends /export in the admin group; wait for the CSV document."""
    mark = admins.last_message_id
    await admins.send_text(admin, "/export")
    try:
        document = await admins.wait_for_message(
            lambda m: m.kind == "document", timeout=DIGEST_TIMEOUT, since=mark
        )
    except TimeoutError as exc:
        return [f"the export did not reach the admin group: {exc}"]
    header = (document.file_bytes or b"").decode("utf-8", "replace").split("\n", 1)[0]
    if "drivers" not in header.split(","):
        return [f"the export has no drivers column: {header!r}"]
    return []


# --- reading the results back -----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One customer's survey and answer as stored by the bot."""

    person: Customer
    survey: Survey
    answer: Answer | None


async def read_outcomes(
    db_path: Path, people: Iterable[Customer]
) -> tuple[list[Outcome], dict[SurveyStatus, int]]:
    """Every customer's survey and answer, and the status counts, from the bot's database."""
    db = await Database.open(db_path, migrate=False)
    try:
        outcomes = []
        async with db.read() as tx:
            for person in people:
                if person.survey_id is None:
                    continue
                survey = await surveys.get(tx, person.survey_id)
                if survey is None:
                    raise DemoError(
                        f"survey {person.survey_id} of {person.external_id} is "
                        "missing from the database"
                    )
                answer = await answers.get_for_survey(tx, survey.id)
                outcomes.append(Outcome(person, survey, answer))
            by_status = await surveys.count_by_status(tx)
    finally:
        await db.close()
    return outcomes, by_status


def check_outcomes(outcomes: Iterable[Outcome]) -> list[str]:
    """Differences between what each customer did and what the bot stored."""
    problems = []
    for o in outcomes:
        who = f"{o.person.external_id} ({o.person.behaviour})"
        if o.person.answers:
            if o.answer is None:
                problems.append(f"{who}: no answer stored (survey {o.survey.status})")
            elif (o.answer.score, o.answer.reason) != (o.person.score, o.person.reason):
                problems.append(
                    f"{who}: stored {o.answer.score} / {o.answer.reason!r}, "
                    f"gave {o.person.score} / {o.person.reason!r}"
                )
            elif o.answer.drivers != o.person.drivers:
                problems.append(
                    f"{who}: stored drivers {o.answer.drivers}, picked {o.person.drivers}"
                )
        elif o.person.behaviour is Behaviour.IGNORE and o.survey.status is not SurveyStatus.SENT:
            problems.append(f"{who}: survey is {o.survey.status}, expected sent")
        elif o.person.behaviour is Behaviour.OPT_OUT and (
            o.survey.status,
            o.survey.status_reason,
        ) != (SurveyStatus.SKIPPED, "opted_out"):
            problems.append(
                f"{who}: survey is {o.survey.status} ({o.survey.status_reason}), "
                "expected skipped (opted_out)"
            )
    return problems


# --- the report -------------------------------------------------------------------------


def heading(title: str) -> str:
    """A section heading."""
    return f"\n{title}\n{'─' * len(title)}"


def signed(value: float) -> str:
    """A score in points with its sign: +32, −5, 0."""
    rounded = round(value)
    return f"+{rounded}" if rounded > 0 else (f"−{-rounded}" if rounded < 0 else "0")


def nps_line(est: NpsEstimate, label: str = "NPS") -> str:
    """``NPS: +32 (n=30, 95% interval +5 to +52)``."""
    if est.score is None or est.low is None or est.high is None:
        return f"{label}: no answers yet (n=0)"
    return (
        f"{label}: {signed(est.score)} (n={est.n}, 95% interval "
        f"{signed(est.low)} to {signed(est.high)})"
    )


def format_transcript(person: Customer) -> list[str]:
    """What the customer saw and typed, one speaker per block."""
    scored = f" — scored {person.score} ({person.category})" if person.score is not None else ""
    lines = [
        f"\n▸ {person.name}, {person.external_id}: {person.plan} plan, {person.region}, "
        f"after a {person.event_type.replace('_', ' ')}; {person.behaviour}{scored}"
    ]
    for speaker, text in person.transcript:
        label = "Bot" if speaker == "bot" else "Customer"
        first, *rest = text.split("\n")
        lines.append(f"  {label:<9}│ {first}")
        lines += [f"  {'':<9}│ {more}" for more in rest]
    return lines


def pick_samples(outcomes: Sequence[Outcome]) -> list[Customer]:
    """A promoter, a passive and a detractor, preferring different behaviours."""
    chosen: list[Customer] = []
    for category in (Category.PROMOTER, Category.PASSIVE, Category.DETRACTOR):
        candidates = [
            o.person for o in outcomes if o.person.thanked and o.person.category is category
        ]
        shown = {p.behaviour for p in chosen}
        fresh = [p for p in candidates if p.behaviour not in shown]
        if fresh or candidates:
            chosen.append((fresh or candidates)[0])
    return chosen


def status_lines(by_status: dict[SurveyStatus, int], outcomes: Sequence[Outcome]) -> list[str]:
    """Counts of surveys by status, with the reasons of the closed ones."""
    total = sum(by_status.values())
    lines = [heading(f"Surveys by status ({total} queued)")]
    reasons = {
        status: Counter(
            o.survey.status_reason or "no reason" for o in outcomes if o.survey.status is status
        )
        for status in (SurveyStatus.SKIPPED, SurveyStatus.FAILED, SurveyStatus.EXPIRED)
    }
    notes = {SurveyStatus.SENT: "delivered, not answered", SurveyStatus.PENDING: "not sent yet"}
    for status, count in by_status.items():
        if count == 0:
            continue
        why = ", ".join(f"{r}: {n}" for r, n in reasons.get(status, Counter()).items())
        note = why or notes.get(status, "")
        lines.append(f"  {status.value:<9} {count:>4}" + (f"   ({note})" if note else ""))
    lines.append(f"  {'total':<9} {total:>4}")
    return lines


def answer_lines(answered: Sequence[Outcome]) -> list[str]:
    """Answers by category and the NPS with its interval."""
    scores = [o.answer.score for o in answered if o.answer is not None]
    counts = Counts.from_scores(scores)
    lines = [heading(f"Answers by category ({counts.n} answers)")]
    for category in Category:
        share = counts.share(category)
        pct = f"{share:.0%}" if share is not None else "–"
        lines.append(f"  {category.value + 's':<11} {counts.count(category):>4}   {pct:>4}")
    histogram = Counter(scores)
    lines.append(
        "  scores      " + "  ".join(f"{s}:{histogram[s]}" for s in range(11) if histogram[s])
    )
    lines.append("")
    lines.append(nps_line(estimate(counts)))
    return lines


def segment_lines(answered: Sequence[Outcome]) -> list[str]:
    """NPS by event type and by plan (from the attributes stored with each survey)."""
    lines = [heading("NPS by segment")]
    rows: list[tuple[str, list[int]]] = []
    for key, label in (("event_type", "event"), ("plan", "plan"), ("region", "region")):
        groups: dict[str, list[int]] = {}
        for o in answered:
            assert o.answer is not None
            value = o.survey.event_type if key == "event_type" else o.survey.attributes.get(key)
            groups.setdefault(str(value), []).append(o.answer.score)
        for value, scores in sorted(groups.items()):
            rows.append((f"{label} = {value}", scores))
    width = max((len(name) for name, _ in rows), default=0)
    for name, scores in rows:
        lines.append("  " + nps_line(estimate(Counts.from_scores(scores)), name.ljust(width)))
    return lines


def reason_lines(answered: Sequence[Outcome]) -> list[str]:
    """The customers' own words, by category."""
    lines = [heading("Reasons by category")]
    for category in Category:
        rows = [
            o for o in answered if o.answer is not None and categorize(o.answer.score) is category
        ]
        lines.append(f"  {category.value.capitalize()}s ({len(rows)}):")
        for o in sorted(rows, key=lambda o: -(o.answer.score if o.answer else 0))[
            :SAMPLE_REASONS_PER_CATEGORY
        ]:
            assert o.answer is not None
            lines.append(
                f"    [{o.answer.score:>2}] “{o.answer.reason or '(no reason)'}” "
                f"— {o.survey.attributes.get('plan')}, {o.survey.event_type}"
            )
        if len(rows) > SAMPLE_REASONS_PER_CATEGORY:
            lines.append(f"    … and {len(rows) - SAMPLE_REASONS_PER_CATEGORY} more")
    return lines


def driver_lines(answered: Sequence[Outcome]) -> list[str]:
    """How often each driver was picked, by category (from the stored answers)."""
    catalog = demo_catalog()
    lines = [heading("Drivers picked, by category")]
    for category in Category:
        counts = Counter(
            d
            for o in answered
            if o.answer is not None and o.answer.category == category.value
            for d in o.answer.drivers or ()
        )
        labels = {d.id: catalog.driver_label(d, "en") for d in catalog.drivers(category)}
        listed = ", ".join(f"{labels.get(d, d)} {n}" for d, n in counts.most_common())
        lines.append(f"  {category.value.capitalize() + 's':<11} {listed or '–'}")
    return lines


def admin_lines(group: SimGroup) -> list[str]:
    """What the admin group received (nothing at all when it received nothing)."""
    messages = group.messages
    if not messages:
        return []
    lines = [heading(f"Admin group “{group.title}” received {len(messages)} message(s)")]
    for message in messages:
        text = message.shown_text or ""
        kind = "" if message.kind == "text" else f"[{message.kind}] "
        if message.kind == "photo" and message.file_bytes:
            size = len(message.file_bytes)
            kind = f"[chart: PNG image, {size // 1024} KB, caption:] "
        lines += ["  " + line for line in (kind + text).split("\n")]
        if message.kind == "document" and message.file_bytes:
            rows = message.file_bytes.decode("utf-8", "replace").splitlines()
            lines.append(f"  [CSV export, {len(rows) - 1} rows; the first {EXPORT_LINES_SHOWN}:]")
            lines += ["    " + row for row in rows[: EXPORT_LINES_SHOWN + 1]]
        lines.append("")
    return lines


def report(
    people: Sequence[Customer],
    outcomes: Sequence[Outcome],
    by_status: dict[SurveyStatus, int],
    server: StandIn,
    admins: SimGroup,
    seconds: float,
) -> str:
    """The whole printed report."""
    answered = [o for o in outcomes if o.answer is not None]
    behaviours = Counter(p.behaviour for p in people)
    stats = server.stats
    lines = [
        heading("The customers"),
        f"  {len(people)} customers in {seconds:.1f} s: "
        + ", ".join(f"{n} {b}" for b, n in behaviours.most_common()),
        f"  The bot made {sum(stats.calls.values())} Bot API calls and sent "
        f"{stats.total_deliveries} messages; the stand-in refused {stats.rate_limited} "
        f"for going too fast (429) and {stats.bad_requests} as malformed (400).",
    ]
    lines.append(heading("Sample conversations"))
    for person in pick_samples(outcomes):
        lines += format_transcript(person)
    lines += status_lines(by_status, outcomes)
    lines += answer_lines(answered)
    lines += segment_lines(answered)
    lines += reason_lines(answered)
    lines += driver_lines(answered)
    lines += admin_lines(admins)
    return "\n".join(lines)


# --- putting it together ----------------------------------------------------------------


def print_failure(problems: Sequence[str], bot: BotProcess, tmp: Path) -> None:
    """Say what went wrong, where the bot's log is, and its last lines."""
    print("\nDEMO FAILED:", file=sys.stderr)
    for problem in problems[:20]:
        print(f"  - {problem}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    if bot.exited and bot.proc is not None:
        print(f"The bot process exited with code {bot.proc.returncode}.", file=sys.stderr)
    print(f"Bot log: {bot.log_path} (the directory {tmp} is kept for inspection)", file=sys.stderr)
    print(f"Last {LOG_TAIL_LINES} lines of the bot's log:", file=sys.stderr)
    print(bot.tail(LOG_TAIL_LINES), file=sys.stderr)


async def demo_in(tmp: Path, count: int, seed: int) -> bool:
    """Run the demo with its files in ``tmp``; print the report or the failure."""
    people = plan_customers(count, seed)
    secret = secrets.token_urlsafe(32)
    db_path = tmp / "npsbot.sqlite3"
    loop = asyncio.get_running_loop()
    async with StandIn(token=fake_token(), bot_username=BOT_USERNAME) as server:
        admin = server.add_user("Alex", username="alex_acme_cx")
        admins = server.add_group(ADMIN_GROUP_TITLE, members=[admin])
        bot = BotProcess(bot_environment(server, db_path, secret, admins.id), tmp / "bot.log")
        print(
            f"NPS bot demo: {count} simulated customers of {COMPANY} (seed {seed}), "
            f"local Telegram stand-in at {server.base_url.removesuffix('/bot')}"
        )
        started = loop.time()
        problems: list[str] = []
        try:
            bot.start()
            await wait_polling(bot, server, BOT_START_TIMEOUT)
            print(f"Bot running (pid {bot.proc.pid if bot.proc else '?'}); customers at work…")
            db = await Database.open(db_path, migrate=False)
            try:
                problems = await run_customers(people, server, db, secret)
            finally:
                await db.close()
            if not problems:
                print("Customers done; an admin asks for the digest with /digest…")
                problems = await request_digest(admins, admin)
            if not problems:
                print("…and the CSV export with /export…")
                problems = await request_export(admins, admin)
        except DemoError as exc:
            problems.append(str(exc))
        finally:
            was_running = bot.proc is not None and not bot.exited
            code = await bot.stop_async(STOP_TIMEOUT)
            if was_running and code != 0:
                problems.append(f"the bot exited with code {code} after SIGTERM")
            elif not was_running and bot.proc is not None and not problems:
                problems.append(f"the bot exited on its own (code {code})")
        seconds = loop.time() - started
        if problems:
            print_failure(problems, bot, tmp)
            return False
        outcomes, by_status = await read_outcomes(db_path, people)
        problems = check_outcomes(outcomes)
        print(report(people, outcomes, by_status, server, admins, seconds))
        if problems:
            print_failure(
                ["the database disagrees with what the customers did:", *problems], bot, tmp
            )
            return False
    print("\nDemo finished: the bot was stopped with SIGTERM and shut down cleanly.")
    return True


async def run_demo(customers: int = 40, seed: int = 7) -> int:
    """Run the offline demo; 0 on success, 1 if anything went wrong (reported on stderr)."""
    if customers < 1:
        print("npsbot demo: --customers must be at least 1", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="npsbot-demo-"))
    ok = False
    try:
        ok = await demo_in(tmp, customers, seed)
    except DemoError as exc:
        print(f"\nDEMO FAILED: {exc}\n(files kept in {tmp})", file=sys.stderr)
    finally:
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1
