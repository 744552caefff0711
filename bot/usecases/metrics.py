"""The bot's Prometheus metrics, in a registry the application owns.

One :class:`Metrics` per running bot (tests build as many as they like: nothing is
registered in prometheus-client's global default registry). Counters move where the work
happens (the handler decorator, the sender); the queue depths and the survey and digest
totals are read from the database when ``/metrics`` is scraped (:func:`refresh_from_db`),
so they are right after a restart and count work done by the CLI too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.records import SurveyStatus
from storage import Database, Tx, digests, outbox, surveys, webhooks

#: The Content-Type of the text exposition format that ``generate_latest`` writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Update handling takes milliseconds to a few seconds (a slow database, a big file).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What ``/metrics`` reads from the database at scrape time."""

    pending_surveys: int = 0
    outbox_pending: int = 0
    webhook_deliveries_pending: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0
    surveys_expired: int = 0
    digests_sent: int = 0


async def read_snapshot(tx: Tx) -> DatabaseSnapshot:
    """The queue depths and totals, in one read transaction."""
    by_status = await surveys.count_by_status(tx)
    return DatabaseSnapshot(
        pending_surveys=by_status[SurveyStatus.PENDING],
        outbox_pending=await outbox.count_pending(tx),
        webhook_deliveries_pending=await webhooks.count_pending(tx),
        surveys_sent=await surveys.count_ever_sent(tx),
        surveys_answered=by_status[SurveyStatus.ANSWERED],
        surveys_expired=by_status[SurveyStatus.EXPIRED],
        digests_sent=await digests.count_sent(tx),
    )


class _DatabaseCollector(Collector):
    """Exposes the latest :class:`DatabaseSnapshot` (collectors are synchronous; the
    asynchronous read happens just before, in :meth:`Metrics.scrape`)."""

    def __init__(self) -> None:
        self.snapshot = DatabaseSnapshot()

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        queue = GaugeMetricFamily(
            "npsbot_queue_depth", "Work waiting in the database, by queue", labels=["queue"]
        )
        queue.add_metric(["pending_surveys"], s.pending_surveys)
        queue.add_metric(["outbox"], s.outbox_pending)
        queue.add_metric(["webhook_deliveries"], s.webhook_deliveries_pending)
        yield queue
        # Totals over the database's life (a survey erased on request leaves them).
        total = CounterMetricFamily(
            "npsbot_surveys", "Surveys that reached each state", labels=["state"]
        )
        total.add_metric(["sent"], s.surveys_sent)
        total.add_metric(["answered"], s.surveys_answered)
        total.add_metric(["expired"], s.surveys_expired)
        yield total
        yield CounterMetricFamily("npsbot_digests_sent", "Daily digests sent", s.digests_sent)


class Metrics:
    """Every metric of one bot, in its own :class:`CollectorRegistry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "npsbot_updates_handled",
            "Telegram updates handled, by kind (command, message, press:<button>) and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "npsbot_update_handling_seconds",
            "Time to handle one update, commit and answer included",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_calls = Counter(
            "npsbot_bot_api_calls",
            "Bot API calls made by the sender, by method and result (ok, 429, 4xx, 5xx, network)",
            ["method", "result"],
            registry=self.registry,
        )
        self._database = _DatabaseCollector()
        self.registry.register(self._database)

    async def scrape(self, db: Database) -> bytes:
        """The text exposition, with the database's numbers read now."""
        async with db.read() as tx:
            self._database.snapshot = await read_snapshot(tx)
        return generate_latest(self.registry)
