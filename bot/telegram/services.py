"""What handlers need, in one object stored in ``application.bot_data``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.dispatch.dispatcher import Dispatcher
    from bot.telegram.polling import Poller
    from bot.webhooks.deliverer import WebhookDeliverer
from bot.domain.nps import Cutoffs
from bot.metrics import Metrics
from bot.questionnaire.catalog import Catalog
from bot.supervisor import Supervisor
from bot.telegram.sender import Sender
from storage import Database

SERVICES_KEY = "services"


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass
class Services:
    """The bot's collaborators, shared by every handler."""

    settings: Settings
    db: Database
    sender: Sender
    cutoffs: Cutoffs
    clock: Callable[[], datetime] = utc_now
    dispatcher: Dispatcher | None = None  # set at start-up; wake() it after queueing
    webhooks: WebhookDeliverer | None = None  # set at start-up when endpoints exist
    poller: Poller | None = None  # set at start-up; its last getUpdates tells readiness
    # Starts background work (handlers' replies that must not hold up the update); the
    # running bot's is entered and awaited on stop, a bare one (tests, tools) still
    # tracks its tasks and logs their failures.
    supervisor: Supervisor = field(default_factory=Supervisor)
    # Every customer-facing text, in every language. Loaded and validated at start-up
    # (bot.runtime); left out (tests, tools) it is the built-in questionnaire.
    catalog: Catalog = None  # type: ignore[assignment]
    # Prometheus metrics (served at the ops API's /metrics); the sender counts in the same.
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        if self.catalog is None:
            from bot.questionnaire.startup import builtin_catalog

            self.catalog = builtin_catalog(
                self.settings.company_name, self.settings.default_language
            )


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services registered at start-up."""
    found = context.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
