"""Alert buttons' callback data, alert batching within Telegram's limits, admin settings."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.telegram.admin_filter import is_admin
from bot.core.nps import Category, Counts, Cutoffs
from bot.core.periods import Period
from bot.core.texts import admin_texts
from bot.reports.alert_text import MAX_ALERTS_PER_MESSAGE
from bot.reports.alert_text import compose_alert_messages as compose
from bot.reports.nps_report import NpsReportData, compose_nps_report
from bot.reports.telegram_text import MESSAGE_LIMIT, utf16_len, visible_text
from bot.settings import AdminSettings, Settings, SettingsError
from bot.usecases.alerts import alert_callback, parse_alert_callback
from storage.alerts import AlertView
from tests.unit.test_settings import with_required

UTCZ = ZoneInfo("UTC")


def admin_settings(variables: dict[str, str]) -> AdminSettings:
    return Settings.from_env(with_required(variables)).admin


def compose_alert_messages(
    items: list[tuple[AlertView, set[str]]], tz: ZoneInfo
) -> list[tuple[str, dict[str, Any]]]:
    """The alert messages in English, with the real buttons' callback data."""
    return compose(items, tz, admin_texts("en"), alert_callback)


def view(alert_id: int, reason: str | None = "late", **attrs: str) -> AlertView:
    return AlertView(
        id=alert_id,
        survey_id=alert_id,
        score=2,
        reason=reason,
        customer_id=alert_id,
        customer_ref=f"cust-{alert_id}",
        customer_chat_id=1000 + alert_id,
        customer_blocked=False,
        kind="transactional",
        event_type="delivery",
        event_id=f"ev-{alert_id}",
        attributes=dict(attrs),
        scored_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
        followed_up_at=None,
        resolved_at=None,
        resolved_by=None,
        resolved_note=None,
    )


def test_callback_data_round_trips_and_fits() -> None:
    for alert_id in (1, 42, 10**15):
        for action in ("r", "x"):
            data = alert_callback(action, alert_id)
            assert len(data.encode()) <= 64
            assert parse_alert_callback(data) == (action, alert_id)
    with pytest.raises(ValueError):
        alert_callback("z", 1)
    with pytest.raises(ValueError):
        alert_callback("r", 0)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "al:r:",
        "al:r:0",
        "al:r:007",
        "al:r:-1",
        "al:q:1",
        "AL:r:1",
        "al:r:1 ",
        "al:r:1\n",
        "al:r:١",  # Arabic-Indic digit
        "al:r:１",  # fullwidth digit
        "al:r:12345678901234567",  # 17 digits
        "al:r:1:x",
        "nps:1:5",
        "al:r:" + "9" * 70,
    ],
)
def test_forged_or_malformed_callback_data_is_rejected(data: str | None) -> None:
    assert parse_alert_callback(data) is None


@given(st.text(max_size=80))
def test_parse_never_raises_and_accepts_only_its_own_shape(data: str) -> None:
    parsed = parse_alert_callback(data)
    if parsed is not None:
        assert alert_callback(*parsed) == data


def test_single_alert_has_its_two_buttons_and_escapes_everything() -> None:
    [(text, keyboard)] = compose_alert_messages(
        [(view(7, reason="<script>&", plan="<b>pro</b>"), {"score"})], UTCZ
    )
    assert "&lt;script&gt;&amp;" in text and "&lt;b&gt;pro&lt;/b&gt;" in text
    assert "Detractor #7" in text and "score <b>2</b>" in text and "cust-7" in text
    assert "delivery" in text and "ev-7" in text and "2026-11-22 10:00" in text
    buttons = [b["callback_data"] for row in keyboard["inline_keyboard"] for b in row]
    assert buttons == ["al:r:7", "al:x:7"]
    [(reason_text, _)] = compose_alert_messages([(view(7), {"reason"})], UTCZ)
    assert "Reason from detractor #7" in reason_text


def test_a_burst_is_batched_within_message_and_keyboard_limits() -> None:
    long_reason = "ü" * 5000
    items = [
        (view(i, reason=long_reason, plan="x" * 100), {"score", "reason"}) for i in range(1, 41)
    ]
    messages = compose_alert_messages(items, UTCZ)
    assert len(messages) >= 40 // MAX_ALERTS_PER_MESSAGE
    seen = []
    for text, keyboard in messages:
        assert utf16_len(text) <= MESSAGE_LIMIT
        rows = keyboard["inline_keyboard"]
        assert len(rows) <= MAX_ALERTS_PER_MESSAGE and all(len(row) == 2 for row in rows)
        assert sum(len(r) for r in rows) <= 100
        seen += [int(row[0]["callback_data"].split(":")[2]) for row in rows]
        assert "detractor alerts" in visible_text(text)
    assert seen == list(range(1, 41))  # every alert once, in order: none dropped


