"""Running the real bot (``python -m bot run``) as a child process against a stand-in.

Shared by the end-to-end tests, the offline demo and the benchmarks, so that all three run
the bot the same way: settings only from the environment, offline defaults that make a run
independent of the wall clock, logs in a file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from standin.server import StandIn

ROOT = Path(__file__).resolve().parents[1]


def offline_env(
    server: StandIn,
    db_path: Path,
    *,
    link_secret: str,
    company: str,
    bot_username: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The bot's environment for a run against ``server``: no ``.env`` file is read, and the
    rules that depend on the time of day (quiet hours, the relationship cycle) are off so a
    run behaves alike at any hour. ``extra`` overrides anything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPSBOT_")}
    env.update(
        {
            "NPSBOT_ENV_FILE": os.devnull,
            "NPSBOT_TOKEN": server.token,
            "NPSBOT_API_BASE_URL": server.base_url,
            "NPSBOT_DATABASE": str(db_path),
            "NPSBOT_LINK_SECRET": link_secret,
            "NPSBOT_COMPANY_NAME": company,
            "NPSBOT_BOT_USERNAME": bot_username,
            "NPSBOT_POLL_TIMEOUT": "2",
            "NPSBOT_QUIET_HOURS": "off",
            "NPSBOT_RELATIONSHIP_CYCLE_DAYS": "off",
            "NPSBOT_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


class BotProcess:
    """A child process whose output goes to ``log_path``."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        args: Sequence[str] = ("-m", "bot", "run"),
        cwd: Path = ROOT,
    ) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.args = tuple(args)
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (again, after a kill or stop)."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *self.args],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def exited(self) -> bool:
        """Whether the process was started and has ended."""
        return self.proc is not None and self.proc.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM and wait (SIGKILL if it hangs): a graceful shutdown; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    async def stop_async(self, timeout: float = 15) -> int | None:  # noqa: ASYNC109
        """:meth:`stop` off the event loop, which serves the stand-in the bot still talks to
        while it shuts down (blocking it would make the bot's last calls time out)."""
        return await asyncio.to_thread(self.stop, timeout)

    def log(self) -> str:
        """Everything the process logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the log."""
        return "\n".join(self.log().splitlines()[-lines:])

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory so far (Linux /proc), while the process runs."""
        if self.proc is None:
            return None
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None
