"""Where the data lives, as ``NPSBOT_DATABASE`` gives it: a SQLite file or a PostgreSQL URL.

Read by the settings (a wrong value stops start-up with one line) and by
:meth:`storage.db.Database.open` (which engine to open).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Target:
    """Where the data lives: a SQLite file (or ``:memory:``) or a PostgreSQL URL."""

    engine: str  # "sqlite" or "postgresql"
    location: str  # the file path, or the libpq connection URL

    def describe(self) -> str:
        """For logs and messages: the path, or the URL without its password."""
        if self.engine == "sqlite":
            return self.location
        return _without_password(self.location)


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def parse_target(value: str | Path) -> Target:
    """``NPSBOT_DATABASE``: a file path, ``sqlite:///path`` (``sqlite:////abs/path`` for an
    absolute one, as SQLAlchemy writes it) or ``postgresql://...`` / ``postgres://...``.
    ValueError names what is wrong."""
    text = str(value).strip()
    if not text:
        raise ValueError("empty: give a file path, sqlite:///path or postgresql://...")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return Target("sqlite", text)
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"{text!r}: write sqlite:///relative/path or sqlite:////abs/path")
        return Target("sqlite", rest[1:])
    if scheme in {"postgresql", "postgres"}:
        if not rest or rest.startswith("?"):
            raise ValueError(f"{_without_password(text)!r}: no host or database after ://")
        return Target("postgresql", text)
    raise ValueError(
        f"unknown database scheme {scheme!r}: give a file path, sqlite:///path or postgresql://..."
    )
