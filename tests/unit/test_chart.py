"""Specification of the digest chart (bot.reports.chart)."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import struct
import warnings
from datetime import date, timedelta

import matplotlib.image
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.core.nps import Counts, Cutoffs
from bot.reports.chart import build_figure, render_chart, rolling_points
from bot.reports.digest import ChartLabels, DayStats, chart_labels

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = date(2026, 10, 25)


def labels(title: str) -> ChartLabels:
    return dataclasses.replace(chart_labels("Acme", START), title=title)


def png_size(png: bytes) -> tuple[int, int]:
    # The IHDR chunk always comes first: length, b"IHDR", width, height (big-endian).
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def month_of_data() -> list[DayStats]:
    days = []
    for i in range(30):
        counts = Counts() if i % 6 == 0 else Counts(i % 9, 3, (i * 7) % 5)
        days.append(DayStats(START + timedelta(days=i), counts))
    return days


SIZE = (1050, 1350)  # portrait, readable full width on a phone


def test_chart_is_a_phone_sized_png_under_half_a_megabyte() -> None:
    png = render_chart(month_of_data(), (1, 0, 2, 0, 3, 1, 4, 5, 6, 8, 9), labels("Acme — 30 days"))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == SIZE
    assert len(png) < 500_000


def test_chart_decodes_as_an_image() -> None:
    png = render_chart(month_of_data(), (0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5), labels("Acme"))
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (SIZE[1], SIZE[0])
    # Not a blank canvas: several distinct colours were drawn.
    assert len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}) > 5


def test_chart_works_with_no_data_at_all() -> None:
    png = render_chart([], (0,) * 11, labels("Nothing yet"))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == SIZE


def test_chart_works_when_every_day_is_empty() -> None:
    empty_days = [DayStats(START + timedelta(days=i), Counts()) for i in range(30)]
    assert render_chart(empty_days, (0,) * 11, labels("Quiet month")).startswith(PNG_SIGNATURE)


def test_chart_works_with_a_single_day_and_non_standard_cutoffs() -> None:
    one_day = [DayStats(START, Counts(promoters=1))]
    png = render_chart(
        one_day, (0,) * 10 + (1,), labels("One"), Cutoffs(promoter_min=8, passive_min=6)
    )
    assert png.startswith(PNG_SIGNATURE)


def test_title_with_dollar_signs_is_not_parsed_as_mathtext() -> None:
    # Parsed as mathtext, this company name would raise a ParseException while drawing.
    title = r"Acme $\nosuchcommand{x}$ & <b> Ltd"
    assert render_chart([], (0,) * 11, labels(title)).startswith(PNG_SIGNATURE)


def test_histogram_must_have_eleven_buckets() -> None:
    with pytest.raises(ValueError):
        render_chart([], (1, 2, 3), labels("Bad"))


# --- Charts that work: day one, no answers, a year, Chinese --------------------------------


def _texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def test_trend_has_one_point_per_day_with_answers() -> None:
    trend = month_of_data()
    figure = build_figure(trend, (1,) * 11, labels("Acme"))
    line = figure.axes[0].lines[-1]
    with_answers = [d for d in trend if d.counts.n]
    assert len(line.get_xdata()) == len(with_answers) == 25
    # Each point is the NPS of the 7 days ending that day.
    points = rolling_points(trend)
    window = sum((d.counts for d in trend[3:10]), Counts())
    assert points[[p.day for p in points].index(trend[9].day)].n == window.n
    # Stacked category shares: one bar per category per day with answers.
    assert len(figure.axes[1].patches) == 3 * 25


def test_day_one_has_a_sane_axis() -> None:
    # A new installation: 30 days in the window, answers on the last one only.
    trend = [
        DayStats(START + timedelta(days=i), Counts(3, 1, 1) if i == 29 else Counts())
        for i in range(30)
    ]
    figure = build_figure(trend, (0, 0, 0, 0, 1, 0, 0, 1, 0, 2, 1), labels("Day one"))
    low, high = figure.axes[0].get_xlim()
    assert high - low < 32  # the window's days, not thousands
    ticks = [t for t in figure.axes[1].get_xticklabels() if t.get_text()]
    assert 2 <= len(ticks) <= 8
    assert len(figure.axes[0].lines[-1].get_xdata()) == 1
    png = render_chart(trend, (0, 0, 0, 0, 1, 0, 0, 1, 0, 2, 1), labels("Day one"))
    assert png_size(png) == SIZE


def test_no_answers_at_all_is_one_clear_message() -> None:
    empty_days = [DayStats(START + timedelta(days=i), Counts()) for i in range(30)]
    figure = build_figure(empty_days, (0,) * 11, chart_labels("Acme", START))
    assert len(figure.axes) == 1 and "No answers yet" in _texts(figure)
    zh = build_figure([], (0,) * 11, chart_labels("Acme", START, "zh"))
    assert "暂无回答" in _texts(zh)


def test_a_year_of_answers_has_years_in_its_labels() -> None:
    first = date(2025, 11, 1)
    year = [DayStats(first + timedelta(days=i), Counts(5, 2, 1)) for i in range(365)]
    figure = build_figure(year, (1,) * 11, labels("Year"))
    ticks = [t.get_text() for t in figure.axes[1].get_xticklabels() if t.get_text()]
    assert 3 <= len(ticks) <= 8
    assert all(re.fullmatch(r"20\d\d-\d\d-\d\d", t) for t in ticks), ticks
    assert len(figure.axes[0].lines[-1].get_xdata()) == 365


def test_zh_chart_renders_every_glyph(caplog: pytest.LogCaptureFixture) -> None:
    # Every label in Chinese, and a Chinese company name: a missing glyph would draw a box
    # and make matplotlib warn "Glyph ... missing from font(s)".
    zh = chart_labels("示例公司", START + timedelta(days=29), "zh")
    assert "天" in zh.title and zh.rolling_nps != labels("x").rolling_nps
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = render_chart(month_of_data(), (1, 0, 2, 0, 3, 1, 4, 5, 6, 8, 9), zh)
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    glyphs += [r.getMessage() for r in caplog.records if "Glyph" in r.getMessage()]
    assert glyphs == []
    assert png_size(png) == SIZE
