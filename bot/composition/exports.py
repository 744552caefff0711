"""``/export``'s files built in a child process, so the bot's process (its event loop and its
GIL) does none of that work while customers answer.

One :class:`~concurrent.futures.ProcessPoolExecutor`, made on the first export: one worker
at most (exports queue), started with ``spawn`` (a fresh interpreter: the bot's process has
threads and an event loop, which a ``fork`` would copy in whatever state they are), and a
fresh worker for each export (``max_tasks_per_child=1``: an export's memory goes back to the
system with its process; the pool starts the next, idle, worker as one ends). The worker
opens the database itself, read-only (:func:`bot.usecases.exporting.build_in_this_process`);
only the request and the file cross the boundary.

The worker runs at a lower priority (nice :data:`NICENESS`) and ignores SIGINT and SIGTERM
(a Ctrl-C or a stop sent to the whole process group reaches it too): the bot decides when
it ends. :meth:`ChildExports.close`, at the orderly stop, cancels the exports still queued
and kills the running one, whose admin is told it was interrupted; a crash of the worker
(killed, out of memory) fails that export only, and the next one gets a new pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess

from bot.usecases.exporting import (
    ExportFailed,
    ExportFile,
    ExportRequest,
    build_in_this_process,
    failure_reason,
)

log = logging.getLogger(__name__)

#: How long :meth:`ChildExports.close` waits for a killed worker to be reaped.
REAP_SECONDS = 2.0
#: The worker's nice value: it gets the CPU the bot's process leaves.
NICENESS = 10


def _prepare_worker() -> None:
    """The worker's initializer: only the bot ends it, and the bot comes first for the CPU."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Without it the worker takes a core from the bot and the Bot API connection on a
    # small machine: customers' median reply time tripled during an export, where at
    # NICENESS it stayed as calm (the reports-under-load benchmark, README).
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


class ChildExports:
    """Builds exports in a child process (the port :class:`bot.usecases.ports.ExportBuilder`).

    ``build`` is what the child runs (a module-level function, imported by name there).
    """

    def __init__(
        self, build: Callable[[ExportRequest], ExportFile] = build_in_this_process
    ) -> None:
        self._build = build
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_worker,
                max_tasks_per_child=1,
            )
        return self._pool

    async def build(self, request: ExportRequest) -> ExportFile:
        """The export of ``request``, built by the child process; ExportFailed when the
        child failed, crashed, or the bot is stopping."""
        if self._closed:
            raise ExportFailed("the bot is stopping", interrupted=True)
        try:
            pool, future = self._submit(request)
        except Exception as exc:
            # No process could be started (the system's limits, its sandbox).
            raise ExportFailed(failure_reason(exc)) from exc
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # Cancelled before the result (the stop's deadline): the child must not go on
            # with work nobody waits for.
            if future.running():
                _kill(_workers(pool))
            future.cancel()
            raise
        except BrokenProcessPool:
            workers = _workers(pool)
            self._forget(pool)
            # Reaped first: a worker's pipe closes a moment before its exit code is there.
            await asyncio.to_thread(_reap, workers)
            codes = [p.exitcode for p in workers if p.exitcode]
            if self._closed:
                raise ExportFailed("ended by the orderly stop", interrupted=True) from None
            raise ExportFailed(
                "the child process ended abruptly" + (f" (exit code {codes[0]})" if codes else "")
            ) from None
        except Exception as exc:
            raise ExportFailed(failure_reason(exc)) from exc

    def _submit(self, request: ExportRequest) -> tuple[ProcessPoolExecutor, Future[ExportFile]]:
        pool = self._executor()
        try:
            return pool, pool.submit(self._build, request)
        except BrokenProcessPool as exc:
            # A pool broken by a crash that no export saw: replace it once.
            self._forget(pool)
            log.warning("export pool unusable (%s); starting a new one", type(exc).__name__)
            pool = self._executor()
            return pool, pool.submit(self._build, request)

    def _forget(self, pool: ProcessPoolExecutor) -> None:
        """A broken pool takes no more work: the next export makes a new one."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Cancel the queued exports and kill the running one (its admin is told); returns
        once the worker is reaped (at most about :data:`REAP_SECONDS`)."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        workers = _workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        if any(p.is_alive() for p in workers):
            log.info("stopping: ending the export in progress")
        _kill(workers)
        await asyncio.to_thread(_reap, workers)


def _workers(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    # The pool's own table of its worker processes (there is no public accessor; emptied
    # by shutdown): the stop kills them, which is how a running call is ended.
    processes = pool._processes
    return list(processes.values()) if processes is not None else []


def _kill(workers: list[BaseProcess]) -> None:
    """SIGKILL: the worker ignores SIGTERM, and holds nothing a kill could leave behind (a
    read-only connection; the server rolls back a PostgreSQL transaction)."""
    for process in workers:
        with contextlib.suppress(ProcessLookupError, ValueError, AttributeError):
            process.kill()


def _reap(workers: list[BaseProcess]) -> None:
    for process in workers:
        with contextlib.suppress(ValueError, AssertionError):
            process.join(REAP_SECONDS)
