"""Running the bot: storage, Telegram application, poller and dispatcher in one event loop.

Every background piece starts through one :class:`~bot.composition.supervisor.Supervisor`,
in an order whose reverse is the orderly stop on SIGTERM/SIGINT: the poller stops fetching
(and confirms what it stored), the receiver lets each chat finish the update in hand (the
rest wait in the inbox for the next start), jobs stop, the ops API closes, the dispatcher
finishes the sends in hand and records them, the webhook deliverer likewise, the outbox
sweep flushes what is committed, the webhook endpoint stops, and the remaining background
work is awaited, all within ``STOP_TIMEOUT_SECONDS``.

With several processes on PostgreSQL (:mod:`bot.composition.leadership`), every process
dispatches, sweeps, delivers webhooks, serves the ops API and, in webhook mode, takes
updates; the leader alone polls (polling mode) and runs the scheduled jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes

from bot.adapters.telegram.application import build_application
from bot.adapters.telegram.bot_data import SERVICES_KEY, services
from bot.adapters.telegram.flood import FloodControl
from bot.adapters.telegram.polling import Poller
from bot.adapters.telegram.ratelimit import RateLimiter
from bot.adapters.telegram.receiver import Receiver
from bot.adapters.telegram.sender import Sender
from bot.adapters.telegram.webhook import WebhookServer
from bot.adapters.telegram.wiring import FailedUpdates, register_handlers
from bot.composition.admin_jobs import start_admin
from bot.composition.exports import ChildExports
from bot.composition.leadership import Leadership
from bot.composition.ops_jobs import start_ops_api, start_ops_jobs
from bot.composition.privacy_jobs import start_privacy
from bot.composition.supervisor import Supervisor
from bot.composition.themes_jobs import start_themes
from bot.composition.webhook_delivery import start_webhooks
from bot.core.questionnaire.startup import load_catalog, report_missing_translations
from bot.settings import Settings
from bot.usecases.background import wait_for_any
from bot.usecases.dispatching import Dispatcher
from bot.usecases.exporting import InlineExports
from bot.usecases.metrics import Metrics
from bot.usecases.rollups import sync_zone as sync_rollup_zone
from bot.usecases.services import Services, utc_now
from bot.usecases.timing import TIMING_LOGGER
from storage import Database, inbox
from storage.lease import Lease, open_lease

log = logging.getLogger(__name__)

OUTBOX_SWEEP_SECONDS = 5.0
PRUNE_UPDATES_SECONDS = 3600.0
CHECKPOINT_SECONDS = 1.0


class StartupError(RuntimeError):
    """The bot cannot start; the message says why in one line (never with the token)."""


async def _prune_updates(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    async with svc.db.transaction() as tx:
        removed = await inbox.prune(tx, svc.clock() - timedelta(hours=inbox.KEEP_HOURS))
    log.info("pruned %d handled updates from the inbox", removed)


async def _start_webhook(webhook: WebhookServer, supervisor: Supervisor) -> None:
    """Listen and register the webhook (stopped first on the way out: no new updates)."""
    settings = webhook.settings
    try:
        await webhook.start()
    except OSError as exc:
        raise StartupError(
            f"cannot receive updates on {settings.listen_host}:{settings.listen_port} "
            f"({exc.strerror})"
        ) from None
    except TelegramError as exc:
        await webhook.stop()
        raise StartupError(f"setWebhook was refused ({exc.message})") from None
    supervisor.start_loop("webhook check", webhook.watch)
    supervisor.on_stop("webhook endpoint", webhook.stop)


async def _checkpoints(db: Database, stop: asyncio.Event) -> None:
    """Checkpoint the write-ahead log every second on the checkpoint's own thread, so that
    no commit of an update waits for the disk (see Database.checkpoint_passive)."""
    while not stop.is_set():
        try:
            await db.checkpoint_passive()
        except Exception:
            log.exception("WAL checkpoint failed; retrying")
        await wait_for_any((stop,), CHECKPOINT_SECONDS)


async def serve(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM), then stop in order.

    ``clock`` is what every part of the bot reads the time from (the services, the
    dispatcher, the sender, the jobs): tests run the bot on a clock they control.
    """
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
    # NPSBOT_TIMING_LOG: the stage timings at any log level (NOTSET: as the root logger).
    logging.getLogger(TIMING_LOGGER).setLevel(logging.DEBUG if settings.timing_log else 0)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    db = await Database.open(settings.database_path)
    try:
        lease = await open_lease(db.target.engine, db.target.location)
    except BaseException:
        await db.close()
        raise
    await sync_rollup_zone(db, settings.timezone.key, clock())
    app: Application = build_application(settings)  # type: ignore[type-arg]
    supervisor = Supervisor(job_queue=app.job_queue)
    limiter = RateLimiter(settings.send_rate_per_second, settings.per_chat_per_second)
    leadership = Leadership(lease, limiter)
    metrics = Metrics()
    sender = Sender(
        app.bot, db, limiter, clock, supervisor=supervisor, metrics=metrics, lease=lease
    )
    # A database in memory cannot be opened by another process: its exports stay inline.
    exports = ChildExports() if settings.admin.export_process and db.separate_readers else None
    svc = Services(
        settings=settings,
        db=db,
        sender=sender,
        cutoffs=settings.admin.cutoffs,
        clock=clock,
        catalog=catalog,
        supervisor=supervisor,
        metrics=metrics,
        exports=exports or InlineExports(db),
    )
    app.bot_data[SERVICES_KEY] = svc
    failures = FailedUpdates()
    register_handlers(app, failures)
    dispatcher = Dispatcher(
        db,
        sender,
        settings.company_name,
        clock,
        rules=settings.ops.contact_rules(settings.timezone),
        catalog=catalog,
        webhooks=settings.webhooks,
        lease=lease,
    )
    svc.dispatcher = dispatcher
    receiver = Receiver(
        app,
        db,
        failures,
        clock,
        flood=lambda spawn: FloodControl(svc, app.bot, app.bot_data, spawn),
    )
    front: Poller | WebhookServer
    if settings.receiving.webhook:
        front = WebhookServer(
            app,
            receiver,
            settings.receiving,
            clock,
            check_seconds=float(max(settings.poll_timeout_seconds, 1)),
        )
    else:
        front = Poller(app, receiver, settings.poll_timeout_seconds, clock=clock)
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
        # getMe answered; the first long poll may take poll_timeout seconds to.
        front.last_answer = clock()
        await app.start()
        try:
            # Started in this order, stopped in reverse: see the module's docstring.
            async with supervisor:
                if db.target.engine == "sqlite":
                    supervisor.start_loop("checkpoints", lambda halt: _checkpoints(db, halt))
                supervisor.start_loop("lease", leadership.watch)
                # Every process sends (its dispatcher, its units' replies): counted among
                # the senders, it paces at its share of the global rate.
                await lease.set_sending(True)
                await leadership.share()
                if isinstance(front, WebhookServer):
                    # Every process takes webhook updates (a redelivered update is
                    # absorbed by the inbox), leader or not.
                    _stop_exports_after_receiver(supervisor, exports)
                    supervisor.start_loop("receiver", receiver.run)
                    await _start_webhook(front, supervisor)
                _start_shared_work(svc, supervisor, sender, dispatcher)
                if isinstance(front, Poller):
                    poller = front
                    supervisor.start_loop(
                        "standby check",
                        lambda halt: _check_bot_api_while_standing_by(
                            app, poller, lease, clock, halt
                        ),
                    )
                await start_ops_api(app, svc, supervisor, lambda: front.last_answer)
                if await leadership.wait_to_lead(stop, supervisor.failed):
                    start_ops_jobs(svc, supervisor)
                    await start_admin(svc, supervisor)
                    start_privacy(svc, supervisor)
                    start_themes(svc, supervisor)
                    supervisor.every(
                        _prune_updates, PRUNE_UPDATES_SECONDS, first=60.0, name="prune-updates"
                    )
                    if isinstance(front, Poller):
                        # The receiver first queues what the inbox holds unhandled; it
                        # stops after the poller, finishing each chat's update in hand.
                        _stop_exports_after_receiver(supervisor, exports)
                        supervisor.start_loop("receiver", receiver.run)
                        supervisor.start_loop("poller", front.run)
                # What start-up built (modules, the catalog, the application) lives as long
                # as the process: out of the collector's sight, a full collection scans only
                # what updates create, not the whole heap (it took up to 68 ms, a stall of
                # every chat at once).
                gc.collect()
                gc.freeze()
                try:
                    await supervisor.wait(stop)
                finally:
                    gc.unfreeze()  # a process serving twice (the tests) frees what it built
                log.info("stopping (at most %.0f s)", supervisor.stop_timeout)
        finally:
            if app.running:
                await app.stop()
    finally:
        if exports is not None:
            # Again, if the stop's deadline came first: no child outlives the bot.
            await exports.close()
        with contextlib.suppress(Exception):
            await app.shutdown()
        # Closing the lease releases leadership and chat locks at once for a standby.
        with contextlib.suppress(Exception):
            await lease.close()
        await db.close()
        log.info("stopped")


