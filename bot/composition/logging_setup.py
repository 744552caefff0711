"""Logging that never prints the bot token, as text or as one JSON object a line.

httpx logs every request URL at INFO, and Bot API URLs contain the token; PTB errors can
include URLs too. A filter on the root handler masks the token wherever it appears, before
either formatter sees the record.

JSON lines (``NPSBOT_LOG_FORMAT=json``) carry ``time``, ``level``, ``logger``, ``message`` and,
where known, ``chat_id`` and ``survey_id``: given with ``extra=`` or set for the code running
on behalf of a chat or survey with :func:`log_context`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from bot.usecases.log_context import CONTEXT_FIELDS, current_context

_TOKEN_PATTERN = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")


class RedactingFilter(logging.Filter):
    """Replace the token (and anything shaped like a bot token) in log records."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        """The text with every secret and token-shaped string masked."""
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return _TOKEN_PATTERN.sub("<redacted-token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # mismatched args: let the handler report it as logging would
            return True
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now so the token in an exception message is masked too.
            formatter = logging.Formatter()
            redacted += "\n" + self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, RFC 3339), level, logger, message, context ids and,
    for a failure, the traceback (which the redacting filter has already rendered in)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = current_context()
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = context.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:  # only when no redacting filter rendered it into the message
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of ``NPSBOT_LOG_FORMAT``: ``text`` or ``json``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str, secrets: tuple[str, ...] = (), log_format: str = "text") -> None:
    """Configure the root logger with token redaction; quiet chatty HTTP loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
