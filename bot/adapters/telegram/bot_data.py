"""Where the running bot keeps its services: ``application.bot_data``."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from telegram.ext import ContextTypes

from bot.adapters.telegram.callbacks import PressAnswers
from bot.usecases.services import Services

SERVICES_KEY = "services"
PRESS_ANSWERS_KEY = "press_answers"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services registered at start-up."""
    found = context.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


def press_answers(bot_data: MutableMapping[Any, Any]) -> PressAnswers:
    """The application's record of answered presses (shared by the flood control and handlers)."""
    found = bot_data.setdefault(PRESS_ANSWERS_KEY, PressAnswers())
    assert isinstance(found, PressAnswers)
    return found
