"""Starting and stopping the admin side inside the bot's event loop.

Jobs live in PTB's JobQueue (APScheduler), which keeps them in memory only: they are
registered here at every start, through the bot's supervisor (one set of ``job_kwargs``,
whose misfire grace keeps a digest that is late because the loop was busy), and what was
done is recorded in the database.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from bot.adapters.telegram.bot_data import services
from bot.composition.supervisor import Supervisor
from bot.usecases.alerts import flush_alerts
from bot.usecases.digests import report_interrupted, run_due_digests, run_due_period_digests
from bot.usecases.services import Services

log = logging.getLogger(__name__)

ALERT_FLUSH_SECONDS = 2.0
#: A safety net besides the daily job (clock changes, suspended hosts): cheap, idempotent.
DIGEST_CHECK_SECONDS = 900.0


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    sent = await run_due_digests(svc, svc.clock())
    if sent:
        log.info("digests sent for %s", ", ".join(day.isoformat() for day in sent))
    # The weekly and monthly digests go out at the same time of day, after the daily one.
    periods = await run_due_period_digests(svc, svc.clock())
    if periods:
        log.info("digests sent for %s", ", ".join(f"{k} of {d}" for k, d in periods))


async def _alert_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    await flush_alerts(svc, svc.clock())


async def start_admin(svc: Services, supervisor: Supervisor) -> None:
    """Register the admin side's jobs (after the Application started)."""
    settings = svc.settings
    if not settings.admin_chat_ids:
        return
    supervisor.every(_alert_job, ALERT_FLUSH_SECONDS, first=1.0, name="alerts")
    at_time = settings.admin.digest_time
    if at_time is None:
        return
    await report_interrupted(svc)
    supervisor.daily(_digest_job, at_time.replace(tzinfo=settings.timezone), name="digest")
    # Catch-up at start-up, then a periodic check; all runs share the DB record.
    supervisor.every(_digest_job, DIGEST_CHECK_SECONDS, first=0.5, name="digest-check")
    log.info(
        "daily digest at %s %s to %d admin chat(s)",
        at_time.isoformat(),
        settings.timezone.key,
        len(settings.admin_chat_ids),
    )
