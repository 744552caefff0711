"""Starting and stopping the admin side inside the bot's event loop.

Jobs live in PTB's JobQueue (APScheduler), which keeps them in memory only: they are
registered here at every start, and what was done is recorded in the database.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.admin.alerts import flush_alerts
from bot.admin.digest import report_interrupted, run_due_digests
from bot.ops.runtime import Stopper
from bot.telegram.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

ALERT_FLUSH_SECONDS = 2.0
#: APScheduler skips a run more than misfire_grace_time (default 1 s) late; a digest that
#: is late because the loop was busy must still go out, so allow hours.
DIGEST_MISFIRE_GRACE_SECONDS = 6 * 3600
#: A safety net besides the daily job (clock changes, suspended hosts): cheap, idempotent.
DIGEST_CHECK_SECONDS = 900.0


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    svc = context.application.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    sent = await run_due_digests(svc, svc.clock())
    if sent:
        log.info("digests sent for %s", ", ".join(day.isoformat() for day in sent))


async def _alert_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = _services(context)
    await flush_alerts(svc, svc.clock())


async def start_admin(app: Application, svc: Services) -> Stopper:  # type: ignore[type-arg]
    """Start the admin side (after the Application started); return how to stop it."""
    settings = svc.settings
    jobs = []
    if settings.admin_chat_ids:
        assert app.job_queue is not None
        once = {"max_instances": 1, "coalesce": True}
        jobs.append(
            app.job_queue.run_repeating(
                _alert_job, ALERT_FLUSH_SECONDS, first=1.0, name="alerts", job_kwargs=once
            )
        )
        at_time = settings.admin.digest_time
        if at_time is not None:
            await report_interrupted(svc)
            daily = {**once, "misfire_grace_time": DIGEST_MISFIRE_GRACE_SECONDS}
            jobs.append(
                app.job_queue.run_daily(
                    _digest_job,
                    at_time.replace(tzinfo=settings.timezone),
                    name="digest",
                    job_kwargs=daily,
                )
            )
            # Catch-up at start-up, then a periodic check; all runs share the DB record.
            jobs.append(
                app.job_queue.run_repeating(
                    _digest_job,
                    DIGEST_CHECK_SECONDS,
                    first=0.5,
                    name="digest-check",
                    job_kwargs=daily,
                )
            )
            log.info(
                "daily digest at %s %s to %d admin chat(s)",
                at_time.isoformat(),
                settings.timezone.key,
                len(settings.admin_chat_ids),
            )

    async def stop() -> None:
        for job in jobs:
            job.schedule_removal()

    return stop
