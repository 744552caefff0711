"""NPS per week or per month (``/trend`` and the charts of the weekly and monthly digests),
counted from the per-day rollups over whole local days."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.nps import Counts
from bot.core.periods import Period
from bot.reports.trend import (
    TREND_PERIODS,
    TrendRow,
    current_start,
    period_chart_labels,
    trend_lines,
    trend_periods,
)
from bot.settings import Settings
from bot.usecases.services import Services
from storage import Tx, reports


async def gather_trend(
    tx: Tx, settings: Settings, periods: Sequence[Period], today: date | None = None
) -> list[TrendRow]:
    """Each period's answers (consecutive periods, oldest first), in one read of the
    rollups; a period ending on or after ``today`` is marked as counted so far."""
    tz = settings.timezone
    bounds = [period.utc_bounds(tz)[0] for period in periods]
    bounds.append(periods[-1].utc_bounds(tz)[1])
    histograms = await reports.histograms_by_day(tx, bounds)
    cutoffs = settings.admin.cutoffs
    return [
        TrendRow(
            period,
            Counts.from_histogram(histogram, cutoffs),
            partial=today is not None and period.end >= today,
        )
        for period, histogram in zip(periods, histograms, strict=True)
    ]


def render_trend_chart(settings: Settings, rows: Sequence[TrendRow], unit: str) -> bytes:
    """The per-period chart in the admin language (call it off the event loop)."""
    # Imported here: matplotlib takes a while to import and only the admin side needs it.
    from bot.reports.chart import render_period_chart

    min_sample = settings.admin.min_sample
    labels = period_chart_labels(settings.company_name, unit, settings.admin_language, min_sample)
    return render_period_chart(rows, unit, labels, min_sample)


@dataclass(frozen=True)
class RenderedTrend:
    """The ``/trend`` answer: its text (split to fit) and its chart."""

    unit: str
    messages: list[str]
    chart_png: bytes


async def build_trend(svc: Services, unit: str, today: date) -> RenderedTrend:
    """The last ``TREND_PERIODS`` weeks (from Monday) or calendar months up to ``today``:
    read on a reader connection, composed, and charted off the event loop."""
    settings = svc.settings
    periods = trend_periods(unit, current_start(unit, today), TREND_PERIODS, until=today)
    async with svc.db.read() as tx:
        rows = await gather_trend(tx, settings, periods, today)
    messages = trend_lines(
        rows,
        unit,
        settings.admin_language,
        tz_name=settings.timezone.key,
        cutoffs=settings.admin.cutoffs,
        min_sample=settings.admin.min_sample,
    )
    png = await asyncio.to_thread(render_trend_chart, settings, rows, unit)
    return RenderedTrend(unit, messages, png)
