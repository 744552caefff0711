"""/export builds its file in a child process with its own read-only connection: the bot's
process does none of the reading or writing, customers answer while the child works, a
failing or crashing child gets the admin a polite message (and the log a reason without
customer data), and the orderly stop ends a running export in time, telling the admin once.

Tests that need the child to wait or fail give the bot a stand-in for the child's work
(:func:`tests.support.held_export.gated_build`, run in the real child process) through
the composition root's ``ChildExports``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bot.composition.runtime
from bot.composition.exports import ChildExports
from bot.composition.supervisor import STOP_TIMEOUT_SECONDS
from bot.core.texts import admin_texts
from standin import BotMessage
from storage import reports
from tests.admin.conftest import AdminWorld, admin_bot
from tests.admin.test_e2e_alerts_and_commands import answer, text
from tests.conftest import HarnessFactory
from tests.support.held_export import CUSTOMER_DATA, GATE_ENV, gated_build
from tests.support.postgres import PostgresServer, url_for

EN = admin_texts("en")
_ids = itertools.count(1)


def is_export_reply(message: BotMessage) -> bool:
    """The file, or a text about the export (not an alert)."""
    return message.kind == "document" or "export" in text(message).lower()


def built_in(log: str) -> list[int]:
    """The process ids the log says exports were built in."""
    return [int(pid) for pid in re.findall(r"built in process (\d+)", log)]


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts: it was not reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_the_export_is_built_in_a_child_process_that_reads_on_its_own_connection(
    engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    inprocess_bots: HarnessFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env: dict[str, str] = {}
    name = ""
    postgres: PostgresServer | None = None
    if engine == "postgresql":
        postgres = request.getfixturevalue("postgres")
        name = postgres.acquire()
        env = {"NPSBOT_DATABASE": url_for(name)}
    # Any read of the export in this (the bot's) process would show here.
    reads_here: list[Any] = []
    original = reports.export_records

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads_here.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(reports, "export_records", counted)
    try:
        async with admin_bot(inprocess_bots, tmp_path, env) as w:
            cid = f"child-{next(_ids)}"
            await answer(w.h, await w.h.linked_user(cid), cid, 10, "fast")
            mark = w.admin.last_message_id
            await w.admin.send_text("/export today")
            doc = await w.admin.wait_for_message(is_export_reply, timeout=60, since=mark)
            assert doc.kind == "document" and doc.file_bytes is not None
            assert cid.encode() in doc.file_bytes
            pids = built_in(w.h.bot.log())
    finally:
        if postgres is not None:
            postgres.release(name)
    assert len(pids) == 1 and pids[0] != os.getpid(), pids
    assert reads_here == []


@dataclass
class Gated:
    """A running bot whose export child does what ``<gate>/mode`` says."""

    world: AdminWorld
    gate: Path

    def mode(self, mode: str) -> None:
        for leftover in ("reading", "release"):
            (self.gate / leftover).unlink(missing_ok=True)
        (self.gate / "mode").write_text(mode)

    async def reading_pid(self) -> int:
        """The child's pid, once it holds its snapshot open (or is about to fail)."""
        marker = self.gate / "reading"
        await self.world.h.wait_for(marker.exists, 60, "the export's child to read")
        return int(marker.read_text())


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The gate directory, named in the environment the child inherits, and the bot's
    composition root giving its child :func:`gated_build`."""
    path = tmp_path / "gate"
    path.mkdir()
    monkeypatch.setenv(GATE_ENV, str(path))
    monkeypatch.setattr(
        bot.composition.runtime, "ChildExports", lambda: ChildExports(build=gated_build)
    )
    yield path
    (path / "release").write_text("")  # a child still holding lets go


@pytest.fixture
async def gated(gate: Path, tmp_path: Path, inprocess_bots: HarnessFactory) -> AsyncIterator[Gated]:
    async with admin_bot(inprocess_bots, tmp_path / "bot", {}) as world:
        yield Gated(world, gate)


async def test_customers_answer_while_the_exports_child_holds_its_snapshot(
    gated: Gated,
) -> None:
    w, h = gated.world, gated.world.h
    gated.mode("hold")
    mark = w.admin.last_message_id
    await w.admin.send_text("/export today")
    child = await gated.reading_pid()
    assert child != os.getpid()
    cid = f"busy-{next(_ids)}"
    user = await h.linked_user(cid)
    loop = asyncio.get_running_loop()
    started = loop.time()
    # A whole answer (question, press, follow-up, reason, thanks) while the child holds
    # its read open.
    await answer(h, user, cid, 9, "quick while the export runs")
    assert loop.time() - started < 15
    assert (gated.gate / "reading").exists() and not (gated.gate / "release").exists()
    (gated.gate / "release").write_text("")
    # The child read its snapshot before the answer: "nothing to export" on a fresh bot.
    reply = await w.admin.wait_for_message(is_export_reply, timeout=30, since=mark)
    assert text(reply).startswith("No answers"), text(reply)
    assert built_in(h.bot.log()) == [child]


async def test_a_failing_child_gets_the_admin_the_failure_message_and_the_log_a_reason(
    gated: Gated,
) -> None:
    w = gated.world
    gated.mode("fail")
    mark = w.admin.last_message_id
    await w.admin.send_text("/export today")
    reply = await w.admin.wait_for_message(is_export_reply, timeout=60, since=mark)
    assert text(reply) == EN.render("export_failed")
    log = w.h.bot.log()
    assert re.search(r"export for chat \d+ failed: ValueError at held_export\.py:\d+", log), log
    assert CUSTOMER_DATA not in log and "cust-secret" not in log


async def test_a_crashed_child_gets_the_failure_message_and_the_next_export_a_new_child(
    gated: Gated,
) -> None:
    w = gated.world
    cid = f"crash-{next(_ids)}"
    await answer(w.h, await w.h.linked_user(cid), cid, 6, None)
    gated.mode("hold")
    mark = w.admin.last_message_id
    await w.admin.send_text("/export today")
    child = await gated.reading_pid()
    os.kill(child, signal.SIGKILL)
    reply = await w.admin.wait_for_message(is_export_reply, timeout=60, since=mark)
    assert text(reply) == EN.render("export_failed")
    assert "the child process ended abruptly (exit code -9)" in w.h.bot.log()
    gated.mode("pass")
    mark = w.admin.last_message_id
    await w.admin.send_text("/export today")
    again = await w.admin.wait_for_message(is_export_reply, timeout=60, since=mark)
    assert again.kind == "document" and again.file_bytes is not None
    assert cid.encode() in again.file_bytes
    assert child not in built_in(w.h.bot.log()) and len(built_in(w.h.bot.log())) == 1


async def test_the_orderly_stop_ends_a_running_export_in_time_and_tells_the_admin_once(
    gated: Gated,
) -> None:
    w = gated.world
    gated.mode("hold")
    mark = w.admin.last_message_id
    await w.admin.send_text("/export today")
    child = await gated.reading_pid()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await w.h.bot.stop_async() == 0
    assert loop.time() - started < STOP_TIMEOUT_SECONDS
    assert "orderly stop exceeded" not in w.h.bot.log()
    assert not alive(child), "the child was killed and reaped"
    after = [m for m in w.admin.messages if m.message_id > mark]
    assert [text(m) for m in after] == [EN.render("export_interrupted")]
