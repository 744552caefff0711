"""Specification of the callback-data registry (bot.core.callback_data)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.callback_data import (
    ALERT,
    DRIVER,
    ERASURE,
    KINDS,
    LANGUAGE,
    MAX_BYTES,
    MAX_ID,
    SCORE,
    AlertPress,
    DriverPress,
    ErasurePress,
    Kind,
    LanguagePress,
    ScorePress,
)

MAC = "AbCdEfGh_-123456"

EXAMPLES: list[tuple[Kind[Any], Any, str]] = [
    (SCORE, ScorePress(42, 10), "nps:42:10"),
    (DRIVER, DriverPress(7, 3), "drv:7:3"),
    (DRIVER, DriverPress(7, None), "drv:7:done"),
    (LANGUAGE, LanguagePress("zh"), "lang:zh"),
    (ALERT, AlertPress("x", 12), "al:x:12"),
    (ERASURE, ErasurePress("y", MAX_ID, 1_700_000_000, MAC), f"pd:y:{MAX_ID}:1700000000:{MAC}"),
]


@pytest.mark.parametrize(("kind", "press", "data"), EXAMPLES)
def test_each_kind_encodes_its_press_to_the_same_bytes_as_before_and_back(
    kind: Kind[Any], press: Any, data: str
) -> None:
    assert kind.encode(press) == data
    assert kind.parse(data) == press
    assert len(data.encode()) <= MAX_BYTES


def test_prefixes_are_distinct_so_no_pattern_claims_another_kinds_data() -> None:
    prefixes = [kind.prefix for kind in KINDS]
    assert len(set(prefixes)) == len(prefixes)
    for kind, _, data in EXAMPLES:
        claiming = [k for k in KINDS if re.match(k.pattern, data)]
        assert claiming == [kind]


@pytest.mark.parametrize(("kind", "press", "data"), EXAMPLES)
def test_another_kinds_data_is_rejected(kind: Kind[Any], press: Any, data: str) -> None:
    for other in KINDS:
        if other is not kind:
            assert other.parse(data) is None


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (SCORE, "nps:1:11"),
        (SCORE, "nps:0:5"),
        (SCORE, f"nps:{MAX_ID + 1}:5"),
        (SCORE, "nps:1:5:"),
        (SCORE, "nps:1"),
        (SCORE, "nps"),
        (DRIVER, "drv:1:20"),
        (DRIVER, "drv:1:DONE"),
        (LANGUAGE, "lang:ZH"),
        (LANGUAGE, "lang:zhcn"),
        (ALERT, "al:y:1"),
        (ALERT, "al:r:01"),
        (ERASURE, f"pd:y:1:1700000000:{MAC[:-1]}"),
        (ERASURE, f"pd:y:1:170000000:{MAC}"),
        (ERASURE, f"pd:x:1:1700000000:{MAC}"),
    ],
)
def test_bad_fields_are_rejected(kind: Kind[Any], data: str) -> None:
    assert kind.parse(data) is None


@pytest.mark.parametrize("data", ["nps:1:٥", "nps:１:5", "lang:zé", "drv:1:done\u200b"])
def test_non_ascii_data_is_rejected(data: str) -> None:
    assert all(kind.parse(data) is None for kind in KINDS)


def test_data_over_64_bytes_is_rejected_even_if_its_shape_fits() -> None:
    long_language = Kind(
        "lang",
        re.compile(r"([a-z]+)", re.ASCII),
        lambda g: LanguagePress(g[0]),
        lambda p: (p.code,),
    )
    data = "lang:" + "a" * (MAX_BYTES - len("lang:") + 1)
    assert long_language.parse(data) is None
    with pytest.raises(ValueError, match="64 bytes"):
        long_language.encode(LanguagePress("a" * MAX_BYTES))


@pytest.mark.parametrize(
    ("kind", "press"),
    [
        (SCORE, ScorePress(1, 11)),
        (SCORE, ScorePress(0, 5)),
        (DRIVER, DriverPress(MAX_ID + 1, 0)),
        (ALERT, AlertPress("z", 1)),
        (LANGUAGE, LanguagePress("Zh")),
        (ERASURE, ErasurePress("y", 1, 1_700_000_000, "not a mac")),
    ],
)
def test_encoding_a_press_the_parser_would_refuse_raises(kind: Kind[Any], press: Any) -> None:
    with pytest.raises(ValueError, match="invalid"):
        kind.encode(press)


@given(st.text(max_size=80))
def test_parse_never_raises_and_whatever_it_accepts_encodes_back_to_the_same_data(
    data: str,
) -> None:
    for kind in KINDS:
        press = kind.parse(data)
        if press is not None:
            assert kind.encode(press) == data


def test_an_erasure_press_knows_its_action_and_expiry() -> None:
    press = ErasurePress("n", 1, 1_700_000_000, MAC)
    assert not press.erase
    assert press.expired(datetime.fromtimestamp(1_700_000_001, UTC))
    assert not press.expired(datetime.fromtimestamp(1_700_000_000, UTC))
