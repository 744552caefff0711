"""Running the bot: storage, Telegram application, poller and dispatcher in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ContextTypes

from bot.admin.runtime import start_admin
from bot.config import Settings
from bot.dispatch.dispatcher import Dispatcher
from bot.ops.contact_rules import ContactRules
from bot.ops.runtime import start_ops
from bot.privacy.runtime import start_privacy
from bot.questionnaire.startup import load_catalog, report_missing_translations
from bot.telegram.application import build_application
from bot.telegram.polling import Poller
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.sender import Sender
from bot.telegram.services import SERVICES_KEY, Services, utc_now
from bot.telegram.wiring import FailedUpdates, register_handlers
from bot.webhooks.runtime import start_webhooks
from storage import Database, updates

log = logging.getLogger(__name__)

OUTBOX_SWEEP_SECONDS = 5.0


class StartupError(RuntimeError):
    """The bot cannot start; the message says why in one line (never with the token)."""


async def _sweep_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    await svc.sender.flush_all()


async def _prune_updates(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    async with svc.db.transaction() as tx:
        removed = await updates.prune(tx, svc.clock() - timedelta(hours=48))
    log.info("pruned %d processed update ids", removed)


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM); ``clock`` is the wall clock of the
    services, the sender and the dispatcher (tests drive it)."""
    stop = stop or asyncio.Event()
    # First, before touching the database or the network: a bad questionnaire stops
    # start-up with its one-line error (QuestionnaireError, exit code 2 in bot.cli), and
    # missing translations are reported now rather than noticed by a customer.
    catalog = load_catalog(
        settings.questionnaire_path, settings.company_name, settings.default_language
    )
    log.info(
        "questionnaire %s: languages %s (default %s), drivers for %s",
        catalog.questionnaire.source,
        ", ".join(catalog.languages),
        catalog.default_language,
        ", ".join(c.value for c in catalog.questionnaire.drivers) or "no category",
    )
    report_missing_translations(catalog)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    db = await Database.open(settings.database_path)
    app: Application = build_application(settings)  # type: ignore[type-arg]
    limiter = RateLimiter(settings.send_rate_per_second, settings.per_chat_per_second)
    sender = Sender(app.bot, db, limiter, clock)
    svc = Services(
        settings=settings,
        db=db,
        sender=sender,
        cutoffs=settings.admin.cutoffs,
        catalog=catalog,
        clock=clock,
    )
    app.bot_data[SERVICES_KEY] = svc
    failures = FailedUpdates()
    register_handlers(app, failures)
    dispatcher = Dispatcher(
        db,
        sender,
        settings.company_name,
        clock,
        rules=ContactRules.from_settings(settings.ops, settings.timezone),
        catalog=catalog,
        webhooks=settings.webhooks,
    )
    svc.dispatcher = dispatcher
    poller = Poller(app, failures, settings.poll_timeout_seconds)
    try:
        try:
            await app.initialize()  # getMe: checks the token and the server
        except InvalidToken:
            raise StartupError("NPSBOT_TOKEN was rejected by the Bot API server") from None
        except NetworkError as exc:
            raise StartupError(
                f"cannot reach the Bot API server at {settings.api_base_url} ({exc.message})"
            ) from None
        log.info("connected as @%s via %s", app.bot.username, settings.api_base_url)
        await app.start()
        assert app.job_queue is not None
        app.job_queue.run_repeating(
            _sweep_outbox,
            OUTBOX_SWEEP_SECONDS,
            first=0.0,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
        app.job_queue.run_repeating(
            _prune_updates, 3600.0, first=60.0, job_kwargs={"max_instances": 1, "coalesce": True}
        )
        dispatch_task = asyncio.create_task(dispatcher.run_forever(), name="dispatcher")
        stoppers = [
            await start_webhooks(svc),
            await start_ops(app, svc),
            await start_admin(app, svc),
            await start_privacy(app, svc),
        ]
        try:
            await poller.run(stop)
        finally:
            for stopper in reversed(stoppers):
                with contextlib.suppress(Exception):
                    await stopper()
            await sender.drain(grace_seconds=5.0)
            dispatch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatch_task
            if app.running:
                await app.stop()
    finally:
        with contextlib.suppress(Exception):
            await app.shutdown()
        await db.close()
        log.info("stopped")
