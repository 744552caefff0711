"""Fixtures shared by every test, and the tiers.

Tiers (markers registered in pyproject.toml): unmarked tests are pure or storage tests;
``inprocess`` tests run the bot application in the test's own event loop against the
Telegram stand-in; ``slow`` tests run the bot as a child process (restarts, kills, exit
codes, fuzzing). Tiers are given here, by the fixtures a test uses, so that a new test lands
in the right one without a marker of its own. ``pytest -m "not slow"`` is the fast tier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Database
from tests.support.clock import Clock

#: Fixtures that start the bot as a child process (tests/e2e/conftest.py and the modules
#: built on it): a test using one of them is slow.
SUBPROCESS_FIXTURES = frozenset({"harness", "subprocess_harness"})
#: Fixtures that run the bot application in-process.
INPROCESS_FIXTURES = frozenset({"shared_harness", "inprocess_harness"})
#: Whole directories of child-process tests (they build their harness inside the test).
SLOW_DIRECTORIES = frozenset({"crash", "hostile"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier (explicit markers win)."""
    root = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("slow") or item.get_closest_marker("inprocess"):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        parts = Path(item.path).relative_to(root).parts
        if fixtures & SUBPROCESS_FIXTURES or (parts and parts[0] in SLOW_DIRECTORIES):
            item.add_marker(pytest.mark.slow)
        elif fixtures & INPROCESS_FIXTURES:
            item.add_marker(pytest.mark.inprocess)


#: Monday 2024-06-03 12:00 UTC: outside the default quiet hours.
MONDAY_NOON = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock[datetime]:
    """A hand-driven wall clock at Monday noon (UTC)."""
    return Clock(MONDAY_NOON)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database in the test's temporary directory."""
    database = await Database.open(tmp_path / "test.sqlite3")
    try:
        yield database
    finally:
        await database.close()
