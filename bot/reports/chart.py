"""The digest chart: rolling 7-day NPS with its interval band, category shares per day, and
the score distribution; or a clear "no answers yet" image. And the per-period chart of
``/trend`` and the weekly and monthly digests: NPS per week or month with its interval band
above the answers per period.

Rendered with matplotlib's object-oriented API (``Figure`` + the Agg canvas) rather than
``pyplot``: pyplot keeps global state and is not thread-safe, while a bare ``Figure`` is an
ordinary object that is garbage-collected when done, and needs no display.

Every word comes in through :class:`ChartLabels` (the admin language). Chinese needs a font
with CJK glyphs: Noto Sans CJK ships as a dependency (``manimgx-fonts-cjk``, SIL OFL 1.1), so
``pip install -e .`` is enough; it is registered with matplotlib's font manager on first
render and used as the fallback after DejaVu Sans, glyph by glyph.

The x axis is the digest's days (one slot per day, from the first to the last, answers or
not), so a chart on a company's first day, or over a year, has a sane axis; long spans put
the year in the tick labels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.nps import (
    DEFAULT_MIN_SAMPLE,
    STANDARD_CUTOFFS,
    Category,
    Counts,
    Cutoffs,
    categorize,
    estimate,
)
from bot.reports.digest import ChartLabels, DayStats
from bot.reports.trend import PeriodChartLabels, TrendRow, period_label

__all__ = [
    "CATEGORY_COLOURS",
    "ROLLING_DAYS",
    "ChartLabels",
    "TrendPoint",
    "build_figure",
    "build_period_figure",
    "render_chart",
    "render_period_chart",
    "rolling_points",
]

CATEGORY_COLOURS = {
    Category.PROMOTER: "#2e7d32",
    Category.PASSIVE: "#9e9e9e",
    Category.DETRACTOR: "#c62828",
}
_LINE_COLOUR = "#1565c0"
#: Portrait, for a phone: 1050 x 1350 px; Telegram shows it full width without shrinking
#: the text below legibility (labels 11-15 pt at 150 dpi).
_WIDTH_IN, _HEIGHT_IN, _DPI = 7.0, 9.0, 150
#: The rolling window of the trend line, in days.
ROLLING_DAYS = 7
#: Spans longer than this many days carry the year in their tick labels.
_YEAR_LABEL_DAYS = 60
_MAX_TICKS = 7
_LATIN_FAMILY = "DejaVu Sans"
#: The packaged CJK font: module, file, and the face used for Simplified Chinese.
_CJK_PACKAGE = "manimgx_fonts_cjk"
_CJK_FILE = "NotoSansCJK-VF.otf.ttc"
_CJK_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One point of the trend line: a day with answers, and the NPS of the window of
    ``ROLLING_DAYS`` days ending on it (with its 95 % interval and n)."""

    day: date
    score: float
    low: float
    high: float
    n: int


def rolling_points(trend: Sequence[DayStats], window: int = ROLLING_DAYS) -> list[TrendPoint]:
    """The trend line: one point per day *with answers*, the NPS of the ``window`` days
    ending that day (fewer at the start of ``trend``). Days without answers get no point:
    nothing new was learnt that day."""
    by_day = {stats.day: stats.counts for stats in trend}
    points = []
    for stats in sorted(trend, key=lambda s: s.day):
        if stats.counts.n == 0:
            continue
        ordinal = stats.day.toordinal()
        counts = sum(
            (by_day.get(date.fromordinal(ordinal - k), Counts()) for k in range(window)),
            Counts(),
        )
        est = estimate(counts)
        assert est.score is not None and est.low is not None and est.high is not None
        points.append(TrendPoint(stats.day, est.score, est.low, est.high, est.n))
    return points


@cache
def _font_families() -> list[str]:
    """Register the packaged CJK font once; the family list for ``font.family``."""
    try:
        font = resources.files(_CJK_PACKAGE).joinpath(_CJK_FILE)
        with resources.as_file(font) as path:
            font_manager.fontManager.addfont(str(path))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - a broken install
        return [_LATIN_FAMILY]
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return [_LATIN_FAMILY, _CJK_FAMILY] if _CJK_FAMILY in installed else [_LATIN_FAMILY]


