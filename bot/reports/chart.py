"""The digest chart: 30-day NPS trend with its interval band and the score distribution.

Rendered with matplotlib's object-oriented API (``Figure`` + the Agg canvas) rather than
``pyplot``: pyplot keeps global state and is not thread-safe, while a bare ``Figure`` is an
ordinary object that is garbage-collected when done, and needs no display.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.core.nps import STANDARD_CUTOFFS, Category, Cutoffs, categorize, estimate
from bot.reports.digest import ChartLabels, DayStats

__all__ = ["CATEGORY_COLOURS", "ChartLabels", "render_chart"]

CATEGORY_COLOURS = {
    Category.PROMOTER: "#2e7d32",
    Category.PASSIVE: "#9e9e9e",
    Category.DETRACTOR: "#c62828",
}
_LINE_COLOUR = "#1565c0"
_WIDTH_IN, _HEIGHT_IN, _DPI = 8.0, 6.0, 100  # 800 x 600 px: small, readable on a phone
#: Tried in order per glyph (matplotlib's font fallback): Latin first, then the CJK fonts a
#: server commonly has, so Chinese labels render wherever one of them is installed.
_FONT_FAMILIES = [
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
]


def render_chart(
    trend: Sequence[DayStats],
    histogram: Sequence[int],
    labels: ChartLabels,
    cutoffs: Cutoffs = STANDARD_CUTOFFS,
) -> bytes:
    """Render the digest chart as PNG bytes (800 × 600 px, well under 1 MB).

    Top panel: daily NPS over ``trend`` with its 95 % adjusted-Wald band; days with no
    answers are gaps, not zeros. Bottom panel: answers per score 0–10, bars coloured by
    category under ``cutoffs``. ``labels.title`` is shown literally (no mathtext).
    """
    if len(histogram) != 11:
        raise ValueError("histogram must have 11 buckets (scores 0..10)")
    with rc_context({"font.family": _available_families()}):
        figure = Figure(figsize=(_WIDTH_IN, _HEIGHT_IN), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        # parse_math=False: a company name with "$" must not be read as a TeX formula.
        figure.suptitle(labels.title, parse_math=False, fontsize=13)
        trend_axes, histogram_axes = figure.subplots(2, 1, height_ratios=[3, 2])
        _draw_trend(trend_axes, trend, labels)
        _draw_histogram(histogram_axes, histogram, cutoffs, labels)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


@cache
def _available_families() -> list[str]:
    """The fallback families that are installed (naming a missing one makes matplotlib
    warn on every text), DejaVu Sans always first."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return [family for family in _FONT_FAMILIES if family in installed] or ["DejaVu Sans"]


def _draw_trend(ax: Axes, trend: Sequence[DayStats], labels: ChartLabels) -> None:
    ordered = sorted(trend, key=lambda stats: stats.day)
    # Day ordinals as x with our own tick labels: matplotlib's date helpers are untyped.
    days = [stats.day.toordinal() for stats in ordered]
    scores: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for stats in ordered:
        est = estimate(stats.counts)
        # NaN makes matplotlib break the line and the band: a day without answers is
        # unknown, and drawing it as 0 would invent a dip.
        scores.append(est.score if est.score is not None else math.nan)
        lows.append(est.low if est.low is not None else math.nan)
        highs.append(est.high if est.high is not None else math.nan)
    ax.set_ylim(-100, 100)
    ax.axhline(0, color="#616161", linewidth=0.8)
    ax.set_ylabel(labels.daily_nps)
    ax.grid(True, alpha=0.3)
    if not any(not math.isnan(score) for score in scores):
        ax.text(
            0.5,
            0.5,
            labels.no_answers_in_period,
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        return
    ax.fill_between(
        days, lows, highs, color=_LINE_COLOUR, alpha=0.15, linewidth=0, label=labels.interval
    )
    # Markers keep a lone day between two gaps visible.
    ax.plot(days, scores, color=_LINE_COLOUR, marker="o", markersize=3, label=labels.nps)
    ax.legend(loc="lower left", fontsize=8)
    # Thin whiskers too: the band cannot show a lone day between two gaps.
    ax.vlines(days, lows, highs, color=_LINE_COLOUR, alpha=0.3, linewidth=1)
    step = max(1, math.ceil(len(ordered) / 8))
    ticks = ordered[::step]
    ax.set_xticks([stats.day.toordinal() for stats in ticks])
    ax.set_xticklabels([stats.day.strftime("%m-%d") for stats in ticks])


def _draw_histogram(
    ax: Axes, histogram: Sequence[int], cutoffs: Cutoffs, labels: ChartLabels
) -> None:
    scores = list(range(11))
    colours = [CATEGORY_COLOURS[categorize(score, cutoffs)] for score in scores]
    ax.bar(scores, list(histogram), color=colours)
    ax.set_xticks(scores)
    ax.set_xlabel(labels.score)
    ax.set_ylabel(labels.answers)
    if sum(histogram) == 0:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, labels.no_answers, ha="center", va="center", transform=ax.transAxes)
