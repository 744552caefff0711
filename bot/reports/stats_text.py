"""The admins' ``/stats`` text: queue and delivery health, in the admin language (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from html import escape
from typing import TYPE_CHECKING, Protocol

from bot.core.flood import FloodCounters
from bot.core.records import SurveyStatus
from bot.core.texts import AdminTexts
from bot.settings.webhooks import redact_text, redact_url

if TYPE_CHECKING:
    from storage.reports import DeliveryHealth
    from storage.webhooks import EndpointHealth

__all__ = ["DispatcherFigures", "SenderFigures", "privacy_line", "stats_text", "webhooks_line"]


class _LimiterFigures(Protocol):
    @property
    def rate(self) -> float: ...

    @property
    def configured_rate(self) -> float: ...


class SenderFigures(Protocol):
    """What ``/stats`` reads from the sender."""

    @property
    def last_success(self) -> datetime | None: ...

    @property
    def rate_limited(self) -> int: ...

    @property
    def limiter(self) -> _LimiterFigures: ...


class DispatcherFigures(Protocol):
    """What ``/stats`` reads from the survey dispatcher."""

    @property
    def sent(self) -> int: ...


def stats_text(
    texts: AdminTexts,
    tz: tzinfo,
    by_status: Mapping[SurveyStatus, int],
    health: DeliveryHealth,
    last_digest: date | None,
    sender: SenderFigures,
    dispatcher: DispatcherFigures | None,
    flood: FloodCounters | None = None,
) -> str:
    """The queue and delivery lines of ``/stats`` (HTML); ``flood``: what the per-chat
    flood limits dropped since start-up."""

    def when(value: datetime | None) -> str:
        if value is None:
            return texts.render("stats_never")
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    statuses = " · ".join(
        texts.render("stats_status", status=texts.status(status), count=by_status.get(status, 0))
        for status in SurveyStatus
    )
    oldest = (
        texts.render("stats_outbox_oldest", when=when(health.oldest_pending_at))
        if health.outbox_pending
        else ""
    )
    last = last_digest.isoformat() if last_digest else texts.render("stats_none_yet")
    lines = [
        texts.render("stats_title"),
        texts.render("stats_surveys", statuses=statuses),
        texts.render(
            "stats_outbox",
            pending=health.outbox_pending,
            oldest=oldest,
            failed=health.outbox_failed,
        ),
        texts.render(
            "stats_last_send", when=when(sender.last_success or health.last_outbox_done_at)
        ),
        texts.render("stats_last_survey", when=when(health.last_survey_sent_at)),
        texts.render(
            "stats_rate",
            count=sender.rate_limited,
            rate=f"{sender.limiter.rate:g}",
            configured=f"{sender.limiter.configured_rate:g}",
        ),
        texts.render("stats_alerts", open=health.alerts_open, waiting=health.alerts_unnotified),
        texts.render("stats_last_digest", day=last),
    ]
    if dispatcher is not None:
        lines.append(texts.render("stats_sent_since_start", count=dispatcher.sent))
    if flood is not None:
        lines.append(
            texts.render(
                "stats_flood",
                collapsed=flood.presses_collapsed,
                presses=flood.presses_dropped,
                texts=flood.texts_dropped + flood.slow_downs,
                warned=flood.slow_downs,
                replies=flood.replies_dropped,
            )
        )
    return "\n".join(lines)


def privacy_line(
    texts: AdminTexts,
    retention_days: int | None,
    last_run: tuple[datetime, int] | None,
    erasures: int,
    tz: tzinfo,
) -> str:
    """The privacy line of ``/stats``: retention (and its last run: when, how many
    anonymised) and the number of erasures."""
    if retention_days is None:
        retention = texts.render("stats_retention_off")
    else:
        if last_run is None:
            last = texts.render("stats_retention_not_run")
        else:
            when = last_run[0].astimezone(tz).strftime("%Y-%m-%d %H:%M")
            last = texts.render("stats_retention_last_run", when=when, count=last_run[1])
        retention = texts.render("stats_retention", days=retention_days, last=last)
    return texts.render("stats_privacy", retention=retention, erasures=erasures)


def webhooks_line(
    texts: AdminTexts, healths: Sequence[EndpointHealth], failing: Sequence[EndpointHealth]
) -> str:
    """The webhooks line of ``/stats`` (HTML-safe): endpoints, and the failing ones."""
    if not healths:
        return texts.render("stats_webhooks_none")
    if not failing:
        pending = sum(h.pending for h in healths)
        return texts.render("stats_webhooks_ok", endpoints=len(healths), pending=pending)
    parts = [
        texts.render(
            "stats_webhook_endpoint",
            url=escape(redact_url(h.endpoint_url)),
            failed=h.failed_recently,
            retrying=h.retrying,
            error=(
                texts.render(
                    "stats_webhook_error",
                    error=escape(redact_text(h.last_error, h.endpoint_url)[:80]),
                )
                if h.last_error
                else ""
            ),
        )
        for h in failing
    ]
    return texts.render("stats_webhooks_failing", endpoints="; ".join(parts))
