"""Rendering customer-facing texts in the customer's language, per survey kind and event.

Lookup order for a key: the event type's override in the language, the questionnaire's text
in the language, the built-in text in the language, then the same three in the default
language, then built-in English. Missing translations are listed at start-up
(:meth:`Catalog.missing_translations`), so nobody learns of them from a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.nps import Category
from bot.core.questionnaire.language import resolve_language
from bot.core.questionnaire.loader import builtin_texts, placeholders
from bot.core.questionnaire.model import Driver, EventType, Questionnaire
from bot.core.records import Customer


class Catalog:
    """Every customer-facing text the bot can say, in every configured language."""

    def __init__(self, questionnaire: Questionnaire, company: str) -> None:
        self.questionnaire = questionnaire
        self._company = company
        self._builtin = builtin_texts()

    @property
    def languages(self) -> tuple[str, ...]:
        return self.questionnaire.languages

    @property
    def default_language(self) -> str:
        return self.questionnaire.default_language

    def language_for(self, preferred: str | None, telegram_code: str | None) -> str:
        """The customer's language: their stored choice, else Telegram's app language,
        else the default (each only if the questionnaire offers it)."""
        return resolve_language(preferred, telegram_code, self.languages, self.default_language)

    def _lookup(self, key: str, lang: str, event: EventType | None) -> str:
        q = self.questionnaire
        for language in dict.fromkeys((lang, q.default_language, "en")):
            if event is not None and key in event.texts.get(language, {}):
                return event.texts[language][key]
            if key in q.texts.get(language, {}):
                return q.texts[language][key]
            if key in self._builtin.get(language, {}):
                return self._builtin[language][key]
        raise KeyError(key)

    def _names(self, lang: str) -> dict[str, str]:
        q = self.questionnaire
        company = q.company.get(lang) or q.company.get(q.default_language) or self._company
        product = q.product.get(lang) or q.product.get(q.default_language) or company
        return {"company": company, "product": product}

    def render(self, key: str, lang: str, /, **params: Any) -> str:
        """The text for ``key`` in ``lang`` (with fallback), placeholders filled in."""
        return self._lookup(key, lang, None).format_map({**self._names(lang), **params})

    def question(
        self,
        kind: str,
        lang: str,
        event_type: str | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> str:
        """The 0-10 question for a survey of ``kind`` triggered by ``event_type``.

        An event type's own wording is used only when every property it names is present;
        otherwise the general wording, so a survey never shows a broken placeholder.
        """
        key = f"question_{kind}"
        event = self.questionnaire.event_types.get(event_type or "")
        values: dict[str, Any] = {**self._names(lang), "event": self.event_label(event_type, lang)}
        if event is not None:
            props = properties or {}
            template = self._lookup(key, lang, event)
            needed = placeholders(template) - set(values)
            if all(p in props and str(props[p]).strip() for p in needed):
                return template.format_map({**values, **{p: str(props[p]) for p in needed}})
        return self._lookup(key, lang, None).format_map(values)

    def event_label(self, event_type: str | None, lang: str) -> str:
        """How to name the event in a question ("delivery"), or a neutral word."""
        event = self.questionnaire.event_types.get(event_type or "")
        if event is not None:
            label = event.labels.get(lang) or event.labels.get(self.default_language)
            if label:
                return label
        if event_type and event is None and lang == "en":
            return event_type.replace("_", " ")
        return self.render("event_default", lang)

    def drivers(self, category: Category) -> tuple[Driver, ...]:
        """The drivers offered for this category."""
        return self.questionnaire.drivers_for(category)

    def driver_label(self, driver: Driver, lang: str) -> str:
        """A driver's label in ``lang``, else in the default language."""
        return driver.labels.get(lang) or driver.labels[self.default_language]

    def language_name(self, lang: str) -> str:
        """How a language names itself ("English", "简体中文")."""
        return self.questionnaire.language_names.get(lang, lang)

    def required_properties(self, event_type: str | None) -> tuple[str, ...]:
        """Properties an event of this type must carry (declared in the questionnaire)."""
        event = self.questionnaire.event_types.get(event_type or "")
        return event.properties if event is not None else ()

    def missing_properties(
        self, event_type: str | None, properties: Mapping[str, Any]
    ) -> list[str]:
        """Declared properties absent or empty in ``properties`` (for a 422 from the API)."""
        return [
            p
            for p in self.required_properties(event_type)
            if p not in properties or not str(properties[p]).strip()
        ]

    def missing_translations(self) -> list[str]:
        """``lang: key`` for every text that would fall back to another language."""
        q = self.questionnaire
        keys = set(self._builtin["en"])
        missing = []
        for lang in q.languages:
            if lang == q.default_language:
                continue
            have = set(self._builtin.get(lang, {})) | set(q.texts.get(lang, {}))
            missing += [f"{lang}: {key}" for key in sorted(keys - have)]
            for name, event in q.event_types.items():
                for key in event.texts.get(q.default_language, {}):
                    if key not in event.texts.get(lang, {}):
                        missing.append(f"{lang}: event_types.{name}.{key}")
                if event.labels and lang not in event.labels:
                    missing.append(f"{lang}: event_types.{name}.label")
            for drivers in q.drivers.values():
                missing += [
                    f"{lang}: drivers.labels.{d.id}" for d in drivers if lang not in d.labels
                ]
            for field_name, table in (("company", q.company), ("product", q.product)):
                if table and lang not in table:
                    missing.append(f"{lang}: {field_name}")
        return sorted(set(missing))


def customer_language(catalog: Catalog, customer: Customer | None) -> str:
    """The language to write to a stored customer in (no update at hand)."""
    if customer is None:
        return catalog.default_language
    return catalog.language_for(customer.language, customer.telegram_language)
