"""Which language to speak to a customer."""

from __future__ import annotations

import re
from collections.abc import Collection

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize_tag(tag: str | None) -> str | None:
    """The primary language subtag in lower case: "zh-Hans" → "zh", "en_US" → "en".

    Telegram's ``language_code`` is an IETF tag; the questionnaire's languages are keyed by
    primary subtag, which is as fine-grained as a survey's wording needs to be.
    """
    if not tag or not _TAG.fullmatch(tag.strip()):
        return None
    return re.split(r"[-_]", tag.strip())[0].lower()


def resolve_language(
    preferred: str | None,
    telegram_code: str | None,
    available: Collection[str],
    default: str,
) -> str:
    """The customer's stored choice, else Telegram's app language, else the default."""
    for candidate in (normalize_tag(preferred), normalize_tag(telegram_code)):
        if candidate is not None and candidate in available:
            return candidate
    return default
