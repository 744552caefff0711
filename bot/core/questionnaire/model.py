"""What a questionnaire file describes, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.nps import Category

# language → key → text
Texts = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Driver:
    """A factor a customer can say drove their score (price, speed, staff...)."""

    id: str
    labels: Mapping[str, str]  # language → label
    # language → words and phrases customers use about it (seed the comment themes)
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventType:
    """Wording and required properties for surveys triggered by one kind of event."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)  # language → "delivery"
    properties: tuple[str, ...] = ()  # required event properties, usable as placeholders
    texts: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class Questionnaire:
    """A company's questionnaire: the built-in one when no file is configured."""

    source: str = "<built-in>"
    default_language: str = "en"
    languages: tuple[str, ...] = ("en", "zh")
    company: Mapping[str, str] = field(default_factory=dict)  # language → name
    product: Mapping[str, str] = field(default_factory=dict)
    texts: Texts = field(default_factory=dict)
    event_types: Mapping[str, EventType] = field(default_factory=dict)
    drivers: Mapping[Category, tuple[Driver, ...]] = field(default_factory=dict)
    promoter_link: str | None = None
    language_names: Mapping[str, str] = field(default_factory=dict)

    def drivers_for(self, category: Category) -> tuple[Driver, ...]:
        """The drivers offered after a score of this category (empty: no drivers step)."""
        return self.drivers.get(category, ())
