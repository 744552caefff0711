"""Specification of the CSV export (bot.reports.csv_export)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.nps import Category
from bot.reports.csv_export import BASE_COLUMNS, ExportRow, export_csv, neutralise

MOMENT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)

HOSTILE = [
    'comma, "quotes", and\nnewline\r\nCRLF',
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\x00=1+1",
    "\n=1+1",
    '\uff1dHYPERLINK("http://evil.example")',
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    "ünïcödé — 日本語",
    "emoji 😀👍🏽",
]


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def row(**overrides: object) -> ExportRow:
    values: dict[str, object] = {
        "survey_id": 42,
        "answered_at": MOMENT,
        "customer_id": "cust-1",
        "kind": "transactional",
        "score": 9,
        "category": Category.PROMOTER,
        "event_type": "delivery",
        "event_id": "ord-7",
        "drivers": ("speed", "staff"),
        "themes": ("speed", "emerging-1a2b3c4d"),
        "reason": "Fast",
        "attributes": {"plan": "pro"},
    }
    values.update(overrides)
    return ExportRow(**values)  # type: ignore[arg-type]


def test_header_lists_the_base_columns_then_one_per_attribute_key() -> None:
    table = parse(export_csv([], ["plan", "segment"]))
    assert table == [[*BASE_COLUMNS, "plan", "segment"]]
    assert BASE_COLUMNS == (
        "survey_id",
        "answered_at",
        "customer_id",
        "kind",
        "event_type",
        "event_id",
        "score",
        "category",
        "drivers",
        "reason",
        "themes",
    )


def test_a_plain_row_is_exported_field_by_field() -> None:
    table = parse(export_csv([row()], ["plan", "segment"]))
    assert table[1] == [
        "42",
        "2026-11-23T09:30:15Z",
        "cust-1",
        "transactional",
        "delivery",
        "ord-7",
        "9",
        "promoter",
        "speed;staff",
        "Fast",
        "speed;emerging-1a2b3c4d",
        "pro",
        "",
    ]


def test_output_is_rfc4180_crlf_utf8_without_bom_by_default() -> None:
    data = export_csv([row(reason="a\nb")], [])
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n")
    assert data.split(b"\r\n")[0] == ",".join(f'"{c}"' for c in BASE_COLUMNS).encode()
    assert b'"a\nb"' in data  # embedded newline kept inside a quoted cell


def test_bom_can_be_requested_for_excel() -> None:
    data = export_csv([row()], [], bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    assert parse(data[3:])[1][0] == "42"


def test_timestamps_are_converted_to_utc() -> None:
    local = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    assert parse(export_csv([row(answered_at=local)], []))[1][1] == "2026-11-23T07:00:00Z"


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError):
        export_csv([row(answered_at=datetime(2026, 11, 23, 9, 0))], [])


def test_missing_optional_values_are_empty_cells() -> None:
    exported = row(
        event_type=None, event_id=None, drivers=(), reason=None, themes=(), attributes={}
    )
    assert parse(export_csv([exported], ["plan"]))[1][4:] == [
        "",
        "",
        "9",
        "promoter",
        "",
        "",
        "",
        "",
    ]


@pytest.mark.parametrize("cell", HOSTILE)
def test_hostile_cells_round_trip_and_formulas_are_neutralised(cell: str) -> None:
    exported = row(
        survey_id=cell,
        customer_id=cell,
        kind=cell,
        event_type=cell,
        event_id=cell,
        drivers=(cell,),
        reason=cell,
        themes=(cell,),
        attributes={"plan": cell},
    )
    table = parse(export_csv([exported], ["plan"]))
    assert len(table) == 2  # newlines inside cells did not create extra records
    expected = "'" + cell if cell[0] in "=+-@\uff1d\uff0b\uff0d\uff20\t\r\n\x00" else cell
    parsed = table[1]
    for index in (0, 2, 3, 4, 5, 8, 9, 10, 11):
        assert parsed[index] == expected, BASE_COLUMNS[index] if index < 11 else "plan"
    assert parsed[6:8] == ["9", "promoter"]


def test_neutralise_only_touches_formula_starts() -> None:
    assert neutralise("=1") == "'=1"
    assert neutralise("-1+1") == "'-1+1"
    assert neutralise("a=1") == "a=1"
    assert neutralise("") == ""
    assert neutralise("'quoted") == "'quoted"


def test_every_text_cell_is_quoted_and_numbers_are_not() -> None:
    data = export_csv([row(survey_id=7, score=0, category=Category.DETRACTOR)], ["plan"])
    record = data.split(b"\r\n")[1].decode()
    assert record == (
        '7,"2026-11-23T09:30:15Z","cust-1","transactional","delivery","ord-7",0,'
        '"detractor","speed;staff","Fast","speed;emerging-1a2b3c4d","pro"'
    )


def test_our_own_numbers_are_not_neutralised() -> None:
    table = parse(export_csv([row(survey_id=7, score=0, category=Category.DETRACTOR)], []))
    assert table[1][0] == "7"
    assert table[1][6:8] == ["0", "detractor"]


def test_attribute_keys_that_clash_with_base_columns_are_renamed_and_duplicates_dropped() -> None:
    exported = row(attributes={"score": "high", "plan": "pro"})
    table = parse(export_csv([exported], ["score", "plan", "plan"]))
    assert table[0][11:] == ["attribute_score", "plan"]
    assert table[1][11:] == ["high", "pro"]


def test_hostile_attribute_keys_in_the_header_are_neutralised() -> None:
    assert parse(export_csv([], ["=cmd"]))[0][-1] == "'=cmd"


def test_many_rows_stream_from_an_iterator() -> None:
    rows = (row(survey_id=i) for i in range(1000))
    table = parse(export_csv(rows, []))
    assert len(table) == 1001
    assert table[-1][0] == "999"
