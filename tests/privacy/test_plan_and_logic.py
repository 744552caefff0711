"""Pure privacy logic: the erasure plan covers the whole schema, confirmation buttons are
strict, the export splits safely, needles find whole ids only, settings parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import erasure_confirmation as confirm
from bot.core.privacy_export import (
    build_document,
    compose_text,
    document_bytes,
    split_text,
    utf16_len,
)
from bot.core.privacy_plan import ERASURE_PLAN, RETENTION_PLAN
from bot.core.texts.en import CUSTOMER as EN
from bot.settings import PrivacySettings, Settings, SettingsError
from storage import Database
from storage.privacy import table_columns, user_tables
from tests.unit.test_settings import with_required

KEY = confirm.confirmation_key("k" * 40)
NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


async def test_the_erasure_plan_classifies_every_table_and_column_of_the_schema(
    db: Database,
) -> None:
    """A table or column added by a later schema version fails here until someone decides
    what erasure does to it (bot/core/privacy_plan.py)."""
    async with db.read() as tx:
        tables = await user_tables(tx)
        schema = {t: await table_columns(tx, t) for t in tables}
    assert set(schema) == set(ERASURE_PLAN), "tables not in the plan (or gone)"
    for table, columns in schema.items():
        assert set(columns) == set(ERASURE_PLAN[table].columns), table
    for rule in RETENTION_PLAN:
        assert rule.table in schema


def test_confirmation_data_round_trips_and_fits_telegram() -> None:
    expires = confirm.expiry(NOW, 10)
    data = confirm.callback_data(KEY, confirm.YES, 123456789, 2**63 - 1, expires)
    assert len(data.encode()) <= 64
    press = confirm.parse(data)
    assert press is not None and press.erase and press.customer_id == 2**63 - 1
    assert confirm.verify(KEY, press, 123456789)
    assert not confirm.verify(KEY, press, 123456780)  # another chat
    assert not confirm.verify(confirm.confirmation_key("x" * 40), press, 123456789)
    assert not press.expired(NOW + timedelta(minutes=10))
    assert press.expired(NOW + timedelta(minutes=10, seconds=1))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.replace("pd:y:", "pd:Y:"),
        lambda d: d.replace("pd:y:", "pd:x:"),
        lambda d: d.replace(":42:", ":042:"),
        lambda d: d.replace(":42:", ":٤٢:"),  # Unicode digits
        lambda d: d.replace(":42:", ":+42:"),
        lambda d: d + "A",
        lambda d: " " + d,
        lambda d: d[:-1],
        lambda d: d.replace(":42:", ":99999999999999999999:"),
        lambda d: d + "\n",
    ],
)
def test_malformed_confirmation_data_is_refused(mutate: object) -> None:
    data = confirm.callback_data(KEY, confirm.YES, 7001, 42, confirm.expiry(NOW, 10))
    assert confirm.parse(data) is not None
    assert confirm.parse(mutate(data)) is None  # type: ignore[operator]


def test_a_forged_mac_or_a_flipped_action_does_not_verify() -> None:
    data = confirm.callback_data(KEY, confirm.NO, 7001, 42, confirm.expiry(NOW, 10))
    flipped = confirm.parse(data.replace("pd:n:", "pd:y:"))
    assert flipped is not None and not confirm.verify(KEY, flipped, 7001)
    later = confirm.parse(data.replace(str(confirm.expiry(NOW, 10)), str(confirm.expiry(NOW, 99))))
    assert later is not None and not confirm.verify(KEY, later, 7001)


def render(key: str, **params: object) -> str:
    return EN[key].format_map({"company": "Acme", **params})


def test_the_export_splits_under_the_limit_without_losing_or_breaking_anything() -> None:
    reason = ("Zoë 👍 " * 900).strip()  # one line of about 6,300 UTF-16 units
    surveys = [
        {
            "id": n,
            "customer_id": 1,
            "kind": "transactional",
            "event_type": "delivery",
            "event_id": f"o-{n}",
            "status": "answered",
            "attributes": {"plan": "pro"},
            "created_at": "2024-06-03T12:00:00.000000Z",
            "sent_at": "2024-06-03T12:00:00.000000Z",
            "answered_at": None,
            "closed_at": None,
        }
        for n in range(1, 40)
    ]
    answers = {
        1: {
            "id": 1,
            "survey_id": 1,
            "score": 3,
            "category": "detractor",
            "reason": reason,
            "drivers": ["price"],
            "scored_at": "2024-06-03T12:00:00.000000Z",
        },
    }
    customer = {
        "id": 1,
        "external_id": "c-1",
        "attributes": {"plan": "pro"},
        "language": None,
        "telegram_language": "de",
        "linked_at": "2024-06-01T08:00:00.000000Z",
    }
    doc = build_document(customer, surveys, answers, "Acme", NOW)
    assert doc["customer"]["customer_id"] == "c-1" and "id" not in doc["customer"]
    assert doc["surveys"][0]["answer"]["drivers"] == ["price"]
    assert json.loads(document_bytes(doc).decode("utf-8")) == doc
    text = compose_text(doc, render)
    parts = split_text(text)
    assert len(parts) > 2
    assert all(0 < utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    assert "What mattered: price" in text and "telegram" not in text.lower()


def test_split_text_keeps_short_texts_whole_and_never_sends_blank_parts() -> None:
    assert split_text("a\n\nb") == ["a\n\nb"]
    assert split_text("x" * 4096) == ["x" * 4096]
    assert split_text("x" * 4097) == ["x" * 4096, "x"]
    assert split_text("👍" * 2049) == ["👍" * 2048, "👍"]
    assert split_text("\n\n") == []


def privacy_settings(variables: dict[str, str]) -> PrivacySettings:
    return Settings.from_env(with_required(variables)).privacy


def test_privacy_settings() -> None:
    assert privacy_settings({}).retention_days is None
    assert privacy_settings({"NPSBOT_RETENTION_DAYS": "off"}).retention_days is None
    parsed = privacy_settings(
        {"NPSBOT_RETENTION_DAYS": "365", "NPSBOT_ERASURE_CONFIRM_MINUTES": "5"}
    )
    assert (parsed.retention_days, parsed.confirm_minutes, parsed.retention_on) == (365, 5, True)
    for bad in ("-1", "1.5", "forever-ish", "36501"):
        with pytest.raises(SettingsError, match="NPSBOT_RETENTION_DAYS"):
            privacy_settings({"NPSBOT_RETENTION_DAYS": bad})
