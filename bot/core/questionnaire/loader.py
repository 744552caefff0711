"""Loading and validating a questionnaire file (TOML).

Every problem is reported at start-up as ``<file>: <key>: <problem>`` (TOML syntax errors
carry their line and column), never at send time. See ``questionnaire.example.toml``.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.nps import Category
from bot.core.questionnaire.model import Driver, EventType, Questionnaire
from bot.core.texts import LANGUAGE_NAMES, builtin_customer_texts

_ID = re.compile(r"^[a-z0-9_]{1,32}$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_EVENT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_DRIVERS = 12
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 64
MAX_TEXT = 3500  # leaves room in Telegram's 4,096 for the score line and placeholders

ALWAYS = frozenset({"company", "product"})
QUESTION_KEYS = frozenset(
    {"question", "question_transactional", "question_relationship", "question_episode"}
)


class QuestionnaireError(ValueError):
    """The questionnaire file is invalid; the message names the file, key and problem."""


def builtin_texts() -> dict[str, dict[str, str]]:
    """The built-in customer texts per language (from :mod:`bot.core.texts`)."""
    return builtin_customer_texts()


def placeholders(template: str) -> set[str]:
    """Field names used in ``template``; ValueError for anything but plain ``{name}``."""
    names: set[str] = set()
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            # {a.b}, {a[0]}, {a!r}, {a:>10} would let a template reach into objects.
            raise ValueError(f"placeholder {{{name}}} must be a plain {{name}}")
        names.add(name)
    return names


def allowed_placeholders(key: str, event: EventType | None = None) -> frozenset[str]:
    """The placeholders a text may use: the built-in text's own, plus company/product, plus,
    for questions, the event's label and its declared properties."""
    base = builtin_texts()["en"].get(key, "")
    allowed = set(placeholders(base)) | ALWAYS
    if key in QUESTION_KEYS:
        allowed.add("event")
        if event is not None:
            allowed.update(event.properties)
    return frozenset(allowed)