def test_admin_is_a_configured_chat_or_a_configured_user() -> None:
    settings = Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
            "NPSBOT_ADMIN_CHAT_IDS": "-1001,42",
        }
    )
    assert is_admin(settings, -1001, 7)  # anyone in the admin group
    assert is_admin(settings, 42, 42)  # the admin's private chat
    assert not is_admin(settings, -555, 42)  # a configured admin user elsewhere: no
    assert not is_admin(settings, 7, 7)
    assert not is_admin(settings, None, None)


def test_admin_settings_defaults_and_errors() -> None:
    default = admin_settings({})
    assert default.digest_time == time(9, 0) and default.cutoffs.is_standard
    assert default.digest_attribute is None and default.alerts_enabled
    parsed = admin_settings(
        {
            "NPSBOT_DIGEST_TIME": "7:05",
            "NPSBOT_DIGEST_ATTRIBUTE": "region",
            "NPSBOT_DETRACTOR_ALERTS": "off",
            "NPSBOT_RELAY_HOURS": "24",
            "NPSBOT_DIGEST_CATCHUP_DAYS": "7",
        }
    )
    assert parsed.digest_time == time(7, 5) and parsed.digest_attribute == "region"
    assert not parsed.alerts_enabled and parsed.relay_hours == 24
    assert parsed.digest_catchup_days == 7
    assert admin_settings({"NPSBOT_DIGEST_TIME": "off"}).digest_time is None
    for name, value in (
        ("DIGEST_TIME", "25:00"),
        ("DIGEST_TIME", "9"),
        ("DIGEST_ATTRIBUTE", "plan.name"),
        ("DETRACTOR_ALERTS", "maybe"),
        ("RELAY_HOURS", "0"),
        ("DIGEST_CATCHUP_DAYS", "40"),
        ("PROMOTER_MIN", "0"),
    ):
        with pytest.raises(SettingsError, match=f"NPSBOT_{name}"):
            admin_settings({f"NPSBOT_{name}": value})


def test_nps_report_states_n_interval_noise_kinds_and_cut_offs() -> None:
    data = NpsReportData(
        period=Period(datetime(2026, 11, 16).date(), datetime(2026, 11, 22).date(), "last 7 days"),
        previous_period=Period(
            datetime(2026, 11, 9).date(), datetime(2026, 11, 15).date(), "7 days before"
        ),
        current=Counts(7, 1, 2),
        previous=Counts(1, 1, 8),
        filter_label="event=<x>",
        cutoffs=Cutoffs(promoter_min=8, passive_min=6),
        by_kind={"transactional": Counts(7, 1, 1), "relationship": Counts(0, 0, 1)},
    )
    [text] = compose_nps_report(data)
    assert "<b>NPS +50</b> (n = 10, 95% interval" in text
    assert "event=&lt;x&gt;" in text
    assert "change +120 points, beyond the noise" in text
    assert "By survey kind" in text and "non-standard cut-offs" in text
    same = compose_nps_report(
        NpsReportData(data.period, data.previous_period, Counts(1, 0, 0), Counts(0, 0, 1))
    )[0]
    assert "within the noise" in same and "non-standard" not in same
    empty = compose_nps_report(
        NpsReportData(data.period, data.previous_period, Counts(), Counts())
    )[0]
    assert "No answers in this period." in empty and "no comparison possible" in empty
    assert "Drivers" not in text  # nothing picked: no section


def test_nps_report_shows_the_drivers_per_category_with_counts() -> None:
    day = datetime(2026, 11, 22).date()
    data = NpsReportData(
        period=Period(day, day),
        previous_period=Period(day, day),
        current=Counts(1, 0, 2),
        previous=Counts(),
        drivers={
            Category.DETRACTOR: [("Price", 2), ("Speed <fast>", 1)],
            Category.PROMOTER: [("Staff", 1)],
        },
    )
    for lang, title in (("en", "<b>Drivers</b>"), ("zh", "驱动因素")):
        [text] = compose_nps_report(data, lang)
        section = text[text.index(title) :]
        assert "Price (2), Speed &lt;fast&gt; (1)" in section and "Staff (1)" in section
        assert section.index("Price") < section.index("Staff")  # detractors first
