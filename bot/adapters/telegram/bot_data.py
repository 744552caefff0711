"""Where the running bot keeps its services: ``application.bot_data``."""

from __future__ import annotations

from telegram.ext import ContextTypes

from bot.usecases.services import Services

SERVICES_KEY = "services"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services registered at start-up."""
    found = context.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
