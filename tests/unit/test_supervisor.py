"""The supervisor: stop order, in-flight work finishes, and the stop is bounded."""

from __future__ import annotations

import asyncio

import pytest
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.composition.supervisor import JOB_KWARGS, Loop, LoopEnded, Supervisor


def waiting_loop(name: str, stopped: list[str]) -> Loop:
    """A loop that idles until asked to stop, then notes that it stopped."""

    async def loop(stop: asyncio.Event) -> None:
        await stop.wait()
        stopped.append(name)

    return loop


async def test_pieces_stop_in_the_reverse_order_of_their_start() -> None:
    stopped: list[str] = []

    async def close_api() -> None:
        stopped.append("api")

    async with Supervisor() as supervisor:
        supervisor.start_loop("sweep", waiting_loop("sweep", stopped))
        supervisor.start_loop("dispatcher", waiting_loop("dispatcher", stopped))
        supervisor.on_stop("api", close_api)
        supervisor.start_loop("poller", waiting_loop("poller", stopped))
    assert stopped == ["poller", "api", "dispatcher", "sweep"]


async def test_the_item_in_hand_completes_and_no_new_item_is_taken_after_the_stop() -> None:
    queue = ["first", "second", "third"]
    done: list[str] = []
    started = asyncio.Event()

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set() and queue:
            item = queue.pop(0)
            started.set()
            await stop.wait()  # the stop arrives while this item is in hand...
            await asyncio.sleep(0.01)  # ...and the rest of its work (the commit) still runs
            done.append(item)

    async with Supervisor(stop_timeout=30.0) as supervisor:
        supervisor.start_loop("worker", loop)
        await started.wait()
    assert done == ["first"]
    assert queue == ["second", "third"]


async def test_work_spawned_in_the_background_is_awaited_on_stop() -> None:
    gate = asyncio.Event()
    finished: list[str] = []

    async def reply() -> None:
        await gate.wait()
        finished.append("reply")

    async def open_gate() -> None:
        gate.set()

    async with Supervisor() as supervisor:
        supervisor.on_stop("gate", open_gate)
        supervisor.spawn(reply(), "reply")
    assert finished == ["reply"]


async def test_a_failing_background_task_is_logged_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    finished: list[str] = []

    async def broken() -> None:
        raise ValueError("boom")

    async def fine() -> None:
        await asyncio.sleep(0)
        finished.append("fine")

    async with Supervisor() as supervisor:
        supervisor.spawn(broken(), "broken")
        supervisor.spawn(fine(), "fine")
    assert finished == ["fine"]
    assert "background task broken failed" in caplog.text


async def test_the_stop_is_bounded_and_cancels_what_is_stuck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled: list[str] = []
    never = asyncio.Event()

    async def stuck_loop(stop: asyncio.Event) -> None:
        try:
            await never.wait()  # ignores its stop event
        except asyncio.CancelledError:
            cancelled.append("loop")
            raise

    async def stuck_work() -> None:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append("work")
            raise

    loop = asyncio.get_running_loop()
    async with Supervisor(stop_timeout=0.2) as supervisor:
        supervisor.start_loop("stuck", stuck_loop)
        supervisor.spawn(stuck_work(), "stuck-work")
        began = loop.time()
    assert sorted(cancelled) == ["loop", "work"]
    assert loop.time() - began < 5.0
    assert "orderly stop exceeded" in caplog.text


async def test_a_failed_loop_stops_everything_in_order_and_its_error_is_raised() -> None:
    stopped: list[str] = []

    async def broken(stop: asyncio.Event) -> None:
        raise ValueError("token rejected")

    never = asyncio.Event()
    with pytest.raises(ValueError, match="token rejected"):
        async with Supervisor() as supervisor:
            supervisor.start_loop("dispatcher", waiting_loop("dispatcher", stopped))
            supervisor.start_loop("poller", broken)
            await supervisor.wait(never)
    assert stopped == ["dispatcher"]


async def test_a_loop_that_returns_unasked_stops_the_bot() -> None:
    async def quits(stop: asyncio.Event) -> None:
        return None

    with pytest.raises(LoopEnded, match="poller ended unexpectedly"):
        async with Supervisor() as supervisor:
            supervisor.start_loop("poller", quits)
            await supervisor.wait(asyncio.Event())


async def test_jobs_share_one_set_of_kwargs_and_a_run_in_progress_finishes_on_stop() -> None:
    app = ApplicationBuilder().token("123456:TEST-supervisor").build()
    assert app.job_queue is not None
    await app.job_queue.start()
    started = asyncio.Event()
    finished: list[str] = []

    async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        started.set()
        await asyncio.sleep(0.05)  # the job's work, in progress when the stop begins
        finished.append("tick")

    try:
        async with Supervisor(job_queue=app.job_queue) as supervisor:
            job = supervisor.every(tick, 3600.0, first=0.01, name="tick")
            assert {key: getattr(job.job, key) for key in JOB_KWARGS} == JOB_KWARGS
            await started.wait()
        assert finished == ["tick"]
        assert job.removed
    finally:
        await app.job_queue.stop()
