"""Ops settings (defaults, each error names its setting) and the ops CLI commands."""

from __future__ import annotations

import asyncio
import json
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.core.linking import read_payload
from bot.settings import SCOPES, OpsSettings, QuietHours, Settings, SettingsError
from bot.usecases.csv_import import CsvFormatError, parse_customers_csv
from bot.usecases.services import utc_now
from storage import Database, customers
from tests.support.cli import run_cli
from tests.unit.test_settings import with_required

TOKEN_A = "a" * 24
TOKEN_B = "b" * 30


def ops_settings(variables: dict[str, str]) -> OpsSettings:
    return Settings.from_env(with_required(variables)).ops


def test_defaults() -> None:
    ops = ops_settings({})
    assert (ops.api_host, ops.api_port, ops.api_enabled) == ("127.0.0.1", 8088, False)
    assert ops.contact_interval == timedelta(days=30)
    assert ops.quiet_hours == QuietHours(time(21), time(9))
    assert ops.survey_expiry == timedelta(hours=72)
    assert ops.reminder_after == timedelta(hours=24)
    assert ops.relationship_cycle == timedelta(days=90)


def test_values_are_parsed() -> None:
    ops = ops_settings(
        {
            "NPSBOT_API_TOKENS": f"{TOKEN_A}:read, {TOKEN_B}",
            "NPSBOT_CONTACT_INTERVAL_BY_EVENT": "support=7, delivery=14",
            "NPSBOT_EVENT_DELAYS": "delivery=2h,support.closed=30m",
            "NPSBOT_QUIET_HOURS": "off",
            "NPSBOT_REMINDER_AFTER_HOURS": "off",
            "NPSBOT_RELATIONSHIP_CYCLE_DAYS": "off",
        }
    )
    assert [t.scopes for t in ops.api_tokens] == [frozenset({"read"}), SCOPES]
    assert TOKEN_A not in repr(ops)
    assert ops.contact_interval_by_event == {
        "support": timedelta(days=7),
        "delivery": timedelta(days=14),
    }
    assert ops.event_delays == {
        "delivery": timedelta(hours=2),
        "support.closed": timedelta(minutes=30),
    }
    assert (ops.quiet_hours, ops.reminder_after, ops.relationship_cycle) == (None, None, None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_TOKENS", "short"),
        ("API_TOKENS", f"{TOKEN_A}:admin"),
        ("API_TOKENS", f"{TOKEN_A},{TOKEN_A}"),
        ("API_PORT", "70000"),
        ("API_MAX_BODY_BYTES", "10"),
        ("CONTACT_INTERVAL_DAYS", "-1"),
        ("CONTACT_INTERVAL_BY_EVENT", "support"),
        ("CONTACT_INTERVAL_BY_EVENT", "bad type=3"),
        ("EVENT_DELAYS", "delivery=2 hours"),
        ("QUIET_HOURS", "21-9"),
        ("QUIET_HOURS", "09:00-09:00"),
        ("SURVEY_EXPIRY_HOURS", "0"),
        ("REMINDER_AFTER_HOURS", "72"),
        ("RELATIONSHIP_CYCLE_DAYS", "x"),
    ],
)
def test_invalid_values_name_the_setting_and_never_echo_a_token(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"NPSBOT_{name} is invalid") as caught:
        ops_settings({f"NPSBOT_{name}": value})
    assert TOKEN_A not in str(caught.value)


def test_csv_bad_rows_are_reported_by_the_line_they_start_on() -> None:
    data = (
        "\ufeffcustomer_id,segment,timezone\r\n"
        "c1,smb,Europe/Berlin\r\n"
        ",x,\r\n"
        "c2,ent,Mars/Base\r\n"
        '"c3","two\nlines",UTC\r\n'
        "c4,only-two-cells\r\n"
        "\r\n"
        "c1,again,\r\n"
        "c5,,\r\n"
    ).encode()
    report = parse_customers_csv(data)
    assert [(r.line, r.customer_id, r.properties) for r in report.rows] == [
        (2, "c1", {"segment": "smb", "timezone": "Europe/Berlin"}),
        (10, "c5", {}),
    ]
    assert [line for line, _ in report.errors] == [3, 4, 5, 7, 9]  # c3 spans lines 5-6
    assert "already appears on line 2" in report.errors[-1][1]


