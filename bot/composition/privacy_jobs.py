"""Starting the privacy side with the bot: the retention job.

The job is a PTB JobQueue job (APScheduler in the bot's loop), registered at every start-up
because jobs live in memory. It runs hourly and anonymises only when the last recorded run
is a day old (or there is none), so a run is daily whatever the restarts, and a bot that was
down catches up when it comes back. It is scheduled through the bot's supervisor, whose
``job_kwargs`` keep a run delayed by a busy loop (APScheduler's default would drop it).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot.adapters.telegram.bot_data import services
from bot.composition.supervisor import Supervisor
from bot.usecases.privacy import run_retention
from bot.usecases.services import Services
from storage import privacy

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 3600.0
FIRST_CHECK_SECONDS = 5.0
RUN_EVERY = timedelta(days=1)
# A little less than a day, so that hourly checks do not drift a run by an hour a day.
_DUE_AFTER = RUN_EVERY - timedelta(minutes=30)


async def retention_due(svc: Services) -> bool:
    """Whether a retention run is due now (the database remembers the last one)."""
    async with svc.db.read() as tx:
        last = await privacy.last_run(tx, "retention")
    return last is None or svc.clock() - last.started_at >= _DUE_AFTER


async def _retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    days = svc.settings.privacy.retention_days
    if days is None or not await retention_due(svc):
        return
    try:
        await run_retention(svc.db, days, svc.clock)
    except Exception:
        # Logged, and retried at the next hourly check: nothing was recorded as done.
        log.exception("retention run failed")


def start_privacy(svc: Services, supervisor: Supervisor) -> None:
    """Register the retention job (when retention is on)."""
    days = svc.settings.privacy.retention_days
    if days is None:
        log.info("retention off: answers' texts and attributes are kept until erased")
        return
    supervisor.every(
        _retention_job, CHECK_INTERVAL_SECONDS, first=FIRST_CHECK_SECONDS, name="privacy-retention"
    )
    log.info("retention on: answers' texts and attributes older than %d days are anonymised", days)
