"""Reports off the write path: while an admin's /nps is still reading, customers' answers
keep flowing (the reports read on a reader connection, never under the write lock). /export
reads in a child process of its own: tests/admin/test_export_process.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from storage import reports
from tests.admin.conftest import AdminWorld
from tests.admin.test_e2e_alerts_and_commands import answer, text

pytestmark = pytest.mark.asyncio(loop_scope="module")

_ids = itertools.count(1)


def _held(
    original: Callable[..., Awaitable[Any]], reading: asyncio.Event, release: asyncio.Event
) -> Callable[..., Awaitable[Any]]:
    """``original``, which stops mid-read (its read scope open) until ``release``."""

    async def held(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        reading.set()
        await release.wait()
        return result

    return held


@pytest.mark.parametrize(
    ("command", "function", "done"),
    [("/nps 30d", "histograms_by_day", lambda m: "NPS ·" in (m.shown_text or ""))],
)
async def test_customers_answer_while_a_report_is_reading(
    admin_world: AdminWorld,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    function: str,
    done: Callable[[Any], bool],
) -> None:
    w, h = admin_world, admin_world.h
    reading, release = asyncio.Event(), asyncio.Event()
    monkeypatch.setattr(reports, function, _held(getattr(reports, function), reading, release))
    cid = f"busy-{next(_ids)}"
    user = await h.linked_user(cid)
    mark = w.admin.last_message_id
    await w.admin.send_text(command)
    await h.wait_for(reading.is_set, 15, "the report to start reading")
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        # A whole answer (the question, the press, the follow-up, the reason, the thanks)
        # while the report holds its read open.
        await answer(h, user, cid, 9, "quick while the export runs")
    finally:
        release.set()
    assert loop.time() - started < 15
    report = await w.admin.wait_for_message(done, timeout=30, since=mark)
    assert text(report)
