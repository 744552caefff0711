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

Engines. Storage tests take ``db`` and every bot harness test takes one of the factories,
both parametrised over SQLite and PostgreSQL (``[sqlite]``, ``[postgresql]`` in the test
id): the same test body runs on each, the PostgreSQL run in a migrated database of its own
(``postgres``, tests/support/postgres.py), which skips without a reachable server. A test
that is about one engine, or whose second run buys nothing for its cost, says so with
``sqlite_only``/``postgresql_only`` (tests/support/engines.py) and the reason.

The slow (child-process) tests run on both engines where what they guard is stored state
across a kill, a stop or a restart: the inbox kill windows (tests/crash/
test_kill_around_the_inbox.py), SIGKILL while customers answer (tests/crash/
test_kill_while_answering.py, random moments), SIGKILL mid-dispatch and the ops API driving
a process (tests/ops/test_process.py), the orderly stop with unsent work
(tests/e2e/test_orderly_stop.py), restarts (tests/e2e/test_restart.py, the questionnaire's
restart between presses, the digest's catch-up never twice across a restart in
tests/admin/test_e2e_schedule.py) and the child-process smoke test. The slow in-process admin
alerts and the flood test run on both like every in-process test. On SQLite only: the
429/5xx kill storm (it adds the sender's retries, engine-independent, at four times the
random-kill test's cost) and the hostile-input fuzz (the handlers refuse junk before storing
anything). tests/scaling runs three processes on one PostgreSQL database by nature; the demo
and the start-up failures of a bad questionnaire store nothing of a test's.
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


#: The engines every bot harness test runs on, in this order (the test ids' ``[sqlite]``,
#: ``[postgresql]``).
ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=ENGINES)
def bot_engine(request: pytest.FixtureRequest) -> str:
    """The engine the bots of a module's test store in. A test or module overrides it with
    :func:`tests.support.engines.sqlite_only` (or ``postgresql_only``), saying why."""
    return str(request.param)


class BotDatabases:
    """Where the harnesses of one factory store: on SQLite the harness's own file in its
    directory; on PostgreSQL a database acquired from the session's server, one per harness
    directory (a harness made again in the same directory, like a restart in SQLite, finds
    the same data), released when the factory's fixture ends."""

    def __init__(self, engine: str, request: pytest.FixtureRequest) -> None:
        self.engine = engine
        self._names: dict[Path, str] = {}
        # A SQLite run needs no server (and does not skip without one).
        self._server: PostgresServer | None = (
            request.getfixturevalue("postgres") if engine == "postgresql" else None
        )

    def env(self, tmp: Path, extra: Mapping[str, str] | None) -> Mapping[str, str] | None:
        """``extra`` with the engine's ``NPSBOT_DATABASE`` (one the test names itself wins)."""
        if self._server is None or "NPSBOT_DATABASE" in (extra or {}):
            return extra
        name = self._names.get(tmp)
        if name is None:
            name = self._names[tmp] = self._server.acquire()
        return {**(extra or {}), "NPSBOT_DATABASE": url_for(name)}

    def release(self) -> None:
        """Hand every acquired database back (emptied for the next module)."""
        if self._server is not None:
            for name in self._names.values():
                self._server.release(name)
        self._names.clear()


@pytest.fixture(scope="module")
def inprocess_bots(bot_engine: str, request: pytest.FixtureRequest) -> Iterator[HarnessFactory]:
    """Harnesses whose bot runs in the test's event loop, on a clock the test can move,
    storing in ``bot_engine``."""
    databases = BotDatabases(bot_engine, request)
    try:
        yield lambda server, tmp, extra=None: Harness(
            server, tmp, databases.env(tmp, extra), in_process=True
        )
    finally:
        databases.release()


@pytest.fixture(scope="module")
def subprocess_bots(bot_engine: str, request: pytest.FixtureRequest) -> Iterator[HarnessFactory]:
    """Harnesses whose bot runs as a child process (``python -m bot run``), storing in
    ``bot_engine``."""
    databases = BotDatabases(bot_engine, request)
    try:
        yield lambda server, tmp, extra=None: Harness(server, tmp, databases.env(tmp, extra))
    finally:
        databases.release()


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
