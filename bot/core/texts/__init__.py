"""The one text catalog: every word the bot says, per audience and language.

Three audiences share one set of tables per built-in language (:mod:`bot.core.texts.en`,
:mod:`bot.core.texts.zh`):

* ``customer``: what customers read. :class:`bot.core.questionnaire.catalog.Catalog` renders
  these, with the questionnaire file's overrides and fallbacks on top.
* ``admin``: what the feedback team reads (commands, alerts, the relay, ``/stats``).
* ``report``: the daily digest, ``/nps`` and the chart's labels.

Admin and report texts are read through :class:`AdminTexts`, bound to the admin language
(``NPSBOT_ADMIN_LANGUAGE``). English is the reference: every key exists in every built-in
language with the same placeholders (checked by the tests), and a language the tables do
not know falls back to English.

Pure: the standard library and :mod:`bot.domain` only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.core.nps import Category
from bot.core.texts import en, zh

__all__ = [
    "AUDIENCES",
    "BUILTIN_LANGUAGES",
    "LANGUAGE_NAMES",
    "AdminTexts",
    "Audience",
    "TextError",
    "TextRef",
    "admin_texts",
    "builtin_customer_texts",
    "fields",
    "followup_key",
    "table",
    "thanks_key",
]

Audience = Literal["customer", "admin", "report"]
AUDIENCES: tuple[Audience, ...] = ("customer", "admin", "report")

_TABLES: dict[str, dict[Audience, Mapping[str, str]]] = {
    "en": {"customer": en.CUSTOMER, "admin": en.ADMIN, "report": en.REPORT},
    "zh": {"customer": zh.CUSTOMER, "admin": zh.ADMIN, "report": zh.REPORT},
}
BUILTIN_LANGUAGES: tuple[str, ...] = tuple(_TABLES)

#: How each built-in language names itself (the customer's /language keyboard).
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh": "简体中文"}


def table(lang: str, audience: Audience) -> Mapping[str, str]:
    """The built-in texts of one audience in one built-in language (KeyError otherwise)."""
    return _TABLES[lang][audience]


def builtin_customer_texts() -> dict[str, dict[str, str]]:
    """language → key → text of the built-in customer texts (a fresh copy to extend)."""
    return {lang: dict(tables["customer"]) for lang, tables in _TABLES.items()}


def fields(template: str) -> set[str]:
    """The placeholder names in ``template`` (``{rows:,}`` counts as ``rows``)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def followup_key(category: Category) -> str:
    """The customer text key of the follow-up question for a score's category."""
    return f"followup_{category.value}"


def thanks_key(category: Category) -> str:
    """The customer text key of the closing thank-you for a score's category."""
    return f"thanks_{category.value}"


@dataclass(frozen=True, slots=True)
class TextRef:
    """A parameter that is itself a catalog text (a help line inside an error message),
    rendered in the same language as the text it fills."""

    key: str


class TextError(ValueError):
    """An error whose message is an admin catalog text, shown in the admin language by
    :meth:`AdminTexts.error`; ``str(error)`` is the English text, for logs and tests."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(admin_texts("en").error(self))


class AdminTexts:
    """The admin and report texts in one language (English where a key is missing)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in _TABLES else "en"
        tables = _TABLES[self.lang]
        english = _TABLES["en"]
        # English first, so a translation that lacks a key still says something.
        self._texts: dict[str, str] = {
            **english["admin"],
            **english["report"],
            **tables["admin"],
            **tables["report"],
        }

    def has(self, key: str) -> bool:
        """True when ``key`` is an admin or report text."""
        return key in self._texts

    def render(self, key: str, /, **params: object) -> str:
        """The text for ``key`` with ``params`` filled in (KeyError for an unknown key)."""
        return self._texts[key].format(**params)

    def usage(self, command: str) -> str:
        """How to use an admin command."""
        return self.render(f"usage_{command}")

    def skip_reason(self, reason: str) -> str:
        """Why a survey was not sent, in words (the code itself if unknown)."""
        return self._named("skip_reason", reason)

    def kind(self, kind: str) -> str:
        """A survey kind's name ("transactional"), or the stored value if unknown."""
        return self._named("kind", kind)

    def status(self, status: str) -> str:
        """A survey status's name ("answered"), or the stored value if unknown."""
        return self._named("status", status)

    def media(self, kind: str) -> str:
        """What a customer sent instead of text ("sticker"), or the kind if unknown."""
        return self._named("media", kind)

    def error(self, exc: BaseException) -> str:
        """An error's message for the admin: a :class:`TextError` in this language,
        anything else as it is."""
        if isinstance(exc, TextError):
            params = {
                name: self.render(value.key) if isinstance(value, TextRef) else value
                for name, value in exc.params.items()
            }
            return self.render(exc.key, **params)
        return str(exc)

    def _named(self, prefix: str, value: str) -> str:
        key = f"{prefix}_{value}"
        return self.render(key) if key in self._texts else value


_ADMIN_TEXTS: dict[str, AdminTexts] = {}


def admin_texts(lang: str) -> AdminTexts:
    """The admin texts in ``lang`` (NPSBOT_ADMIN_LANGUAGE: "en" or "zh")."""
    texts = _ADMIN_TEXTS.get(lang)
    if texts is None:
        texts = _ADMIN_TEXTS[lang] = AdminTexts(lang)
    return texts
