"""Specification of the digest chart (bot.reports.chart)."""

from __future__ import annotations

import dataclasses
import io
import struct
from datetime import date, timedelta

import matplotlib.image
import pytest

from bot.core.nps import Counts, Cutoffs
from bot.reports.chart import render_chart
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


def test_chart_is_an_800_by_600_png_under_one_megabyte() -> None:
    png = render_chart(month_of_data(), (1, 0, 2, 0, 3, 1, 4, 5, 6, 8, 9), labels("Acme — 30 days"))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (800, 600)
    assert len(png) < 1_000_000


def test_chart_decodes_as_an_image() -> None:
    png = render_chart(month_of_data(), (0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5), labels("Acme"))
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (600, 800)
    # Not a blank canvas: several distinct colours were drawn.
    assert len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}) > 5


def test_chart_works_with_no_data_at_all() -> None:
    png = render_chart([], (0,) * 11, labels("Nothing yet"))
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (800, 600)


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