def build_figure(
    trend: Sequence[DayStats],
    histogram: Sequence[int],
    labels: ChartLabels,
    cutoffs: Cutoffs = STANDARD_CUTOFFS,
) -> Figure:
    """The chart as a matplotlib figure (for :func:`render_chart` and for tests)."""
    if len(histogram) != 11:
        raise ValueError("histogram must have 11 buckets (scores 0..10)")
    figure = Figure(figsize=(_WIDTH_IN, _HEIGHT_IN), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    # parse_math=False: a company name with "$" must not be read as a TeX formula.
    figure.suptitle(labels.title, parse_math=False, fontsize=15)
    days = sorted(stats.day for stats in trend)
    if sum(histogram) == 0 and not any(stats.counts.n for stats in trend):
        ax = figure.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, labels.no_answers_yet, ha="center", va="center", fontsize=22)
        return figure
    trend_ax, shares_ax, histogram_ax = figure.subplots(
        3, 1, height_ratios=[3, 2, 2], gridspec_kw={"hspace": 0.08}
    )
    _draw_trend(trend_ax, trend, labels)
    _draw_shares(shares_ax, trend, labels)
    for ax in (trend_ax, shares_ax):
        _day_axis(ax, days)
    _draw_histogram(histogram_ax, histogram, cutoffs, labels)
    return figure


def render_chart(
    trend: Sequence[DayStats],
    histogram: Sequence[int],
    labels: ChartLabels,
    cutoffs: Cutoffs = STANDARD_CUTOFFS,
) -> bytes:
    """Render the digest chart as PNG bytes (1050 × 1350 px, well under 1 MB).

    Top: the rolling 7-day NPS on each day with answers, with its 95 % adjusted-Wald band.
    Middle: each day's promoters, passives and detractors as stacked shares. Bottom: answers
    per score 0–10 over the period, coloured by category under ``cutoffs``. With no answers
    at all, one "no answers yet" panel. ``labels.title`` is shown literally (no mathtext).
    """
    with rc_context({"font.family": _font_families(), "font.size": 11}):
        figure = build_figure(trend, histogram, labels, cutoffs)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _day_axis(ax: Axes, days: Sequence[date]) -> None:
    """One slot per day from the first to the last; at most ``_MAX_TICKS`` labels, with the
    year when the span is long (or crosses a new year)."""
    if not days:
        return
    first, last = days[0].toordinal(), days[-1].toordinal()
    ax.set_xlim(first - 0.6, last + 0.6)
    span = last - first + 1
    step = max(1, math.ceil(span / _MAX_TICKS))
    ticks = list(range(first, last + 1, step))
    with_year = span > _YEAR_LABEL_DAYS or days[0].year != days[-1].year
    fmt = "%Y-%m-%d" if with_year else "%m-%d"
    ax.set_xticks(ticks)
    ax.set_xticklabels([date.fromordinal(t).strftime(fmt) for t in ticks])


def _draw_trend(ax: Axes, trend: Sequence[DayStats], labels: ChartLabels) -> None:
    points = rolling_points(trend)
    ax.set_ylim(-100, 100)
    ax.axhline(0, color="#616161", linewidth=0.8)
    ax.set_ylabel(labels.rolling_nps)
    ax.grid(True, alpha=0.3)
    if not points:
        ax.text(0.5, 0.5, labels.no_answers_in_period, ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        return
    xs = [p.day.toordinal() for p in points]
    ax.fill_between(
        xs,
        [p.low for p in points],
        [p.high for p in points],
        color=_LINE_COLOUR,
        alpha=0.15,
        linewidth=0,
        label=labels.interval,
    )
    # Whiskers too: a band of one point is invisible.
    ax.vlines(xs, [p.low for p in points], [p.high for p in points], color=_LINE_COLOUR,
              alpha=0.35, linewidth=1.2)  # fmt: skip
    ax.plot(xs, [p.score for p in points], color=_LINE_COLOUR, marker="o", markersize=4,
            linewidth=2, label=labels.rolling_nps)  # fmt: skip
    ax.legend(loc="lower left", fontsize=10)
    ax.tick_params(labelbottom=False)


def _draw_shares(ax: Axes, trend: Sequence[DayStats], labels: ChartLabels) -> None:
    ordered = [stats for stats in sorted(trend, key=lambda s: s.day) if stats.counts.n]
    xs = [stats.day.toordinal() for stats in ordered]
    bottom = [0.0] * len(ordered)
    names = {
        Category.DETRACTOR: labels.detractors,
        Category.PASSIVE: labels.passives,
        Category.PROMOTER: labels.promoters,
    }
    # Detractors at the bottom: the share that calls for action sits on the axis.
    for category in (Category.DETRACTOR, Category.PASSIVE, Category.PROMOTER):
        shares = [100.0 * s.counts.count(category) / s.counts.n for s in ordered]
        ax.bar(xs, shares, bottom=bottom, width=0.8, color=CATEGORY_COLOURS[category],
               label=names[category])  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, shares, strict=True)]
    ax.set_ylim(0, 100)
    ax.set_ylabel(labels.shares)
    ax.yaxis.set_major_formatter("{x:.0f}%")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3, fontsize=10,
              frameon=False)  # fmt: skip


