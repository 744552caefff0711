"""Keeping the per-day rollups (``storage/rollups.py``) on the configured time zone, and the
``npsbot rollups rebuild [--check]`` command's work."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from storage import Database, rollups

log = logging.getLogger(__name__)


async def sync_zone(db: Database, tz_name: str, now: datetime) -> bool:
    """At start-up: recount the rollups by local day of ``tz_name`` if they count another
    zone's days (a new install counts UTC days; the zone setting changed); True if so."""
    async with db.transaction() as tx:
        previous = await rollups.zone_name(tx)
        rebuilt = await rollups.ensure_zone(tx, tz_name, now)
    if rebuilt:
        log.info("rollups recounted by local day of %s (they counted %s)", tz_name, previous)
    return rebuilt


@dataclass(frozen=True, slots=True)
class RollupCheck:
    """What ``npsbot rollups rebuild`` found before it rebuilt (or, checking, instead)."""

    zone: str  # the zone whose days the stored rollups counted
    differing: int  # stored rows that differ from a recount in that zone
    examples: list[rollups.Difference]
    rebuilt: bool

    def ok(self, tz_name: str) -> bool:
        """The stored rollups were exact and counted days of ``tz_name``."""
        return self.differing == 0 and self.zone == tz_name


async def rebuild(db: Database, tz_name: str, now: datetime, *, check_only: bool) -> RollupCheck:
    """Recount from the answers and compare with what is stored (one transaction: one
    snapshot); unless ``check_only``, replace the rollups by a recount in ``tz_name``."""
    async with db.transaction() as tx:
        zone = await rollups.zone_name(tx)
        total, examples = await rollups.differences(tx)
        if not check_only:
            await rollups.rebuild(tx, tz_name, now)
    if not check_only:
        log.info("rollups rebuilt by local day of %s (%d rows differed)", tz_name, total)
    return RollupCheck(zone, total, examples, rebuilt=not check_only)
