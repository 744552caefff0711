"""Specification of token redaction in logs (bot.composition.logging_setup.RedactingFilter)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.composition.logging_setup import RedactingFilter

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
OTHER_TOKEN = "987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"
SHORT_SECRET = "4242:shorty-but-configured"  # not token-shaped, but configured as a secret


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter((TOKEN, SHORT_SECRET, "")))
    logger = logging.getLogger("tests.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, stream
    finally:
        logger.handlers.clear()
        logger.propagate = True


def test_token_in_message_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info(f"GET https://api.telegram.org/bot{TOKEN}/getMe 200")
    out = stream.getvalue()
    assert TOKEN not in out
    assert "https://api.telegram.org/bot<redacted>/getMe 200" in out


def test_token_in_args_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("HTTP Request: %s %s", "POST", f"https://api.telegram.org/bot{TOKEN}/sendMessage")
    out = stream.getvalue()
    assert TOKEN not in out
    assert "HTTP Request: POST https://api.telegram.org/bot<redacted>/sendMessage" in out


def test_token_in_dict_args_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("url=%(url)s", {"url": f"/bot{TOKEN}/x"})
    assert stream.getvalue() == "INFO url=/bot<redacted>/x\n"


def test_token_in_exception_text_is_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"connect failed for https://api.telegram.org/bot{TOKEN}/getUpdates")
    except RuntimeError:
        logger.exception("polling failed")
    out = stream.getvalue()
    assert TOKEN not in out
    assert "polling failed" in out
    assert "Traceback" in out
    assert "RuntimeError: connect failed for https://api.telegram.org/bot<redacted>" in out


def test_any_token_shaped_string_is_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("other bot %s", OTHER_TOKEN)
    assert stream.getvalue() == "WARNING other bot <redacted-token>\n"


def test_configured_secret_that_is_not_token_shaped_is_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("secret=%s", SHORT_SECRET)
    assert stream.getvalue() == "INFO secret=<redacted>\n"


def test_message_without_secrets_is_unchanged(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("sent %d messages to %s (%.1f%%)", 3, "chat 42", 99.5)
    assert stream.getvalue() == "INFO sent 3 messages to chat 42 (99.5%)\n"


def test_percent_signs_in_redacted_message_survive(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("100%% of %s", TOKEN)
    assert stream.getvalue() == "INFO 100% of <redacted>\n"


def test_every_handler_downstream_sees_the_masked_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", (TOKEN,), None)
    assert RedactingFilter((TOKEN,)).filter(record) is True
    assert record.getMessage() == "token <redacted>"
    assert record.args is None


def test_redact_masks_every_occurrence() -> None:
    text = f"{TOKEN} and again {TOKEN}"
    assert RedactingFilter((TOKEN,)).redact(text) == "<redacted> and again <redacted>"


def test_redact_without_configured_secrets_still_masks_token_shapes() -> None:
    assert RedactingFilter().redact(f"x {TOKEN} y") == "x <redacted-token> y"


def test_a_malformed_log_call_does_not_raise_into_the_caller(
    captured: tuple[logging.Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, _ = captured
    monkeypatch.setattr(logging, "raiseExceptions", False)
    logger.info("count=%d", "not a number")  # logging itself would only report this


@pytest.fixture
def json_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the redacting filter and the JSON formatter, as
    ``setup_logging(..., log_format="json")`` configures the root logger."""
    from bot.composition.logging_setup import formatter_for

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for("json"))
    handler.addFilter(RedactingFilter((TOKEN,)))
    logger = logging.getLogger("tests.redaction.json")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, stream
    finally:
        logger.handlers.clear()
        logger.propagate = True


def read_lines(stream: io.StringIO) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_are_redacted_too(json_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_lines
    logger.warning("GET https://api.telegram.org/bot%s/getMe failed", TOKEN)
    try:
        raise RuntimeError(f"boom at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("send failed")
    assert TOKEN not in stream.getvalue()
    first, second = read_lines(stream)
    assert first["message"] == "GET https://api.telegram.org/bot<redacted>/getMe failed"
    assert (first["level"], first["logger"]) == ("WARNING", "tests.redaction.json")
    assert str(first["time"]).endswith("+00:00")
    assert "RuntimeError: boom at /bot<redacted>/sendMessage" in str(second["message"])


def test_json_lines_carry_the_chat_and_survey_in_context(
    json_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    from bot.usecases.log_context import log_context

    logger, stream = json_lines
    with log_context(chat_id=42):
        logger.info("in a chat", extra={"survey_id": 7})
        with log_context(survey_id=8):
            logger.info("in a survey")
    logger.info("outside")
    lines = read_lines(stream)
    assert (lines[0]["chat_id"], lines[0]["survey_id"]) == (42, 7)
    assert (lines[1]["chat_id"], lines[1]["survey_id"]) == (42, 8)
    assert "chat_id" not in lines[2] and "survey_id" not in lines[2]


def test_the_log_format_setting() -> None:
    from bot.settings import Settings, SettingsError

    base = {
        "NPSBOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "NPSBOT_LINK_SECRET": "x" * 40,
        "NPSBOT_COMPANY_NAME": "Acme",
    }
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env({**base, "NPSBOT_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="NPSBOT_LOG_FORMAT"):
        Settings.from_env({**base, "NPSBOT_LOG_FORMAT": "xml"})
