"""The demo's customers: who they are, what they will do, what they will say (seeded), and
the transcript of what they saw."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.nps import Category
from standin.models import BotMessage

CHINESE_SHARE = 3  # one customer in three uses Telegram in Chinese

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
    Category.PROMOTER: (
        "快递员很准时，态度也很好",
        "物流跟踪很准确",
        "送货速度非常快",
        "第二天就送到了，比预期还快",
        "快递小哥很有礼貌，还帮我送上楼",
        "运费便宜，性价比很高",
    ),
    Category.PASSIVE: (
        "总体还行，就是送货时间段太长",
        "价格有点贵",
        "包装有点压坏了",
        "物流信息更新得有点慢",
        "客服回复还可以，就是要等很久",
    ),
    Category.DETRACTOR: (
        "包裹晚了两天也没人通知我",
        "包裹送到时已经损坏",
        "客服一直不回复",
        "运费又涨价了，太贵",
        "显示签收了但我根本没收到",
        "快递员态度很差，直接扔在门口",
    ),
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
