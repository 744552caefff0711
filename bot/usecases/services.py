"""The bot's collaborators in one object: what every use case and handler works with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.usecases.dispatching import Dispatcher
from bot.core.flood import FloodCounters
from bot.core.nps import Cutoffs
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.startup import builtin_catalog
from bot.core.texts import AdminTexts, admin_texts
from bot.usecases.background import Background, TaskSet
from bot.usecases.exporting import InlineExports
from bot.usecases.metrics import Metrics
from bot.usecases.ports import ExportBuilder, Outbound
from storage import Database


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass
class Services:
    """The bot's collaborators, shared by every handler."""

    settings: Settings
    db: Database
    sender: Outbound
    cutoffs: Cutoffs
    clock: Callable[[], datetime] = utc_now
    dispatcher: Dispatcher | None = None  # set at start-up; wake() it after queueing
    # Starts background work (handlers' replies that must not hold up the update); the
    # running bot's is entered and awaited on stop, a bare one (tests, tools) still
    # tracks its tasks and logs their failures.
    supervisor: Background = field(default_factory=TaskSet)
    # Every customer-facing text, in every language. Loaded and validated at start-up
    # (bot.composition.runtime); left out (tests, tools) it is the built-in questionnaire.
    catalog: Catalog = None  # type: ignore[assignment]
    # Prometheus metrics (served at the ops API's /metrics); the sender counts in the same.
    metrics: Metrics = field(default_factory=Metrics)
    # What the per-chat flood limits dropped or collapsed since start-up (/stats, the log).
    flood: FloodCounters = field(default_factory=FloodCounters)
    # Builds /export's files: the running bot's in a child process (bot.composition.exports);
    # left out (tests, tools) in this process, on the bot's reader connection.
    exports: ExportBuilder = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.exports is None:
            self.exports = InlineExports(self.db)
        if self.catalog is None:
            self.catalog = builtin_catalog(
                self.settings.company_name, self.settings.default_language
            )

    @property
    def admin_texts(self) -> AdminTexts:
        """The admin-facing texts, in ``NPSBOT_ADMIN_LANGUAGE``."""
        return admin_texts(self.settings.admin_language)
