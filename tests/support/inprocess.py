"""The real bot application run in-process: ``bot.composition.runtime.serve`` as a task in
the test's own event loop, on a clock the test controls, with its log kept in memory.

It offers what the tests use of ``standin.botprocess.BotProcess`` (``start``, ``exited``,
``stop_async``, ``log``), so a test module moves between a child process and this by its
fixture alone. Killing is not offered: tests that kill or restart the bot stay child-process
tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime

import bot.usecases.dispatching
from bot.composition.logging_setup import RedactingFilter
from bot.composition.runtime import serve
from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: How often the idle dispatcher looks for due surveys in-process. Tests queue surveys
#: straight into the database as the CLI does, which the bot notices only on this poll
#: (a second in production): polling often keeps each test from waiting for it.
DISPATCH_POLL_SECONDS = 0.02


class _Capture(logging.Handler):
    """Keeps formatted records (tracebacks included) as the child process's log file would."""

    def __init__(self, level: str, secrets: tuple[str, ...]) -> None:
        super().__init__(level)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self.addFilter(RedactingFilter(secrets))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class InProcessBot:
    """``serve(settings, stop, clock=clock)`` as a task; settings from ``env`` as the CLI
    reads them (``NPSBOT_ENV_FILE`` points at no file)."""

    def __init__(self, env: Mapping[str, str], clock: Callable[[], datetime]) -> None:
        self.settings = Settings.from_env(env)
        self.clock = clock
        self._capture = _Capture(
            self.settings.log_level,
            (
                self.settings.token.get_secret_value(),
                self.settings.link_secret.get_secret_value(),
            ),
        )
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._root_level = logging.WARNING
        self._dispatch_poll = bot.usecases.dispatching.IDLE_POLL_SECONDS

    def start(self) -> None:
        """Start serving in the running event loop."""
        assert self._task is None or self._task.done(), "already running"
        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(min(root.level or logging.WARNING, self._capture.level))
        root.addHandler(self._capture)
        # As bot.composition.logging_setup does for the real process: no line per HTTP request.
        for chatty in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
        bot.usecases.dispatching.IDLE_POLL_SECONDS = DISPATCH_POLL_SECONDS
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            serve(self.settings, self._stop, clock=self.clock), name="bot"
        )
        self._task.add_done_callback(self._record_failure)

    def _record_failure(self, task: asyncio.Task[None]) -> None:
        """A failure of serve() goes into the log, where a child process would print it."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._capture.lines.append("".join(traceback.format_exception(exc)))

    @property
    def exited(self) -> bool:
        """Whether the bot was started and has ended (stopped or failed)."""
        return self._task is not None and self._task.done()

    async def stop_async(self, timeout: float = 15) -> int | None:
        """Set the stop event and wait for a graceful shutdown; 0, or 1 if serving failed
        (as the child process's exit code would say)."""
        if self._task is None:
            return None
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except Exception:
            logging.getLogger(__name__).exception("the in-process bot failed")
            return 1
        finally:
            self._detach()
        return 0

    def _detach(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self._capture)
        root.setLevel(self._root_level)
        bot.usecases.dispatching.IDLE_POLL_SECONDS = self._dispatch_poll
        # serve() took SIGINT/SIGTERM for its stop event; give them back to pytest.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def log(self) -> str:
        """Everything the bot logged so far, one record a line."""
        return "\n".join(self._capture.lines)
