"""Running the real bot against the in-process Telegram stand-in: as a child process
(restarts, kills, exit codes) or in-process on a controllable clock (everything else). Both
are driven through the same :class:`Harness`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.linking import make_payload
from standin import Limits, SimUser, StandIn
from standin.botprocess import BotProcess, offline_env
from storage import Database
from tests.support.clock import Clock
from tests.support.inprocess import InProcessBot

TOKEN = "123456789:TEST-token-for-the-local-stand-in-only"
SECRET = "e2e-link-secret-0123456789abcdef0123456789"
COMPANY = "Acme Delivery"
BOT_USERNAME = "nps_test_bot"
ROOT = Path(__file__).resolve().parents[2]
#: Telegram's limits, but private chats take 20 messages a second instead of one: for
#: conversations in-process, which would otherwise spend most of their time being paced (the
#: pacing itself is specified in tests/unit/test_ratelimit.py and tests/standin). Groups keep
#: Telegram's 20 a minute.
QUICK_CHATS = Limits(per_chat_per_second=20.0)


def bot_env(
    server: StandIn, db_path: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for a bot talking to ``server``; no .env file is read."""
    return offline_env(
        server,
        db_path,
        link_secret=SECRET,
        company=COMPANY,
        bot_username=BOT_USERNAME,
        extra=extra,
    )


def wall_clock() -> Clock[datetime]:
    """The in-process bot's clock: it follows real time (timeouts and pacing need time to
    pass) from now, and a test can move it on."""
    from bot.usecases.services import utc_now

    return Clock(utc_now(), ticking=True)


class Harness:
    """The stand-in, the bot (a child process, or in-process when ``in_process``) and a way
    to read the bot's database. ``clock`` is the bot's wall clock: the real one for a child
    process, a :class:`Clock` that tests may move for an in-process bot."""

    def __init__(
        self,
        server: StandIn,
        tmp: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        in_process: bool = False,
    ):
        from bot.usecases.services import utc_now

        self.server = server
        self.db_path = tmp / "bot.sqlite3"
        #: What the bot stores in: the SQLite file, unless ``extra_env`` names another
        #: database (a PostgreSQL URL).
        self.database: str | Path = (extra_env or {}).get("NPSBOT_DATABASE", self.db_path)
        env = bot_env(server, self.db_path, extra_env)
        self.bot: BotProcess | InProcessBot
        if in_process:
            # Paced at the rate the stand-in allows private chats (QUICK_CHATS).
            rate = {"NPSBOT_PER_CHAT_RATE": str(server.limits.per_chat_per_second)}
            env = bot_env(server, self.db_path, {**rate, **(extra_env or {})})
            self.clock: Clock[datetime] | None = wall_clock()
            self.bot = InProcessBot(env, self.clock)
        else:
            self.clock = None
            self.bot = BotProcess(env, tmp / "bot.log")
        self.now = self.clock or utc_now

    async def start_bot(self) -> None:
        """Start the bot and wait until it polls the stand-in (or, in webhook mode, has set
        its webhook)."""
        before = self._receiving_calls()
        self.bot.start()
        await self.wait_for(lambda: self._receiving_calls() > before, 30, "bot receiving")

    def _receiving_calls(self) -> int:
        calls = self.server.stats.calls
        return calls.get("getUpdates", 0) + calls.get("setWebhook", 0)

    async def wait_for(self, cond: Any, timeout: float = 10, what: str = "condition") -> None:
        """Poll ``cond`` until true; fail with the bot's log if it never is."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not cond():
            if self.bot.exited:
                raise AssertionError(f"the bot exited:\n{self.bot.log()}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; bot log:\n{self.bot.log()}")
            await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def db(self) -> AsyncIterator[Database]:
        """A second connection to the bot's database (WAL allows it while the bot runs)."""
        db = await Database.open(self.database, migrate=False)
        try:
            yield db
        finally:
            await db.close()

    async def inbox_row(self, update_id: int) -> tuple[object, ...] | None:
        """The update's inbox row: (JSON kept?, handled?, outcome), or None if not stored."""
        async with self.db() as db, db.read() as tx:
            row = await tx.fetchone(
                "SELECT payload IS NOT NULL, handled_at IS NOT NULL, outcome FROM inbox "
                "WHERE update_id = ?",
                (update_id,),
            )
        return tuple(row) if row is not None else None

    async def linked_user(self, customer_id: str, **user_kwargs: Any) -> SimUser:
        """A simulated user who opened the customer's signed deep link."""
        user = self.server.add_user(**user_kwargs)
        count = len(user.messages)
        await user.start(make_payload(SECRET, customer_id))
        await user.wait_for(lambda: len(user.messages) > count, timeout=10)
        return user

    async def queue_survey(self, customer_id: str, **kwargs: Any) -> int:
        """Queue a survey the way the CLI does (straight into the database)."""
        from bot.usecases.queueing import queue_survey

        async with self.db() as db:
            result = await queue_survey(db, customer_id, self.now(), **kwargs)
        return result.survey_id


async def survey_state(h: Harness, survey_id: int) -> tuple[Any, Any]:
    """(survey, answer) as stored now."""
    from storage import answers, surveys

    async with h.db() as db, db.read() as tx:
        return await surveys.get(tx, survey_id), await answers.get_for_survey(tx, survey_id)


async def customer_state(h: Harness, customer_id: str) -> Any:
    """The stored customer (or None)."""
    from storage import customers

    async with h.db() as db, db.read() as tx:
        return await customers.get_by_external_id(tx, customer_id)


async def receive_survey(
    h: Harness, user: SimUser, customer_id: str, **kwargs: Any
) -> tuple[int, Any]:
    """Queue a survey and wait until the user sees its question; (survey id, message)."""
    mark = user.last_message_id
    survey_id = await h.queue_survey(customer_id, **kwargs)
    question = await user.wait_for_message(
        lambda m: f"nps:{survey_id}:0" in m.button_data, timeout=15, since=mark
    )
    # The question reaches the chat a moment before the bot records it as sent: wait for the
    # record too, so what a test reads next is the settled state.
    deadline = asyncio.get_running_loop().time() + 15
    while (await survey_state(h, survey_id))[0].chat_id is None:
        assert asyncio.get_running_loop().time() < deadline, f"survey {survey_id} not recorded"
        await asyncio.sleep(0.01)
    return survey_id, question
