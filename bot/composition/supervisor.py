"""One owner for everything the bot runs in the background, and its orderly stop.

Three kinds of background work, each started one way:

- **loops** (:meth:`Supervisor.start_loop`): long-running coroutines such as the poller,
  the dispatcher, the webhook deliverer and the outbox sweep. Each gets its own stop event
  and must return soon after it is set, finishing the item in hand first. They are never
  cancelled during an orderly stop, so a send accepted by Telegram is always recorded;
- **jobs** (:meth:`Supervisor.every`, :meth:`Supervisor.daily`): schedules in PTB's
  JobQueue (APScheduler), all with the same ``job_kwargs``;
- **work** (:meth:`Supervisor.spawn`): short tasks started by handlers and the sender
  (per-chat outbox flushes, admin command replies, data exports). Their failures are
  logged, never lost, and they are awaited on stop.

Leaving ``async with Supervisor(...)`` stops in the reverse order of start (the poller,
registered last, stops first: no new work comes in), then waits for the remaining work.
The whole stop is bounded by ``stop_timeout``; what is still running then is cancelled,
which is what a crash would do (docs/delivery-guarantees.md, "Orderly stop").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import time
from types import TracebackType
from typing import Any

from telegram.ext import ContextTypes, Job, JobQueue

from bot.usecases.background import wait_for_any

log = logging.getLogger(__name__)

#: How long an orderly stop may take in all before the rest is cancelled (crash-equivalent).
STOP_TIMEOUT_SECONDS = 10.0
#: Every scheduled job: never two runs of one job at once, missed runs collapse into one,
#: and a run delayed by a busy loop still happens (APScheduler's default grace is 1 s,
#: which would silently skip it). Every job is idempotent, so a late run is always wanted.
JOB_KWARGS: dict[str, Any] = {
    "max_instances": 1,
    "coalesce": True,
    "misfire_grace_time": 6 * 3600,
}

Loop = Callable[[asyncio.Event], Awaitable[None]]
JobFn = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class LoopEnded(RuntimeError):
    """A loop returned although nobody asked it to stop."""


@dataclass
class _Step:
    """One thing to stop: a loop (set its event, await its task) or a stop callback."""

    name: str
    event: asyncio.Event | None = None
    task: asyncio.Task[None] | None = None
    callback: Callable[[], Awaitable[None]] | None = None


class Supervisor:
    """Starts the bot's background work and stops it in order within a bounded time."""

    def __init__(
        self,
        *,
        job_queue: JobQueue[Any] | None = None,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.job_queue = job_queue
        self.stop_timeout = stop_timeout
        self.stopping = False
        self._stack = AsyncExitStack()
        self._group: asyncio.TaskGroup | None = None
        self._steps: list[_Step] = []
        self._work: set[asyncio.Task[Any]] = set()
        self._job_runs: set[asyncio.Task[Any]] = set()
        self._jobs: list[Job[Any]] = []
        self._failed: asyncio.Event | None = None
        self._failure: BaseException | None = None

    # --- scope -------------------------------------------------------------------------

    async def __aenter__(self) -> Supervisor:
        self._failed = asyncio.Event()
        self._group = await self._stack.enter_async_context(asyncio.TaskGroup())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._stop()
        finally:
            await self._stack.__aexit__(exc_type, exc, tb)
        if exc is None and self._failure is not None:
            raise self._failure

    async def wait(self, stop: asyncio.Event) -> None:
        """Return when ``stop`` is set or a loop failed (leaving the scope then re-raises
        the loop's error after the orderly stop)."""
        assert self._failed is not None, "enter the supervisor first"
        await wait_for_any((stop, self._failed), timeout=None)

    @property
    def failed(self) -> asyncio.Event:
        """Set when a loop failed (the scope then stops and re-raises)."""
        assert self._failed is not None, "enter the supervisor first"
        return self._failed

    # --- starting work -----------------------------------------------------------------

    def start_loop(self, name: str, loop: Loop) -> None:
        """Run ``loop(stop_event)`` until the orderly stop sets its event."""
        assert self._group is not None, "enter the supervisor first"
        event = asyncio.Event()
        task = self._group.create_task(self._guard_loop(name, loop(event)), name=name)
        self._steps.append(_Step(name, event=event, task=task))

    def on_stop(self, name: str, callback: Callable[[], Awaitable[None]]) -> None:
        """Call ``callback`` during the stop, in reverse order with the loops."""
        self._steps.append(_Step(name, callback=callback))

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run short background work; it is awaited on stop, and its error is logged.

        Also usable before (or without) entering the scope, as in tests and tools that
        build services by hand: the task is then tracked but not part of a task group.
        """
        guarded = self._guard_work(name, coro)
        if self._group is not None:
            task: asyncio.Task[Any] = self._group.create_task(guarded, name=name)
        else:
            task = asyncio.create_task(guarded, name=name)
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        return task

    def every(self, callback: JobFn, interval: float, *, first: float, name: str) -> Job[Any]:
        """Run ``callback`` every ``interval`` seconds, the first time after ``first``."""
        return self._add_job(
            name,
            lambda wrapped: self._queue().run_repeating(
                wrapped, interval, first=first, name=name, job_kwargs=JOB_KWARGS
            ),
            callback,
        )

    def daily(self, callback: JobFn, at: time, *, name: str) -> Job[Any]:
        """Run ``callback`` every day at ``at`` (give ``at`` its time zone)."""
        return self._add_job(
            name,
            lambda wrapped: self._queue().run_daily(wrapped, at, name=name, job_kwargs=JOB_KWARGS),
            callback,
        )

    # --- internals ---------------------------------------------------------------------

    def _queue(self) -> JobQueue[Any]:
        if self.job_queue is None:
            raise RuntimeError("this supervisor has no job queue")
        return self.job_queue

    def _add_job(
        self, name: str, schedule: Callable[[JobFn], Job[Any]], callback: JobFn
    ) -> Job[Any]:
        if not self._jobs:
            # Jobs stop where the first one was registered in the start order.
            self.on_stop("jobs", self._stop_jobs)

        async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
            if self.stopping:
                return
            task = self.spawn(callback(context), f"job-{name}")
            self._job_runs.add(task)
            task.add_done_callback(self._job_runs.discard)
            # Shielded: the scheduler cancels what it still runs when it shuts down, but
            # the supervisor decides when a job's work may be cut short.
            await asyncio.shield(task)
            # A positive event for tests and operators: a run that found nothing to do
            # leaves no other trace.
            log.debug("job %s ran", name)

        job = schedule(run)
        self._jobs.append(job)
        return job

    async def _stop_jobs(self) -> None:
        for job in self._jobs:
            if not job.removed:
                job.schedule_removal()
        if self._job_runs:
            await asyncio.wait(set(self._job_runs))

    async def _guard_loop(self, name: str, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception as exc:
            log.exception("%s failed; stopping the bot", name)
            self._fail(exc)
            return
        if not self.stopping:
            log.error("%s ended unexpectedly; stopping the bot", name)
            self._fail(LoopEnded(f"{name} ended unexpectedly"))

    async def _guard_work(self, name: str, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except Exception:
            log.exception("background task %s failed", name)
            return None

    def _fail(self, exc: BaseException) -> None:
        if self._failure is None:
            self._failure = exc
        if self._failed is not None:
            self._failed.set()

    async def _stop(self) -> None:
        """Stop each step in reverse start order, then wait for the remaining work; cancel
        whatever is still running when the time is up."""
        self.stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stop_timeout
        for step in reversed(self._steps):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            log.info("stopping %s", step.name)
            if step.event is not None and step.task is not None:
                step.event.set()
                await asyncio.wait({step.task}, timeout=remaining)
            elif step.callback is not None:
                await self._call_bounded(step, remaining)
        while self._work and (remaining := deadline - loop.time()) > 0:
            # Work may start more work (a flush after a handler): wait until none is left.
            await asyncio.wait(set(self._work), timeout=remaining)
        left = [s.task for s in self._steps if s.task is not None and not s.task.done()]
        left += [task for task in self._work if not task.done()]
        if left:
            log.warning(
                "orderly stop exceeded %.0f s; cancelling %s",
                self.stop_timeout,
                ", ".join(task.get_name() for task in left),
            )
            for task in left:
                task.cancel()
            await asyncio.wait(left)

    async def _call_bounded(self, step: _Step, timeout: float) -> None:  # noqa: ASYNC109
        assert step.callback is not None
        try:
            await asyncio.wait_for(step.callback(), timeout)
        except TimeoutError:
            log.warning("stopping %s took longer than the stop allows", step.name)
        except Exception:
            log.exception("stopping %s failed", step.name)
