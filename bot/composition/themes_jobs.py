"""Starting the comment themes with the bot: jieba's warm-up and the theming job.

Both run beside the conversation, never in it: the warm-up (jieba loads its dictionary,
about a second) in a thread, and the job (retrain when due, theme new comments; its heavy
parts in a thread too, see :mod:`bot.usecases.themes`) every
``NPSBOT_THEMES_INTERVAL_SECONDS`` through the supervisor. A failed run is logged and the
next one starts over from what the database says is done.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import ContextTypes

from bot.adapters.telegram.bot_data import services
from bot.composition.supervisor import Supervisor
from bot.themes import warm_up
from bot.usecases.services import Services
from bot.usecases.themes import Themer, run_theming

log = logging.getLogger(__name__)

FIRST_RUN_SECONDS = 2.0


def start_themes(svc: Services, supervisor: Supervisor) -> Themer | None:
    """Warm jieba up off the event loop and register the theming job (when themes are on)."""
    admin = svc.settings.admin
    if not admin.themes_enabled:
        log.info("comment themes off (NPSBOT_THEMES=off)")
        return None
    themer = Themer()
    supervisor.spawn(asyncio.to_thread(warm_up), "themes-warm-up")

    async def job(context: ContextTypes.DEFAULT_TYPE) -> None:
        svc = services(context)
        try:
            run = await run_theming(svc, themer, svc.clock())
        except Exception:
            log.exception("theming run failed; the next run retries")
            return
        if run.retrained or run.themed:
            log.info(
                "themes: %d comment(s) themed (model retrained: %s)", run.themed, run.retrained
            )

    supervisor.every(
        job, float(admin.themes_interval_seconds), first=FIRST_RUN_SECONDS, name="themes"
    )
    log.info(
        "comment themes every %d s, model retrained every %d h",
        admin.themes_interval_seconds,
        admin.themes_retrain_hours,
    )
    return themer
