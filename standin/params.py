"""Typed access to a Bot API call's parameters, whatever encoding the bot used.

PTB sends form fields (strings, with JSON for non-string values) or multipart parts; other
clients send JSON bodies or query strings. :class:`Params` reads all of these alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from standin.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Parameters of one call: strings from forms, typed values from JSON, uploads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        """True when ``name`` was sent."""
        return name in self.values and self.values[name] is not None

    def str_(self, name: str) -> str | None:
        """A string parameter (numbers from JSON bodies are turned into strings)."""
        value = self.values.get(name)
        if value is None or isinstance(value, Upload):
            return None
        return value if isinstance(value, str) else str(value)

    def int_(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; a malformed one is a 400 like on Telegram."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def float_(self, name: str, default: float = 0.0) -> float:
        """A number parameter (timeouts)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool_(self, name: str) -> bool:
        """A boolean parameter: JSON true or the strings "true"/"1"."""
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json_(self, name: str, what: str = "JSON object") -> Any:
        """A JSON-encoded parameter (form fields carry JSON text; JSON bodies carry values)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {what}") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """A file parameter: an upload, or a string (file_id or URL)."""
        value = self.values.get(name)
        if isinstance(value, Upload):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            attached = self.values.get(value.removeprefix("attach://"))
            return attached if isinstance(attached, Upload) else None
        return self.str_(name)
