"""Webhook signatures and endpoint settings."""

from __future__ import annotations

import pytest

from bot.adapters.webhooks.signing import sign, verify
from bot.settings import EVENT_TYPES, Settings, SettingsError, WebhookSettings
from tests.unit.test_settings import with_required

SECRET = "whsec-0123456789abcdef0123456789abcdef"
BODY = b'{"id":"evt_1","type":"answer.scored"}'


def webhook_settings(variables: dict[str, str]) -> WebhookSettings:
    return Settings.from_env(with_required(variables)).webhooks


def test_a_signature_verifies_with_the_same_secret_body_and_time() -> None:
    assert verify(SECRET, sign(SECRET, 1_700_000_000, BODY), BODY, now=1_700_000_010)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("another-secret-0123456789abcdef0123", BODY, 1_700_000_000),  # forged
        (SECRET, BODY + b" ", 1_700_000_000),  # body altered
        (SECRET, BODY, 1_700_000_000 + 301),  # replayed after the tolerance
        (SECRET, BODY, 1_700_000_000 - 301),  # from the future
    ],
)
def test_forgeries_alterations_and_old_replays_are_rejected(
    secret: str, body: bytes, now: int
) -> None:
    assert not verify(secret, sign(SECRET, 1_700_000_000, BODY), body, now=now)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1700000000", "garbage"])
def test_malformed_signature_headers_are_rejected(header: str) -> None:
    assert not verify(SECRET, header, BODY, now=1_700_000_000)


def test_numbered_endpoints_with_their_events() -> None:
    s = webhook_settings(
        {
            "NPSBOT_WEBHOOK_1_URL": "https://crm.example/hooks/nps",
            "NPSBOT_WEBHOOK_1_SECRET": SECRET,
            "NPSBOT_WEBHOOK_1_EVENTS": "answer.scored, answer.reason",
            "NPSBOT_WEBHOOK_2_URL": "http://127.0.0.1:9000/in",
            "NPSBOT_WEBHOOK_2_SECRET": SECRET + "x",
        }
    )
    assert s.urls_for("answer.scored") == [
        "https://crm.example/hooks/nps",
        "http://127.0.0.1:9000/in",
    ]
    assert s.urls_for("survey.sent") == ["http://127.0.0.1:9000/in"]
    assert s.endpoints[1].events == frozenset(EVENT_TYPES)
    secret = s.secret_for("http://127.0.0.1:9000/in")
    assert secret is not None and secret.get_secret_value() == SECRET + "x"
    assert SECRET not in repr(s)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NPSBOT_WEBHOOK_1_URL": "ftp://x", "NPSBOT_WEBHOOK_1_SECRET": SECRET}, "WEBHOOK_1_URL"),
        ({"NPSBOT_WEBHOOK_1_URL": "https://x.example"}, "NPSBOT_WEBHOOK_1_SECRET is invalid"),
        (
            {"NPSBOT_WEBHOOK_1_URL": "https://x.example", "NPSBOT_WEBHOOK_1_SECRET": "short"},
            "at least 32",
        ),
        (
            {
                "NPSBOT_WEBHOOK_1_URL": "https://x.example",
                "NPSBOT_WEBHOOK_1_SECRET": SECRET,
                "NPSBOT_WEBHOOK_1_EVENTS": "answer.scored,bogus",
            },
            "unknown event(s) ['bogus']",
        ),
        (
            {"NPSBOT_WEBHOOK_0_URL": "https://x.example", "NPSBOT_WEBHOOK_0_SECRET": SECRET},
            "1 to 20",
        ),
        ({"NPSBOT_WEBHOOK_MAX_AGE_HOURS": "0"}, "NPSBOT_WEBHOOK_MAX_AGE_HOURS is invalid"),
    ],
)
def test_bad_endpoint_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(
        SettingsError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        webhook_settings(env)


def test_a_secret_never_appears_in_an_error() -> None:
    with pytest.raises(SettingsError) as error:
        webhook_settings(
            {"NPSBOT_WEBHOOK_1_URL": "nope", "NPSBOT_WEBHOOK_1_SECRET": "s3cr3t-value"}
        )
    assert "s3cr3t-value" not in str(error.value)
