"""Background work as the use cases and adapters see it.

The running bot's :class:`~bot.composition.supervisor.Supervisor` implements
:class:`Background` (it awaits spawned work on an orderly stop); :class:`TaskSet` is the
stand-alone implementation for tools and tests that build services by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Background(Protocol):
    """Starts short work that must not hold up the caller (a send, a file, a flush)."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]: ...


class TaskSet:
    """Keeps spawned tasks referenced (so they are not garbage-collected) and logs, never
    loses, their failures."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(_logged(name, coro), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _logged(name: str, coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except Exception:
        log.exception("background task %s failed", name)
        return None


async def wait_for_any(events: Iterable[asyncio.Event], timeout: float | None) -> None:  # noqa: ASYNC109
    """Return as soon as one of ``events`` is set, or after ``timeout`` seconds (if given)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
