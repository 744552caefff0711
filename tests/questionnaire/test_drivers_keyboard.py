"""The drivers keyboard and its callback data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.drivers import (
    DriverPress,
    driver_callback_data,
    drivers_keyboard,
    parse_driver_callback,
    toggle,
)


def test_two_toggles_per_row_then_done_with_ticks_on_the_chosen() -> None:
    kb = drivers_keyboard(7, ["Speed", "Price", "Staff"], {1}, "Done")
    rows = kb["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        ["Speed", "✅ Price"],
        ["Staff"],
        ["Done"],
    ]
    assert rows[-1][0]["callback_data"] == "drv:7:done"
    assert rows[0][1]["callback_data"] == "drv:7:1"


@given(st.integers(1, 2**63 - 1), st.one_of(st.none(), st.integers(0, 11)))
def test_callback_data_round_trips_within_64_bytes(survey_id: int, index: int | None) -> None:
    data = driver_callback_data(survey_id, index)
    assert len(data.encode()) <= 64
    assert parse_driver_callback(data) == DriverPress(survey_id, index)


@pytest.mark.parametrize(
    "data",
    [
        "drv:1:20",
        "drv:0:1",
        "drv:1:-1",
        "drv:1:Done",
        "drv:1:1:x",
        "drv:01:1",
        "drv:1:٣",
        "nps:1:1",
        "",
        None,
        f"drv:{2**63}:1",
    ],
)
def test_forged_or_malformed_driver_data_is_rejected(data: str | None) -> None:
    assert parse_driver_callback(data) is None


def test_toggle_adds_then_removes() -> None:
    assert toggle((), 2) == (2,)
    assert toggle((0, 2), 2) == (0,)
