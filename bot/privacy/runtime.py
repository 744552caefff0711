"""Starting the privacy side with the bot: the retention job.

The job is a PTB JobQueue job (APScheduler in the bot's loop), registered at every start-up
because jobs live in memory. It runs hourly and anonymises only when the last recorded run
is a day old (or there is none), so a run is daily whatever the restarts, and a bot that was
down catches up when it comes back. APScheduler's default ``misfire_grace_time`` of 1 s
would silently drop a run delayed by a busy loop; it is raised.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.ops.runtime import Stopper
from bot.privacy.service import run_retention
from bot.telegram.services import SERVICES_KEY, Services
from storage import privacy

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 3600.0
FIRST_CHECK_SECONDS = 5.0
RUN_EVERY = timedelta(days=1)
# A little less than a day, so that hourly checks do not drift a run by an hour a day.
_DUE_AFTER = RUN_EVERY - timedelta(minutes=30)
JOB_KWARGS: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 6 * 3600}


async def retention_due(svc: Services) -> bool:
    """Whether a retention run is due now (the database remembers the last one)."""
    async with svc.db.read() as tx:
        last = await privacy.last_run(tx, "retention")
    return last is None or svc.clock() - last.started_at >= _DUE_AFTER


async def _retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    days = svc.settings.privacy.retention_days
    if days is None or not await retention_due(svc):
        return
    try:
        await run_retention(svc.db, days, svc.clock)
    except Exception:
        # Logged, and retried at the next hourly check: nothing was recorded as done.
        log.exception("retention run failed")


async def start_privacy(app: Application, svc: Services) -> Stopper:  # type: ignore[type-arg]
    """Register the retention job (when retention is on); return how to stop it."""
    days = svc.settings.privacy.retention_days
    if days is None:
        log.info("retention off: answers' texts and attributes are kept until erased")

        async def nothing() -> None:
            return None

        return nothing
    assert app.job_queue is not None
    job = app.job_queue.run_repeating(
        _retention_job,
        CHECK_INTERVAL_SECONDS,
        first=FIRST_CHECK_SECONDS,
        name="privacy-retention",
        job_kwargs=JOB_KWARGS,
    )
    log.info("retention on: answers' texts and attributes older than %d days are anonymised", days)

    async def stop() -> None:
        job.schedule_removal()

    return stop
