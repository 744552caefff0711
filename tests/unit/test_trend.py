"""Specification of NPS per week or month (bot.reports.trend) and its chart
(bot.reports.chart.render_period_chart)."""

from __future__ import annotations

import itertools
import logging
import struct
import warnings
from datetime import date

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.core.nps import Counts, Cutoffs
from bot.core.periods import Period
from bot.reports.chart import build_period_figure, render_period_chart
from bot.reports.trend import (
    TrendRow,
    current_start,
    period_chart_labels,
    period_label,
    trend_lines,
    trend_periods,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_weeks_run_from_monday_and_the_current_one_is_cut_at_today() -> None:
    today = date(2026, 12, 2)  # a Wednesday
    assert current_start("weeks", today) == date(2026, 11, 30)
    periods = trend_periods("weeks", current_start("weeks", today), 12, until=today)
    assert len(periods) == 12
    assert periods[0] == Period(date(2026, 9, 14), date(2026, 9, 20))
    assert periods[-2] == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert periods[-1] == Period(date(2026, 11, 30), today)
    assert all((b.start - a.end).days == 1 for a, b in itertools.pairwise(periods))


def test_months_are_calendar_months_across_a_new_year_and_leap_february() -> None:
    periods = trend_periods("months", current_start("months", date(2028, 3, 9)), 12)
    assert periods[0] == Period(date(2027, 4, 1), date(2027, 4, 30))
    assert Period(date(2027, 12, 1), date(2027, 12, 31)) in periods
    assert periods[-2] == Period(date(2028, 2, 1), date(2028, 2, 29))
    assert periods[-1] == Period(date(2028, 3, 1), date(2028, 3, 31))


def test_weeks_of_a_digest_follow_its_weekday() -> None:
    # A weekly digest posted on Wednesdays covers Wednesday to Tuesday.
    periods = trend_periods("weeks", date(2026, 11, 18), 3)
    assert [p.start.weekday() for p in periods] == [2, 2, 2]
    assert periods[-1] == Period(date(2026, 11, 18), date(2026, 11, 24))


def test_bad_units_and_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        trend_periods("fortnights", date(2026, 1, 1))
    with pytest.raises(ValueError):
        current_start("days", date(2026, 1, 1))
    with pytest.raises(ValueError):
        trend_periods("weeks", date(2026, 1, 5), 0)


def rows() -> list[TrendRow]:
    weeks = trend_periods("weeks", date(2026, 11, 30), 4, until=date(2026, 12, 2))
    counts = [Counts(), Counts(7, 1, 2), Counts(30, 10, 10), Counts(2, 0, 1)]
    return [
        TrendRow(p, c, partial=i == len(weeks) - 1)
        for i, (p, c) in enumerate(zip(weeks, counts, strict=True))
    ]


def test_each_period_has_its_nps_n_and_interval_or_too_few_answers() -> None:
    [text] = trend_lines(rows(), "weeks", "en", tz_name="Europe/Berlin", min_sample=10)
    lines = text.splitlines()
    assert lines[0] == "<b>NPS by week, last 4 weeks</b>"
    assert "Europe/Berlin" in lines[1]
    assert lines[3] == "2026-11-09 – 11-15: no answers"
    assert lines[4] == "2026-11-16 – 11-22: +50 (n = 10, -6 to +83)"  # the primer's example
    assert lines[5].startswith("2026-11-23 – 11-29: +40 (n = 50, ")
    assert lines[6] == "2026-11-30 – 12-02 (so far): +33 (n = 3, too few answers for an interval)"
    assert "cut-offs" not in text


def test_custom_cutoffs_are_said_and_chinese_is_complete() -> None:
    [text] = trend_lines(rows(), "months", "zh", cutoffs=Cutoffs(promoter_min=8, passive_min=6))
    assert "按月 NPS" in text and "（截至目前）" in text and "8–10" in text
    assert "2026-11:" not in text and "2026-11：" in text


def test_period_labels() -> None:
    row = rows()[1]
    assert period_label(row, "weeks") == "2026-11-16 – 11-22"
    assert period_label(row, "months") == "2026-11"


def _texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def test_chart_has_one_slot_per_period_and_marks_thin_ones() -> None:
    labels = period_chart_labels("Acme", "weeks", "en", 10)
    figure = build_period_figure(rows(), "weeks", labels, min_sample=10)
    nps_ax, n_ax = figure.axes
    ticks = [t.get_text() for t in n_ax.get_xticklabels()]
    assert ticks == [period_label(r, "weeks") for r in rows()]
    assert [round(b.get_height()) for b in n_ax.patches] == [0, 10, 50, 3]
    # The line skips the period without answers; the 3-answer week is a hollow point.
    [line] = [ln for ln in nps_ax.lines if ln.get_label() == labels.nps]
    assert list(line.get_xdata()) == [1, 2, 3]
    assert [round(y) for y in line.get_ydata()] == [50, 40, 33]
    thin = [ln for ln in nps_ax.lines if ln.get_label() == "Fewer than 10 answers"]
    assert len(thin) == 1 and list(thin[0].get_xdata()) == [3]
    assert "Acme · NPS by week" in _texts(figure)


def test_chart_without_answers_says_so() -> None:
    empty = [TrendRow(r.period, Counts()) for r in rows()]
    figure = build_period_figure(empty, "weeks", period_chart_labels("Acme", "weeks", "en", 10))
    assert "No answers yet" in _texts(figure)


def test_zh_period_chart_renders_every_glyph(caplog: pytest.LogCaptureFixture) -> None:
    zh = period_chart_labels("示例公司", "months", "zh", 10)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = render_period_chart(rows(), "months", zh, 10)
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    glyphs += [r.getMessage() for r in caplog.records if "Glyph" in r.getMessage()]
    assert glyphs == []
    assert png.startswith(PNG_SIGNATURE)
    assert struct.unpack(">II", png[16:24]) == (1200, 900)
