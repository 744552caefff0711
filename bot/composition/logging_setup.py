"""Logging that never prints the bot token.

httpx logs every request URL at INFO, and Bot API URLs contain the token; PTB errors can
include URLs too. A filter on the root handler masks the token wherever it appears.
"""

from __future__ import annotations

import logging
import re

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


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Configure the root logger with token redaction; quiet chatty HTTP loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
