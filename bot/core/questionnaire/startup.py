"""Loading the configured questionnaire at start-up: the one place a bad file is caught.

The bot, the ``npsbot event`` command and the demo all build their :class:`Catalog` here,
so a questionnaire problem stops each of them the same way, before anything is sent.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.loader import QuestionnaireError, load_questionnaire
from bot.core.questionnaire.model import Questionnaire

log = logging.getLogger(__name__)

__all__ = ["QuestionnaireError", "builtin_catalog", "load_catalog", "report_missing_translations"]


def builtin_catalog(company: str, default_language: str = "en") -> Catalog:
    """The built-in questionnaire (English and Simplified Chinese, no drivers)."""
    questionnaire = Questionnaire()
    if default_language not in questionnaire.languages:
        raise QuestionnaireError(
            f"<built-in>: default_language: {default_language!r} is not one of "
            f"{list(questionnaire.languages)}"
        )
    return Catalog(dataclasses.replace(questionnaire, default_language=default_language), company)


def load_catalog(path: str | None, company: str, default_language: str = "en") -> Catalog:
    """The catalog for the questionnaire at ``path`` (None: the built-in one).

    Raises :class:`QuestionnaireError` with one line ``<file>: <key>: <problem>``. A file's
    own ``default_language`` wins over ``default_language`` (the setting applies only to
    the built-in questionnaire).
    """
    if path is None:
        return builtin_catalog(company, default_language)
    return Catalog(load_questionnaire(path), company)


def report_missing_translations(catalog: Catalog) -> list[str]:
    """Log, once, every text that falls back to the default language; returns the list."""
    missing = catalog.missing_translations()
    if missing:
        log.warning(
            "questionnaire %s: %d text(s) missing a translation fall back to %r: %s",
            catalog.questionnaire.source,
            len(missing),
            catalog.default_language,
            ", ".join(missing),
        )
    return missing
