"""Parsers shared by the sections: raw strings from the environment into typed values.

Each parser raises :class:`ValueError` with a message that never repeats a secret; the
section's field names the variable (see :mod:`bot.settings.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, ConfigDict

from bot.core.database_url import parse_target
from bot.settings.errors import PREFIX, SettingsError

T = TypeVar("T")


def var(name: str) -> str:
    """The environment variable of a setting: ``var("TOKEN") == "NPSBOT_TOKEN"``."""
    return PREFIX + name


def parsed(parse: Callable[[str], Any]) -> BeforeValidator:
    """Validate a field with ``parse`` when it comes from the environment (a string);
    values built in code (already typed) pass through to the field's type check."""

    def before(value: Any) -> Any:
        return parse(value) if isinstance(value, str) else value

    return BeforeValidator(before)


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


def chat_ids(raw: str) -> tuple[int, ...]:
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise ValueError(f"expected comma-separated chat ids (integers), got {part!r}")
        ids.append(int(part))
    return tuple(ids)


def timezone_name(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ValueError(
            f"unknown time zone {raw!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {raw!r}")
    return raw


def database_location(raw: str) -> str:
    """``NPSBOT_DATABASE``: a SQLite file path, ``sqlite:///path`` or ``postgresql://...``
    (kept as given; the error never repeats a password)."""
    parse_target(raw)
    return raw.strip()


def on_off(raw: str) -> bool:
    value = raw.lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ValueError(f"expected on or off, got {raw!r}")


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional quotes.

    Stricter than python-dotenv, which skips a line it cannot parse: a typo in the file
    (``NPSBOT_TOKEN 123:...``) stops start-up naming the file and line, not the content.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        quoted = re.fullmatch(r"""(["'])(.*?)\1(\s+#.*)?""", value)
        if quoted:
            value = quoted.group(2)
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


# Every section: immutable, built from the flat NPSBOT_* mapping by alias (other variables
# are ignored) or in code by field name, and no input echoed by pydantic's own messages.
SECTION_CONFIG = ConfigDict(
    frozen=True,
    extra="ignore",
    validate_by_alias=True,
    validate_by_name=True,
    hide_input_in_errors=True,
)