class _Reader:
    """Walks the parsed TOML, naming the key path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> QuestionnaireError:
        return QuestionnaireError(f"{self.source}: {key}: {problem}")

    def table(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "expected a table")
        return value

    def text(self, value: Any, key: str, max_len: int = MAX_TEXT) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected non-empty text")
        if len(value) > max_len:
            raise self.fail(key, f"longer than {max_len} characters")
        return value

    def per_language(
        self, value: Any, key: str, languages: set[str], max_len: int
    ) -> dict[str, str]:
        """Either one text for all languages or a table language → text."""
        if isinstance(value, str):
            return {lang: self.text(value, key, max_len) for lang in languages}
        table = self.table(value, key)
        out = {}
        for lang, text in table.items():
            if lang not in languages:
                raise self.fail(
                    f"{key}.{lang}", f"language not listed in languages {sorted(languages)}"
                )
            out[lang] = self.text(text, f"{key}.{lang}", max_len)
        return out

    def check_unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for name in table:
            if name not in allowed:
                where = f"{prefix}.{name}" if prefix else name
                raise self.fail(where, f"unknown key (expected one of {sorted(allowed)})")


def _texts(
    r: _Reader, raw: Any, prefix: str, languages: set[str], event: EventType | None
) -> dict[str, dict[str, str]]:
    known = builtin_texts()["en"]
    out: dict[str, dict[str, str]] = {}
    for lang, table in r.table(raw, prefix).items():
        if lang not in languages:
            raise r.fail(
                f"{prefix}.{lang}", f"language not listed in languages {sorted(languages)}"
            )
        for key, value in r.table(table, f"{prefix}.{lang}").items():
            where = f"{prefix}.{lang}.{key}"
            if key not in known:
                raise r.fail(where, "unknown text key (see the built-in keys in the example file)")
            text = r.text(value, where)
            try:
                used = placeholders(text)
            except ValueError as exc:
                raise r.fail(where, str(exc)) from None
            unknown = used - allowed_placeholders(key, event)
            if unknown:
                allowed = sorted(allowed_placeholders(key, event))
                raise r.fail(where, f"unknown placeholder(s) {sorted(unknown)}; allowed: {allowed}")
            out.setdefault(lang, {})[key] = text
    return out


def parse_questionnaire(data: Mapping[str, Any], source: str) -> Questionnaire:
    """Validate parsed TOML and build the questionnaire."""
    r = _Reader(source)
    r.check_unknown(
        data,
        {
            "default_language",
            "languages",
            "company",
            "product",
            "texts",
            "event_types",
            "drivers",
            "promoter_link",
            "language_names",
        },
        "",
    )
    raw_langs = data.get("languages", ["en", "zh"])
    if not isinstance(raw_langs, list) or not raw_langs:
        raise r.fail("languages", 'expected a non-empty list such as ["en", "zh"]')
    languages: list[str] = []
    for i, lang in enumerate(raw_langs):
        if not isinstance(lang, str) or not _LANG.fullmatch(lang):
            raise r.fail(f"languages[{i}]", 'expected a 2-3 letter language code such as "en"')
        if lang in languages:
            raise r.fail(f"languages[{i}]", f"{lang!r} listed twice")
        languages.append(lang)
    langset = set(languages)
    default = data.get("default_language", languages[0])
    if default not in langset:
        raise r.fail("default_language", f"{default!r} is not in languages {languages}")

    names = {
        **LANGUAGE_NAMES,
        **r.per_language(data.get("language_names"), "language_names", langset, 32),
    }
    missing_names = [lang for lang in languages if lang not in names]
    if missing_names:
        raise r.fail("language_names", f"give a display name for {missing_names}")

    company = r.per_language(data["company"], "company", langset, 100) if "company" in data else {}
    product = r.per_language(data["product"], "product", langset, 100) if "product" in data else {}

    events: dict[str, EventType] = {}
    for name, raw in r.table(data.get("event_types"), "event_types").items():
        prefix = f"event_types.{name}"
        if not _EVENT.fullmatch(name):
            raise r.fail(prefix, "event type names use letters, digits and _ . : - (max 64)")
        table = r.table(raw, prefix)
        r.check_unknown(table, {"label", "properties", "texts"}, prefix)
        props = table.get("properties", [])
        if not isinstance(props, list) or not all(
            isinstance(p, str) and p.isidentifier() and p not in ALWAYS | {"event"} for p in props
        ):
            raise r.fail(
                f"{prefix}.properties",
                "expected a list of property names (letters, digits, _), not company/product/event",
            )
        labels = (
            r.per_language(table["label"], f"{prefix}.label", langset, 64)
            if "label" in table
            else {}
        )
        partial = EventType(name=name, labels=labels, properties=tuple(props))
        texts = _texts(r, table.get("texts"), f"{prefix}.texts", langset, partial)
        events[name] = EventType(name=name, labels=labels, properties=tuple(props), texts=texts)

    drivers: dict[Category, tuple[Driver, ...]] = {}
    raw_drivers = r.table(data.get("drivers"), "drivers")
    r.check_unknown(raw_drivers, {c.value for c in Category} | {"labels", "keywords"}, "drivers")
    labels_table = r.table(raw_drivers.get("labels"), "drivers.labels")
    for lang in labels_table:
        if lang not in langset:
            raise r.fail(f"drivers.labels.{lang}", f"language not listed in languages {languages}")
    keywords_table = r.table(raw_drivers.get("keywords"), "drivers.keywords")
    for lang in keywords_table:
        if lang not in langset:
            raise r.fail(
                f"drivers.keywords.{lang}", f"language not listed in languages {languages}"
            )
    listed = {d for c in Category for d in (raw_drivers.get(c.value) or ()) if isinstance(d, str)}
    keywords = _driver_keywords(r, keywords_table, listed)
    for category in Category:
        ids = raw_drivers.get(category.value)
        if ids is None:
            continue
        key = f"drivers.{category.value}"
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_DRIVERS:
            raise r.fail(key, f"expected a list of 1 to {MAX_DRIVERS} driver ids")
        chosen: list[Driver] = []
        for i, driver_id in enumerate(ids):
            if not isinstance(driver_id, str) or not _ID.fullmatch(driver_id):
                raise r.fail(f"{key}[{i}]", "driver ids use a-z, 0-9 and _ (max 32)")
            if any(d.id == driver_id for d in chosen):
                raise r.fail(f"{key}[{i}]", f"{driver_id!r} listed twice")
            found = {}
            for lang in languages:
                lang_labels = r.table(labels_table.get(lang), f"drivers.labels.{lang}")
                if driver_id in lang_labels:
                    found[lang] = r.text(
                        lang_labels[driver_id], f"drivers.labels.{lang}.{driver_id}", 40
                    )
            if default not in found:
                raise r.fail(
                    f"drivers.labels.{default}.{driver_id}", "missing label in the default language"
                )
            chosen.append(Driver(id=driver_id, labels=found, keywords=keywords.get(driver_id, {})))
        drivers[category] = tuple(chosen)

    link = data.get("promoter_link")
    if link is not None:
        parts = urlsplit(link) if isinstance(link, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc:
            raise r.fail("promoter_link", "expected an https:// URL")

    return Questionnaire(
        source=source,
        default_language=default,
        languages=tuple(languages),
        company=company,
        product=product,
        texts=_texts(r, data.get("texts"), "texts", langset, None),
        event_types=events,
        drivers=drivers,
        promoter_link=link,
        language_names={lang: names[lang] for lang in languages},
    )


def _driver_keywords(
    r: _Reader, table: Mapping[str, Any], listed: set[str]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """``[drivers.keywords.<lang>]``: driver id → list of words and phrases, per language."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for lang, raw in table.items():
        per_driver = r.table(raw, f"drivers.keywords.{lang}")
        for driver_id, words in per_driver.items():
            key = f"drivers.keywords.{lang}.{driver_id}"
            if driver_id not in listed:
                raise r.fail(key, "not a driver listed under [drivers]")
            if not isinstance(words, list) or not 1 <= len(words) <= MAX_KEYWORDS:
                raise r.fail(key, f"expected a list of 1 to {MAX_KEYWORDS} words or phrases")
            out.setdefault(driver_id, {})[lang] = tuple(
                r.text(w, f"{key}[{i}]", MAX_KEYWORD_CHARS).strip() for i, w in enumerate(words)
            )
    return out


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire file."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise QuestionnaireError(f"{source}: cannot read the file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise QuestionnaireError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise QuestionnaireError(f"{source}: {exc}") from None
    return parse_questionnaire(data, source)
