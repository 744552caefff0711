"""Three bot processes in webhook mode on one PostgreSQL database, behind a round-robin
proxy that the stand-in pushes updates to; the leader is SIGKILLed mid-run.

Specification: every answer is recorded, a survey reaches its customer twice only inside
the documented crash window (its send started by the killed leader, not recorded), the
processes together stay under the stand-in's global limit (no 429), and a standby leads
after the kill. Every process dispatches and delivers webhooks: each answer's
``answer.scored`` event reaches the endpoint, posted twice only if the killed process had
taken it (at most one claim batch), the rest once.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.webhooks.deliverer import BATCH as WEBHOOK_BATCH
from bot.core.linking import make_payload
from bot.usecases.dispatching import CONCURRENCY
from standin import StandIn
from standin.botprocess import BotProcess
from standin.limits import Limits
from standin.users import SimUser
from storage import Database
from tests.e2e.harness import BOT_USERNAME, TOKEN, bot_env
from tests.e2e.harness import SECRET as LINK_SECRET
from tests.support.postgres import PostgresServer, url_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CUSTOMERS = 200
HOOK_SECRET = "multi-process-secret"
ENDPOINT_SECRET = "whsec-multi-0123456789abcdef0123456789"


@asynccontextmanager
async def event_endpoint() -> AsyncIterator[tuple[str, Counter[str]]]:
    """A webhook endpoint counting the posts of each ``answer.scored`` event id."""
    posts: Counter[str] = Counter()

    async def receive(request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("type") == "answer.scored":
            posts[event["id"]] += 1
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/events", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/events", posts
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def round_robin(ports: list[int]) -> AsyncIterator[int]:
    """A tiny proxy: each request to the next live process in turn (a dead one is passed
    over, as a load balancer's health check would)."""
    turn = itertools.cycle(range(len(ports)))
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        for _ in range(len(ports)):
            port = ports[next(turn)]
            try:
                async with session.post(
                    f"http://127.0.0.1:{port}{request.path}", data=body, headers=headers
                ) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientConnectionError:
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/telegram", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()
        await session.close()


async def answer_surveys(user: SimUser, answered: set[int]) -> None:
    """The customer presses 9 on each survey question that reaches them."""
    seen: set[int] = set()
    while True:
        for message in list(user.messages):
            data = next((d for d in message.button_data if d.startswith("nps:")), None)
            if data is None or message.message_id in seen:
                continue
            seen.add(message.message_id)
            survey_id = int(data.split(":")[1])
            if survey_id not in answered:
                await user.press(message, text="9")
                answered.add(survey_id)
        await asyncio.sleep(0.2)


async def test_three_processes_lose_nothing_when_the_leader_is_killed(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    name = postgres.acquire()
    database = url_for(name)
    bots: list[BotProcess] = []
    answering: list[asyncio.Task[None]] = []
    limits = Limits(global_per_second=30.0)
    try:
        async with StandIn(token=TOKEN, bot_username=BOT_USERNAME, limits=limits) as server:
            ports = [free_port() for _ in range(3)]
            async with round_robin(ports) as proxy, event_endpoint() as (endpoint, posts):
                for i, port in enumerate(ports):
                    env = bot_env(
                        server,
                        tmp_path / "unused.sqlite3",
                        {
                            "NPSBOT_DATABASE": database,
                            "NPSBOT_SEND_RATE": "25",
                            "NPSBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{proxy}/telegram",
                            "NPSBOT_TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
                            "NPSBOT_TELEGRAM_WEBHOOK_PORT": str(port),
                            "NPSBOT_WEBHOOK_1_URL": endpoint,
                            "NPSBOT_WEBHOOK_1_SECRET": ENDPOINT_SECRET,
                            "NPSBOT_WEBHOOK_1_EVENTS": "answer.scored",
                            # Short requests: the killed process's claims lapse soon.
                            "NPSBOT_WEBHOOK_TIMEOUT": "1",
                        },
                    )
                    bots.append(BotProcess(env, tmp_path / f"bot{i}.log"))
                bots[0].start()  # the first to start leads

                async def logged(i: int, text: str, timeout: float = 60) -> None:
                    deadline = asyncio.get_running_loop().time() + timeout
                    path = tmp_path / f"bot{i}.log"
                    while not (path.exists() and text in path.read_text(errors="replace")):
                        assert not bots[i].exited, path.read_text(errors="replace")
                        assert asyncio.get_running_loop().time() < deadline, (
                            f"bot{i} never logged {text!r}:\n{path.read_text(errors='replace')}"
                        )
                        await asyncio.sleep(0.1)

                await logged(0, "this process leads")
                bots[1].start()
                bots[2].start()
                await logged(1, "standing by")
                await logged(2, "standing by")
                # A process learns of a new sender within SHARE_SECONDS (the documented
                # window in which the processes together may exceed the rate): after it.
                await logged(0, "3 process(es) send", 10)

                users = [server.add_user() for _ in range(CUSTOMERS)]
                for n, user in enumerate(users):
                    await user.start(make_payload(LINK_SECRET, f"multi-{n}"))
                for user in users:
                    await user.wait_for(lambda u=user: len(u.messages) > 0, timeout=60)

                answered: set[int] = set()
                answering = [asyncio.create_task(answer_surveys(u, answered)) for u in users]
                from bot.usecases.queueing import queue_survey
                from bot.usecases.services import utc_now

                db = await Database.open(database, migrate=False)
                try:
                    for n in range(CUSTOMERS):
                        await queue_survey(db, f"multi-{n}", utc_now())

                    async def count(sql: str) -> int:
                        async with db.read() as tx:
                            return int(await tx.fetchval(sql))

                    deadline = asyncio.get_running_loop().time() + 60
                    while (
                        await count("SELECT COUNT(*) FROM surveys WHERE sent_at IS NOT NULL") < 60
                    ):
                        assert asyncio.get_running_loop().time() < deadline
                        await asyncio.sleep(0.1)
                    bots[0].kill()
                    await asyncio.gather(
                        *(logged(i, "this process leads", 30) for i in (1,)),
                        return_exceptions=True,
                    )
                    text = [(tmp_path / f"bot{i}.log").read_text(errors="replace") for i in (1, 2)]
                    assert sum("this process leads" in t for t in text) == 1, "no standby took over"

                    deadline = asyncio.get_running_loop().time() + 120
                    while (
                        answered_count := await count(
                            "SELECT COUNT(*) FROM answers WHERE score IS NOT NULL"
                        )
                    ) < CUSTOMERS:
                        assert asyncio.get_running_loop().time() < deadline, (
                            f"{answered_count} of {CUSTOMERS} answers recorded"
                        )
                        await asyncio.sleep(0.2)
                    resent = await count("SELECT COUNT(*) FROM surveys WHERE send_attempts > 1")
                    # The killed process's claimed deliveries lapse (timeout x rounds +
                    # margin, under a minute here) and another process posts them.
                    deadline = asyncio.get_running_loop().time() + 150
                    while len(posts) < CUSTOMERS or await count(
                        "SELECT COUNT(*) FROM webhook_deliveries WHERE delivered_at IS NULL"
                    ):
                        assert asyncio.get_running_loop().time() < deadline, (
                            f"{len(posts)} of {CUSTOMERS} events delivered"
                        )
                        await asyncio.sleep(0.5)
                finally:
                    await db.close()
                twice = sum(1 for n in posts.values() if n > 1)
                assert max(posts.values()) <= 2
                assert twice <= WEBHOOK_BATCH
                questions = sum(
                    1
                    for u in users
                    for m in u.messages
                    if any(d.startswith("nps:") for d in m.button_data)
                )
                # A duplicate only for a send the killed leader had started, not recorded.
                assert questions - CUSTOMERS <= resent <= CONCURRENCY
                assert server.stats.rate_limited == 0
    finally:
        for task in answering:
            task.cancel()
        for bot in bots:
            bot.stop(10)
        postgres.release(name)
