"""NPS per week or per month: the periods, their text, and the words of their chart.

Pure: the caller counts each period's answers (from the per-day rollups, see
:mod:`bot.usecases.trend`); this module decides which periods, and writes every NPS with its
n and its 95 % interval (or "too few answers" below the minimum sample), in the admin
language. The chart itself is :func:`bot.reports.chart.render_period_chart`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.nps import DEFAULT_MIN_SAMPLE, STANDARD_CUTOFFS, Counts, Cutoffs, estimate
from bot.core.periods import Period
from bot.core.texts import admin_texts
from bot.reports.digest import describe_cutoffs, format_estimate
from bot.reports.telegram_text import MESSAGE_LIMIT, esc, split_message

__all__ = [
    "TREND_PERIODS",
    "TREND_UNITS",
    "PeriodChartLabels",
    "TrendRow",
    "current_start",
    "period_chart_labels",
    "period_label",
    "trend_lines",
    "trend_periods",
]

#: The units of ``/trend`` (the first is the default).
TREND_UNITS = ("weeks", "months")
#: How many periods ``/trend`` and the weekly and monthly digests' charts show.
TREND_PERIODS = 12


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def current_start(unit: str, today: date) -> date:
    """The first day of the week (Monday) or calendar month containing ``today``."""
    if unit == "weeks":
        return today - timedelta(days=today.weekday())
    if unit == "months":
        return today.replace(day=1)
    raise ValueError(f"unknown trend unit {unit!r}")


def trend_periods(
    unit: str, last_start: date, count: int = TREND_PERIODS, until: date | None = None
) -> list[Period]:
    """``count`` consecutive weeks (seven days from ``last_start``'s weekday) or calendar
    months, oldest first, the last one starting on ``last_start``; with ``until`` the last
    one ends on that day at the latest (a period still running is counted so far)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    periods = []
    for back in range(count - 1, -1, -1):
        if unit == "weeks":
            start = last_start - timedelta(days=7 * back)
            end = start + timedelta(days=6)
        elif unit == "months":
            start = _add_months(last_start, -back)
            end = _add_months(start, 1) - timedelta(days=1)
        else:
            raise ValueError(f"unknown trend unit {unit!r}")
        periods.append(Period(start, min(end, until) if until is not None else end))
    if periods[-1].end < periods[-1].start:
        raise ValueError("until is before the last period starts")
    return periods


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One period's answers (categorised under the configured cut-offs)."""

    period: Period
    counts: Counts
    partial: bool = False  # the period is still running: counted so far


def period_label(row: TrendRow, unit: str) -> str:
    """``2026-11-23 – 11-29`` for a week, ``2026-11`` for a month (language-neutral)."""
    start, end = row.period.start, row.period.end
    if unit == "months":
        return f"{start:%Y-%m}"
    return f"{start.isoformat()} – {end:%m-%d}"


def trend_lines(
    rows: Sequence[TrendRow],
    unit: str,
    lang: str = "en",
    *,
    tz_name: str = "UTC",
    cutoffs: Cutoffs = STANDARD_CUTOFFS,
    min_sample: int = DEFAULT_MIN_SAMPLE,
) -> list[str]:
    """The ``/trend`` text (Telegram HTML), split to fit messages: a title, one line per
    period (oldest first) with its NPS, n and interval, and the cut-offs when not standard."""
    texts = admin_texts(lang)
    lines = [
        texts.render(f"trend_title_{unit}", count=len(rows)),
        texts.render("trend_zone", tz=esc(tz_name)),
        "",
    ]
    for row in rows:
        label = period_label(row, unit)
        if row.partial:
            label += " " + texts.render("trend_so_far")
        value = format_estimate(estimate(row.counts), lang, min_sample)
        lines.append(texts.render("trend_row", period=esc(label), value=value))
    if cutoffs != STANDARD_CUTOFFS:
        lines += ["", texts.render("cutoffs", cutoffs=describe_cutoffs(cutoffs, lang))]
    return split_message("\n".join(lines), MESSAGE_LIMIT)


@dataclass(frozen=True, slots=True)
class PeriodChartLabels:
    """The words of the per-period chart, in the admin language."""

    title: str
    nps: str
    interval: str
    answers: str
    too_few: str
    no_answers_yet: str


def period_chart_labels(company: str, unit: str, lang: str, min_sample: int) -> PeriodChartLabels:
    """The chart's title and labels for ``unit`` (weeks or months) in ``lang``."""
    texts = admin_texts(lang)
    return PeriodChartLabels(
        title=texts.render(f"trend_chart_title_{unit}", company=company),
        nps=texts.render("chart_nps"),
        interval=texts.render("chart_interval"),
        answers=texts.render("chart_answers"),
        too_few=texts.render("trend_chart_too_few", min_sample=min_sample),
        no_answers_yet=texts.render("chart_no_answers_yet"),
    )
