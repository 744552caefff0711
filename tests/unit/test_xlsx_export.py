"""Specification of the XLSX export (bot.reports.xlsx_export) and the CSV's byte-order mark."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from bot.core.nps import Category
from bot.reports.csv_export import BASE_COLUMNS, ExportRow, export_csv
from bot.reports.xlsx_export import MAX_CELL_CHARS, SHEET_TITLE, export_xlsx
from bot.settings.admin import AdminSettings

SHANGHAI = timezone(timedelta(hours=8))
HOSTILE = ('=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "=1+1")


def row(**overrides: object) -> ExportRow:
    values: dict[str, object] = {
        "survey_id": 42,
        "answered_at": datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI),
        "customer_id": "cust-1",
        "kind": "transactional",
        "score": 9,
        "category": Category.PROMOTER,
        "event_type": "delivery",
        "event_id": "ord-7",
        "drivers": ("速度", "staff"),
        "reason": "送货很快，客服很好",
        "attributes": {"plan": "专业版"},
    }
    values.update(overrides)
    return ExportRow(**values)  # type: ignore[arg-type]


def read(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data))[SHEET_TITLE]
    return [[cell.value for cell in r] for r in sheet.iter_rows()]


def test_header_and_typed_cells_read_back_with_chinese_intact() -> None:
    data = export_xlsx([row()], ["plan"])
    sheet = load_workbook(io.BytesIO(data))[SHEET_TITLE]
    header, values = list(sheet.iter_rows())
    assert [c.value for c in header] == [
        "survey_id",
        "answered_at (UTC)",
        *BASE_COLUMNS[2:],
        "plan",
    ]
    cells = dict(zip((*BASE_COLUMNS, "plan"), values, strict=True))
    assert cells["survey_id"].value == 42 and cells["survey_id"].data_type == "n"
    assert cells["score"].value == 9 and cells["score"].data_type == "n"
    # A date cell in UTC (09:30 in Shanghai is 01:30 UTC), shown as a date-time.
    assert cells["answered_at"].is_date
    assert cells["answered_at"].value == datetime(2026, 11, 23, 1, 30)
    assert cells["answered_at"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells["reason"].value == "送货很快，客服很好"
    assert cells["drivers"].value == "速度;staff"
    assert cells["plan"].value == "专业版"
    assert cells["category"].value == "promoter"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_text_is_never_a_formula(hostile: str) -> None:
    data = export_xlsx(
        [row(customer_id=hostile, reason=hostile, attributes={"plan": hostile})], ["plan", hostile]
    )
    sheet = load_workbook(io.BytesIO(data))[SHEET_TITLE]
    header, values = list(sheet.iter_rows())
    assert header[-1].value == hostile and header[-1].data_type == "s"
    for cell in (values[2], values[9], values[11]):  # customer, reason, the attribute
        assert cell.value == hostile and cell.data_type == "s"
    # By construction: the sheet's XML holds no formula element at all.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml


def test_empty_optional_fields_control_characters_and_long_text() -> None:
    long = "好" * (MAX_CELL_CHARS + 10)
    data = export_xlsx(
        [
            row(event_type=None, event_id=None, drivers=(), reason="a\x00b\x1fc", survey_id="s-1"),
            row(reason=long),
        ],
        [],
    )
    first, second = read(data)[1:]
    assert first[0] == "s-1" and first[4] is None and first[5] is None and first[8] is None
    assert first[9] == "abc"  # XML cannot carry the control characters
    assert second[9] == "好" * MAX_CELL_CHARS


def test_many_rows_and_naive_timestamps() -> None:
    rows = [row(survey_id=i, score=i % 11) for i in range(500)]
    table = read(export_xlsx(rows, ["plan"]))
    assert len(table) == 501 and table[-1][0] == 499 and table[-1][6] == 499 % 11
    with pytest.raises(ValueError, match="timezone-aware"):
        export_xlsx([row(answered_at=datetime(2026, 11, 23, 9))], [])
    assert read(export_xlsx([], []))[0][0] == "survey_id"


def test_csv_with_bom_decodes_and_keeps_chinese() -> None:
    data = export_csv([row(answered_at=datetime(2026, 11, 23, 1, tzinfo=UTC))], ["plan"], bom=True)
    assert data.startswith(b'\xef\xbb\xbf"survey_id",')
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][0] == "survey_id"
    assert table[1][9] == "送货很快，客服很好" and table[1][11] == "专业版"


def test_export_bom_setting_defaults_on() -> None:
    assert AdminSettings.model_validate({}).export_bom is True
    assert AdminSettings.model_validate({"NPSBOT_EXPORT_BOM": "off"}).export_bom is False
    with pytest.raises(ValueError, match="NPSBOT_EXPORT_BOM"):
        AdminSettings.model_validate({"NPSBOT_EXPORT_BOM": "maybe"})
