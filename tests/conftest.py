"""Fixtures shared by every test, and the tiers.

Tiers (markers registered in pyproject.toml): unmarked tests are pure or storage tests;
``inprocess`` tests run the bot application in the test's own event loop against the
Telegram stand-in; ``slow`` tests run the bot as a child process (restarts, kills, exit
codes, fuzzing). Every bot harness is built by one of two factory fixtures defined here,
``inprocess_bots`` or ``subprocess_bots``, and the one a test needs (directly or through
another fixture) gives its tier, so a new test lands in the right one without a marker of
its own. Modules that start processes some other way, or whose in-process tests spend tens
of seconds on Telegram's real pacing, say ``pytest.mark.slow`` themselves.
``pytest -m "not slow"`` is the fast tier; plain ``pytest`` runs everything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from standin import StandIn
from storage import Database
from tests.e2e.harness import Harness
from tests.support.clock import Clock
from tests.support.postgres import PostgresServer, unreachable_reason, url_for

#: Builds a harness for a stand-in, in a directory, with extra environment settings.
HarnessFactory = Callable[[StandIn, Path, Mapping[str, str] | None], Harness]


@pytest.fixture(scope="session")
def inprocess_bots() -> HarnessFactory:
    """Harnesses whose bot runs in the test's event loop, on a clock the test can move."""
    return lambda server, tmp, extra=None: Harness(server, tmp, extra, in_process=True)


@pytest.fixture(scope="session")
def subprocess_bots() -> HarnessFactory:
    """Harnesses whose bot runs as a child process (``python -m bot run``)."""
    return lambda server, tmp, extra=None: Harness(server, tmp, extra)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier by the harness factory it needs (a test needing both is
    slow; a module may add ``slow`` to in-process tests that wait on real time)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "subprocess_bots" in fixtures and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
        if "inprocess_bots" in fixtures and not item.get_closest_marker("inprocess"):
            item.add_marker(pytest.mark.inprocess)


#: Monday 2024-06-03 12:00 UTC: outside the default quiet hours.
MONDAY_NOON = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock[datetime]:
    """A hand-driven wall clock at Monday noon (UTC)."""
    return Clock(MONDAY_NOON)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The test PostgreSQL server (skips the test when it is unreachable, with the reason;
    ``.ci/run`` fails first in that case, so CI never passes by skipping)."""
    reason = unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database: a SQLite file in the test's temporary directory, then a
    PostgreSQL database of its own (the same test runs on both engines)."""
    if request.param == "sqlite":
        database = await Database.open(tmp_path / "test.sqlite3")
        try:
            yield database
        finally:
            await database.close()
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.acquire()
    try:
        database = await Database.open(url_for(name))
        try:
            yield database
        finally:
            await database.close()
    finally:
        server.release(name)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of an `npsbot` command on a fresh database file (returned); no .env
    file is read, quiet hours are off."""
    db_path = tmp_path / "cli.sqlite3"
    for key, value in {
        "NPSBOT_ENV_FILE": "/dev/null",
        "NPSBOT_TOKEN": "123:abcdefghijklmnopqrstuvwxyz",
        "NPSBOT_LINK_SECRET": "cli-test-secret-0123456789abcdef0123",
        "NPSBOT_COMPANY_NAME": "Acme",
        "NPSBOT_DATABASE": str(db_path),
        "NPSBOT_TIMEZONE": "UTC",
        "NPSBOT_QUIET_HOURS": "off",
    }.items():
        monkeypatch.setenv(key, value)
    return db_path
