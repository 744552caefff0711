"""Document upload: how long the bot's event loop stalls while ``sendDocument`` uploads a
file the size of a year's export (13 MB), through the bot's own transport.

The stand-in runs in a child process (so its parsing of the upload is not this loop's
work); this process holds a PTB ``Bot`` on the bot's
:class:`~bot.adapters.telegram.transport.AiohttpRequest` and a probe task that sleeps 1 ms
in a loop and records how late it wakes. Each upload is followed by the same length of time
without one (the probe's lateness then is the machine's, not the upload's).

    python -m benchmarks.document_upload                # 5 uploads of 13 MB
    python -m benchmarks.document_upload --mb 50 -n 3
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InputFile

from benchmarks.common import TOKEN, print_table, write_result
from bot.adapters.telegram.transport import AiohttpRequest

ADMIN = 777
_SERVER = r"""
import asyncio, sys
from standin import Limits, StandIn
async def main():
    limits = Limits(per_chat_per_second=1000.0, per_chat_burst=1000)
    async with StandIn(token=sys.argv[1], bot_username="bench", limits=limits) as server:
        server.add_user(first_name="Admin", user_id=int(sys.argv[2])).mark_started()
        print(server.base_url, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


class Probe:
    """Sleeps 1 ms at a time and records how late each wake-up is."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lateness.append(time.perf_counter() - start - 0.001)

    def stop(self) -> None:
        self._stop.set()


async def measure(action: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Wall and CPU seconds of ``await action()`` and the probe's lateness meanwhile."""
    probe = Probe()
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(0.05)
    probe.lateness.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    await action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    probe.stop()
    await task
    late = probe.lateness or [0.0]
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "max_stall_ms": round(max(late) * 1e3, 1),
        "stalls_over_5ms_total_ms": round(sum(x for x in late if x > 0.005) * 1e3, 1),
    }


async def run(megabytes: float, count: int) -> dict[str, Any]:
    """``count`` uploads of ``megabytes``, each followed by as long without one."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVER, TOKEN, str(ADMIN), stdout=asyncio.subprocess.PIPE
    )
    uploads: list[dict[str, float]] = []
    idle: list[dict[str, float]] = []
    try:
        assert server.stdout is not None
        base_url = (await server.stdout.readline()).decode().strip()
        bot = Bot(
            TOKEN,
            base_url=base_url,
            request=AiohttpRequest(4, read_timeout=60.0, media_write_timeout=60.0),
        )
        await bot.initialize()
        data = os.urandom(int(megabytes * 1_000_000))
        try:
            for _ in range(count):
                uploads.append(
                    await measure(
                        lambda: bot.send_document(ADMIN, InputFile(data, filename="a.csv"))
                    )
                )
                idle.append(await measure(functools.partial(asyncio.sleep, uploads[-1]["wall_s"])))
        finally:
            await bot.shutdown()
    finally:
        server.terminate()
        await server.wait()
    return {"megabytes": megabytes, "uploads": uploads, "idle": idle}


def _span(rows: list[dict[str, float]], key: str) -> str:
    values = sorted(r[key] for r in rows)
    return f"{values[0]:g} – {values[-1]:g}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=13.0, help="file size, MB")
    parser.add_argument("-n", type=int, default=5, help="uploads")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.mb, args.n))
    up, idle = figures["uploads"], figures["idle"]
    print_table(
        f"Document upload: {args.mb:g} MB sendDocument, {args.n} times, event loop stalls",
        [
            ("upload wall s (min – max)", _span(up, "wall_s"), ""),
            ("upload CPU s of this process", _span(up, "cpu_s"), ""),
            (
                "longest loop stall, upload / idle, ms",
                f"{_span(up, 'max_stall_ms')} / {_span(idle, 'max_stall_ms')}",
                "",
            ),
            (
                "stalls > 5 ms in all, upload / idle, ms",
                f"{_span(up, 'stalls_over_5ms_total_ms')} / "
                f"{_span(idle, 'stalls_over_5ms_total_ms')}",
                "",
            ),
        ],
    )
    print(f"(written to {write_result('document_upload', figures)})")
    return figures


if __name__ == "__main__":
    main()