def _stop_exports_after_receiver(supervisor: Supervisor, exports: ChildExports | None) -> None:
    """Registered just before the receiver starts, so it stops right after the receiver:
    no /export comes in any more, and the one in progress ends (its admin is told)."""
    if exports is not None:
        supervisor.on_stop("exports", exports.close)


async def _check_bot_api_while_standing_by(
    app: Application,  # type: ignore[type-arg]
    poller: Poller,
    lease: Lease,
    clock: Callable[[], datetime],
    halt: asyncio.Event,
) -> None:
    """A polling-mode standby does not poll, yet serves /readyz: it asks the Bot API
    (getMe) every poll timeout, so readiness says whether Telegram answers this process.
    Idle once the process leads (its getUpdates answers then)."""
    interval = float(max(poller.timeout, 1))
    while not halt.is_set():
        if not lease.leader:
            try:
                await app.bot.get_me()
                poller.last_answer = clock()
            except TelegramError as exc:
                log.warning("standby: the Bot API did not answer getMe (%s)", exc.message)
        await wait_for_any((halt,), interval)


def _start_shared_work(
    svc: Services, supervisor: Supervisor, sender: Sender, dispatcher: Dispatcher
) -> None:
    """What every process runs, leader or not: the outbox sweep (a chat's calls are made by
    one process at a time), webhook deliveries (claimed per delivery) and the dispatcher
    (a survey sent by the process holding its chat)."""
    supervisor.start_loop("outbox", lambda halt: sender.sweep(halt, OUTBOX_SWEEP_SECONDS))
    start_webhooks(svc, supervisor)
    supervisor.start_loop("dispatcher", dispatcher.run)
