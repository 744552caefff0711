# ruff: noqa: ASYNC109  -- the public API takes timeout= seconds, as the brief specifies
"""The stand-in's HTTP side and its public face, :class:`StandIn`.

An aiohttp server on 127.0.0.1 answering ``/bot<TOKEN>/<method>`` like the Bot API and
serving files at ``/file/bot<TOKEN>/<path>``; tests add simulated users and groups to it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from standin.errors import ApiError
from standin.faults import Fault, FaultPlan
from standin.limits import Clock, Limits, RateLimiter
from standin.methods import FAULTABLE, REGISTRY, CallContext, Methods
from standin.models import BotMessage, Stats
from standin.params import Params, Upload
from standin.state import Chat, PendingUpdate, World
from standin.users import SimGroup, SimUser, wait_until
from standin.webhook import Pusher

# Big enough for a 50 MB document plus multipart overhead, so the size checks are ours.
MAX_REQUEST_BYTES = 60 * 1024 * 1024


class StandIn:
    """A local Telegram Bot API for tests, demos and benchmarks.

    Start it in the test's event loop, point PTB at ``base_url`` / ``base_file_url`` and
    drive simulated users with :meth:`add_user` / :meth:`add_group`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "nps_test_bot",
        limits: Limits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = time.monotonic,
        first_update_id: int | None = None,
        bot_first_name: str = "NPS Test Bot",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.limits = limits or Limits()
        self.host = host
        self.port = port
        self.stats = Stats()
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.world = World(self.bot_user, clock, first_update_id)
        self.limiter = RateLimiter(self.limits, clock)
        self.pusher = Pusher(self.world)
        self.methods = Methods(self.world, self.limits, self.limiter, self.stats, self.pusher)
        self.faults = FaultPlan()
        self.delays: dict[str, float] = {}  # canonical method name -> seconds
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, SimGroup] = {}
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one; ``port`` then holds it)."""
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/file/{bot}/{path:.+}", self._serve_file)
        app.router.add_route("*", "/{bot}/{method}", self._handle)
        # handler_cancellation: a killed bot's long poll must end, or it would hold the
        # polling slot (409 for its successor) until its timeout ran out.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        await self.pusher.start()

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once."""
        self.methods.stopping = True
        self.world.notify()
        await self.pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.methods.stopping = False

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: PTB appends ``<TOKEN>/<method>``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    # --- simulated people --------------------------------------------------------------

    def add_user(
        self,
        first_name: str = "Ann",
        language_code: str | None = "en",
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> SimUser:
        """A new user with a private chat (not started yet: the bot cannot write first)."""
        uid = user_id if user_id is not None else next(self._user_ids)
        while user_id is None and uid in self.world.chats:
            uid = next(self._user_ids)
        if uid in self.world.chats:
            raise ValueError(f"chat {uid} already exists")
        user: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        chat = Chat(id=uid, type="private", user=user)
        self.world.chats[uid] = chat
        sim = SimUser(self.world, chat, user)
        self.users[uid] = sim
        return sim

    def add_group(
        self,
        title: str = "Admins",
        members: list[SimUser] | None = None,
        chat_id: int | None = None,
    ) -> SimGroup:
        """A supergroup with the bot in it (ids like -1001000000001)."""
        gid = chat_id if chat_id is not None else -1001000000000 - next(self._group_ids)
        while chat_id is None and gid in self.world.chats:
            gid = -1001000000000 - next(self._group_ids)
        if gid in self.world.chats:
            raise ValueError(f"chat {gid} already exists")
        chat = Chat(id=gid, type="supergroup", title=title)
        self.world.chats[gid] = chat
        group = SimGroup(self.world, chat, list(members or []))
        self.groups[gid] = group
        return group

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll ``condition`` until true; TimeoutError after ``timeout`` seconds."""
        await wait_until(self.world, condition, timeout)

    def redeliver(self, count: int = 1) -> list[int]:
        """Replay the last ``count`` confirmed updates (same update ids): a lost offset
        confirmation, so tests can check that handling an update twice does no harm."""
        return self.world.redeliver(count)

    def on_bot_message(self, listener: Callable[[int, BotMessage], None]) -> None:
        """Call ``listener(chat_id, message)`` whenever the bot sends a new message."""
        self.world.message_listeners.append(listener)

    def on_delivery(self, listener: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call ``listener(updates)`` with every batch of updates getUpdates (or a webhook
        POST, one update) hands the bot."""
        self.world.delivery_listeners.append(listener)

    def on_update_delivered(self, listener: Callable[[PendingUpdate], None]) -> None:
        """Call ``listener(update)`` when getUpdates (or a webhook POST) first hands the bot
        an update (its ``created`` and ``delivered`` times: how long it waited)."""
        self.world.first_delivery_listeners.append(listener)

    def on_call(self, listener: Callable[[str, dict[str, Any], float], None]) -> None:
        """Call ``listener(method, params, at)`` after every successful Bot API call."""
        self.world.call_listeners.append(listener)

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self.world.updates)

    @property
    def commands(self) -> dict[str, list[dict[str, str]]]:
        """setMyCommands' lists, keyed by scope JSON and language code."""
        return self.world.commands

    # --- faults ------------------------------------------------------------------------

    def inject_faults(
        self, p_429: float = 0.0, p_5xx: float = 0.0, retry_after: int = 1, seed: int | None = None
    ) -> None:
        """Random 429 / 500 / 502 on send*/edit* methods; ``inject_faults()`` turns them off."""
        self.faults.p_429, self.faults.p_5xx = p_429, p_5xx
        self.faults.retry_after = retry_after
        self.faults.rng = random.Random(seed)

    def fail_next(
        self,
        method: str,
        status: int,
        count: int = 1,
        retry_after: int = 1,
        after_delivery: bool = False,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` with ``status``.

        With ``after_delivery`` the call takes effect (the message is sent) and still
        answers the error, like a response lost on the way back.
        """
        queue = self.faults.scheduled.setdefault(method.lower(), [])
        queue.extend(Fault(status, retry_after, after_delivery) for _ in range(count))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every later call of ``method`` ``seconds`` late, as a slow network or a
        busy Telegram would; the call takes effect after the wait (getUpdates confirms its
        offset only then). ``delay(method, 0)`` removes it."""
        entry = REGISTRY.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown method {method!r}")
        if seconds > 0:
            self.delays[entry[0]] = seconds
        else:
            self.delays.pop(entry[0], None)

    # --- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def _reply(body: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(
            body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    def _error(self, error: ApiError) -> web.Response:
        self.stats.errors[error.code] = self.stats.errors.get(error.code, 0) + 1
        if error.code == 429:
            self.stats.rate_limited += 1
        elif error.code == 403:
            self.stats.forbidden += 1
        elif error.code == 400:
            self.stats.bad_requests += 1
        return self._reply(error.payload(), error.code)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["bot"] != f"bot{self.token}":
            return self._reply({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        entry = REGISTRY.get(request.match_info["method"].lower())
        if entry is None:
            return self._reply({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        name, impl = entry
        self.stats.calls[name] = self.stats.calls.get(name, 0) + 1
        try:
            params = await _read_params(request)
            if (delay := self.delays.get(name)) is not None:
                await asyncio.sleep(delay)
            fault = self.faults.take(name, name in FAULTABLE)
            if fault is not None:
                self.stats.faults += 1
                if not fault.after_delivery:
                    raise fault.error()
            ctx = CallContext(lambda: _connection_alive(request))
            result = await impl(self.methods, params, ctx)
            if fault is not None:
                raise fault.error()
        except ApiError as error:
            return self._error(error)
        if self.world.call_listeners:
            at = self.world.clock()
            for listener in self.world.call_listeners:
                listener(name, params.values, at)
        return self._reply({"ok": True, "result": result})

    async def _serve_file(self, request: web.Request) -> web.Response:
        if request.match_info["bot"] != f"bot{self.token}":
            return self._reply({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._reply({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type="application/octet-stream")


def _connection_alive(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def _read_params(request: web.Request) -> Params:
    """Query string, then the body: JSON, urlencoded form or multipart (files as Upload)."""
    values: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        try:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        values[key] = Upload(value.file.read(), value.filename, value.content_type)
                    else:
                        values[key] = value
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Bad Request: can't parse request body") from None
    return Params(values)
