"""Acme Delivery, the demo's company: its name, its bot, its admin group and the
questionnaire its bot runs with."""

from __future__ import annotations

import functools
from pathlib import Path

from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.loader import load_questionnaire

COMPANY = "Acme Delivery"
# The shipped example questionnaire: English and Chinese, drivers for every category. It is
# read from the source checkout (the repository root), which the demo runs from.
QUESTIONNAIRE = Path(__file__).resolve().parents[2] / "questionnaire.example.toml"
BOT_USERNAME = "acme_nps_demo_bot"
ADMIN_GROUP_TITLE = "Acme Delivery — NPS admins"


@functools.cache
def demo_catalog() -> Catalog:
    """The texts the bot will use, to check what the customers see against them."""
    return Catalog(load_questionnaire(QUESTIONNAIRE), COMPANY)