def test_csv_look_alike_ids_are_line_errors_and_nfd_twins_are_duplicates() -> None:
    data = "customer_id,plan\nc\u200b1,pro\ncaf\u00e9,pro\ncafe\u0301,free\n".encode()
    report = parse_customers_csv(data)
    assert [(r.line, r.customer_id) for r in report.rows] == [(3, "caf\u00e9")]
    assert [line for line, _ in report.errors] == [2, 4]
    assert "U+200B" in report.errors[0][1]
    assert "already appears on line 3" in report.errors[1][1]


def test_cli_refuses_a_look_alike_customer_id(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("event", "cust\u202e1", "--type", "delivery", "--event-id", "e-9") == 2
    assert "U+202E" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"id,segment\n", "no customer_id column"),
        (b"customer_id,seg ment\n", "column 'seg ment'"),
        (b"customer_id,a,a\n", "twice"),
        (b"customer_id\n\xff\n", "not UTF-8"),
    ],
)
def test_csv_files_that_cannot_be_read_at_all(data: bytes, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        parse_customers_csv(data)


def test_cli_import_imports_good_rows_and_reports_bad_ones(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,plan\ncx-1,pro\n cx-2,free\ncx-3,\n", encoding="utf-8")
    assert run_cli("import-customers", str(path)) == 1  # some rows were bad
    out = capsys.readouterr()
    assert f"{path}:3: customer_id:" in out.err
    assert "imported 2 customers (2 new, 0 updated); 1 bad rows skipped" in out.out

    async def stored() -> dict[str, dict[str, object]]:
        db = await Database.open(cli_env)
        try:
            async with db.read() as tx:
                return {
                    c: (await customers.get_by_external_id(tx, c)).attributes  # type: ignore[union-attr]
                    for c in ("cx-1", "cx-3")
                }
        finally:
            await db.close()

    assert asyncio.run(stored()) == {"cx-1": {"plan": "pro"}, "cx-3": {}}


def test_cli_event_is_idempotent_and_validated(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("event", "ev-1", "--type", "delivery", "--event-id", "e-1", "--property", "plan=pro")
    assert run_cli(*args) == 0
    first = json.loads(capsys.readouterr().out)
    assert run_cli(*args) == 0
    second = json.loads(capsys.readouterr().out)
    assert (first["outcome"], first["reason"]) == ("skipped", "not_linked")
    assert {**first, "replayed": True} == second
    assert (
        run_cli("event", "ev-1", "--type", "delivery", "--event-id", "e-2", "--occurred-at", "soon")
        == 2
    )
    assert "occurred_at" in capsys.readouterr().err


def test_cli_relink_mints_the_link_that_may_move_the_customer(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NPSBOT_BOT_USERNAME", "nps_test_bot")
    assert run_cli("relink", "rl-1") == 1  # no such customer yet
    assert "no such customer" in capsys.readouterr().err

    async def create_and_read(key_of: str | None) -> str | None:
        db = await Database.open(cli_env)
        try:
            async with db.transaction() as tx:
                customer = await customers.upsert(tx, "rl-1", utc_now())
                return await customers.relink_key(tx, customer.id) if key_of else None
        finally:
            await db.close()

    asyncio.run(create_and_read(None))
    assert run_cli("relink", "rl-1") == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/nps_test_bot?start=")
    payload = read_payload("cli-test-secret-0123456789abcdef0123", link.split("?start=")[1])
    assert payload.customer_id == "rl-1"
    assert asyncio.run(create_and_read("key")) == payload.key