def _draw_histogram(
    ax: Axes, histogram: Sequence[int], cutoffs: Cutoffs, labels: ChartLabels
) -> None:
    scores = list(range(11))
    colours = [CATEGORY_COLOURS[categorize(score, cutoffs)] for score in scores]
    ax.bar(scores, list(histogram), color=colours)
    ax.set_xticks(scores)
    ax.set_xlabel(labels.score)
    ax.set_ylabel(labels.answers)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if sum(histogram) == 0:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, labels.no_answers, ha="center", va="center", transform=ax.transAxes)


_FEW_COLOUR = "#9e9e9e"
#: Landscape for the per-period chart: twelve labelled periods side by side.
_PERIOD_WIDTH_IN, _PERIOD_HEIGHT_IN = 8.0, 6.0


def build_period_figure(
    rows: Sequence[TrendRow],
    unit: str,
    labels: PeriodChartLabels,
    min_sample: int = DEFAULT_MIN_SAMPLE,
) -> Figure:
    """The per-period chart as a matplotlib figure (for :func:`render_period_chart` and
    tests). One slot per period, oldest on the left; a period without answers has no point,
    one below ``min_sample`` answers a hollow grey point (its interval is drawn, but wide)."""
    figure = Figure(figsize=(_PERIOD_WIDTH_IN, _PERIOD_HEIGHT_IN), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(labels.title, parse_math=False, fontsize=15)
    if not any(row.counts.n for row in rows):
        ax = figure.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, labels.no_answers_yet, ha="center", va="center", fontsize=22)
        return figure
    nps_ax, n_ax = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    xs, scores, lows, highs, few = [], [], [], [], []
    for index, row in enumerate(rows):
        est = estimate(row.counts)
        if est.score is None or est.low is None or est.high is None:
            continue
        xs.append(index)
        scores.append(est.score)
        lows.append(est.low)
        highs.append(est.high)
        few.append(est.n < min_sample)
    nps_ax.set_ylim(-100, 100)
    nps_ax.axhline(0, color="#616161", linewidth=0.8)
    nps_ax.set_ylabel(labels.nps)
    nps_ax.grid(True, alpha=0.3)
    nps_ax.fill_between(xs, lows, highs, color=_LINE_COLOUR, alpha=0.15, linewidth=0,
                        label=labels.interval)  # fmt: skip
    nps_ax.vlines(xs, lows, highs, color=_LINE_COLOUR, alpha=0.35, linewidth=1.2)
    nps_ax.plot(xs, scores, color=_LINE_COLOUR, linewidth=2, label=labels.nps)
    enough = [i for i, is_few in enumerate(few) if not is_few]
    nps_ax.plot([xs[i] for i in enough], [scores[i] for i in enough], linestyle="none",
                marker="o", markersize=6, color=_LINE_COLOUR)  # fmt: skip
    thin = [i for i, is_few in enumerate(few) if is_few]
    if thin:
        nps_ax.plot([xs[i] for i in thin], [scores[i] for i in thin], linestyle="none",
                    marker="o", markersize=7, markerfacecolor="white", color=_FEW_COLOUR,
                    label=labels.too_few)  # fmt: skip
    nps_ax.legend(loc="lower left", fontsize=10)
    positions = list(range(len(rows)))
    n_ax.bar(positions, [row.counts.n for row in rows], width=0.7, color=_LINE_COLOUR, alpha=0.6)
    n_ax.set_ylabel(labels.answers)
    n_ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    n_ax.set_xticks(positions)
    n_ax.set_xticklabels([period_label(row, unit) for row in rows], rotation=45, ha="right")
    n_ax.set_xlim(-0.6, len(rows) - 0.4)
    return figure


def render_period_chart(
    rows: Sequence[TrendRow],
    unit: str,
    labels: PeriodChartLabels,
    min_sample: int = DEFAULT_MIN_SAMPLE,
) -> bytes:
    """Render the per-period chart (NPS per week or month with its 95 % adjusted-Wald band,
    answers per period below) as PNG bytes (1200 x 900 px); labels in the admin language,
    with the CJK font registered as for the digest chart."""
    with rc_context({"font.family": _font_families(), "font.size": 11}):
        figure = build_period_figure(rows, unit, labels, min_sample)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()
