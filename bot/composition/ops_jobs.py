"""Starting and stopping the ops side inside the bot's event loop.

The periodic work (reminders, expiry, the relationship cycle) runs as PTB JobQueue jobs,
i.e. APScheduler in this loop, scheduled through the bot's supervisor. Jobs live in memory,
so they are registered here at every start-up; everything they have done is recorded in the
database (``reminded_at``, status ``expired``, one survey per relationship cycle), so a
restart neither repeats nor skips work.
The dispatcher itself is a supervised loop started by :mod:`bot.composition.runtime`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram.ext import Application, ContextTypes

from bot.adapters.ops_api.api import OpsApi, start_api
from bot.adapters.telegram.bot_data import services
from bot.composition.supervisor import Supervisor
from bot.core.contact_rules import ContactRules
from bot.usecases.maintenance import expire_surveys, send_reminders
from bot.usecases.relationship import queue_due_relationship_surveys
from bot.usecases.services import Services
from bot.usecases.themes import themes_json

log = logging.getLogger(__name__)


class OpsStartupError(RuntimeError):
    """The ops side cannot start (e.g. the API's port is taken); the message says why."""


RELATIONSHIP_INTERVAL_SECONDS = 3600.0


def contact_rules(svc: Services) -> ContactRules:
    """The contact rules configured for this bot."""
    return svc.settings.ops.contact_rules(svc.settings.timezone)


async def _maintenance_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    rules = contact_rules(svc)
    company = svc.settings.company_name
    now = svc.clock()
    expired = await expire_surveys(
        svc.db,
        rules,
        company,
        now,
        svc.sender,
        catalog=svc.catalog,
        webhooks=svc.settings.webhooks,
    )
    reminded = await send_reminders(svc.db, rules, company, now, svc.sender, catalog=svc.catalog)
    if expired or reminded:
        log.info("maintenance: %d surveys expired, %d reminders", expired, reminded)


async def _relationship_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    cycle = svc.settings.ops.relationship_cycle
    if cycle is None:
        return
    created = await queue_due_relationship_surveys(svc.db, contact_rules(svc), cycle, svc.clock())
    if created:
        log.info("relationship cycle: %d surveys created", created)
        if svc.dispatcher is not None:
            svc.dispatcher.wake()


def bot_api_freshness(poll_timeout_seconds: int) -> timedelta:
    """How long ago the Bot API may last have answered for the bot to count as ready: a
    healthy poller's getUpdates answers at least every poll timeout (in webhook mode the
    webhook is checked as often), so two of them and a minute of retries (a brief outage
    backs off up to 30 s) is a clear sign of trouble."""
    return timedelta(seconds=2 * poll_timeout_seconds + 60)


def _bot_api_reached(
    svc: Services, updates_answered: Callable[[], datetime | None]
) -> datetime | None:
    """The latest answer from the Bot API: a send's, or the receiving side's (the poller's
    getUpdates, or getWebhookInfo confirming the webhook)."""
    times = [svc.sender.last_success, updates_answered()]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def start_ops_jobs(svc: Services, supervisor: Supervisor) -> None:
    """The ops side's scheduled jobs (reminders, expiry, the relationship cycle): in the
    leading process only, so each runs once across processes."""
    ops = svc.settings.ops
    supervisor.every(
        _maintenance_job, ops.maintenance_interval_seconds, first=1.0, name="ops-maintenance"
    )
    if ops.relationship_cycle is not None:
        supervisor.every(
            _relationship_job, RELATIONSHIP_INTERVAL_SECONDS, first=5.0, name="ops-relationship"
        )


async def start_ops_api(
    app: Application,  # type: ignore[type-arg]
    svc: Services,
    supervisor: Supervisor,
    updates_answered: Callable[[], datetime | None],
) -> None:
    """Serve the ops API (after the Application started), in every process: its writes are
    exclusive transactions, so a load balancer may send a request to any of them. It stops
    with the supervisor."""
    ops = svc.settings.ops
    if not ops.api_enabled:
        log.info("ops API off: set NPSBOT_API_TOKENS to serve it")
        return
    dispatcher = svc.dispatcher
    api = OpsApi(
        db=svc.db,
        tokens=ops.api_tokens,
        rules=contact_rules(svc),
        clock=svc.clock,
        link_secret=svc.settings.link_secret.get_secret_value(),
        bot_username=svc.settings.bot_username or app.bot.username,
        max_body_bytes=ops.api_max_body_bytes,
        wake_dispatcher=dispatcher.wake if dispatcher is not None else (lambda: None),
        last_success=lambda: svc.sender.last_success,
        required_properties=svc.catalog.required_properties,
        retention_days=svc.settings.privacy.retention_days,
        webhooks=svc.settings.webhooks,
        link_ttl_days=svc.settings.link_ttl_days,
        metrics=svc.metrics,
        bot_api_reached=lambda: _bot_api_reached(svc, updates_answered),
        bot_api_fresh=bot_api_freshness(svc.settings.poll_timeout_seconds),
        themes=(
            (lambda period: themes_json(svc, period, svc.clock()))
            if svc.settings.admin.themes_enabled
            else None
        ),
    )
    try:
        runner = await start_api(api, ops.api_host, ops.api_port)
    except OSError as exc:
        # The jobs registered above are removed by the supervisor's stop.
        raise OpsStartupError(
            f"cannot serve the ops API on {ops.api_host}:{ops.api_port} ({exc.strerror})"
        ) from None
    supervisor.on_stop("ops API", runner.cleanup)
