"""The daily digest: aggregate in SQL, compose (pure), render the chart, send, record; and
the weekly and monthly digests (the ``/nps`` text of the period and a chart of NPS per week
or month).

Scheduled digests are at most once per day, by design: the day is *claimed* in the
database (its own committed transaction) before anything is sent, and marked *sent* when
every admin chat got it. The crash window is between the claim and the last send: a crash
there leaves the day claimed, the rest of that day's digest is never resent (no duplicate
ever reaches the admins), and the next start logs the day as interrupted so an admin can
ask for it with ``/digest YYYY-MM-DD``.
"""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.delivery import Upload
from bot.core.digest_schedule import Cadence, due_digest_days, due_periods
from bot.core.nps import Category, Counts, Cutoffs
from bot.core.periods import Period
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.model import Driver
from bot.core.texts import admin_texts
from bot.reports.digest import DayStats, Digest, DigestData, Verbatim, chart_labels, compose_digest
from bot.reports.nps_report import NpsReportData, compose_nps_report
from bot.reports.theme_report import theme_lines
from bot.reports.trend import TREND_PERIODS, trend_periods
from bot.settings import Settings
from bot.usecases.ports import Outbound
from bot.usecases.services import Services
from bot.usecases.themes import gather_theme_counts, rows_of
from bot.usecases.trend import gather_trend, render_trend_chart
from storage import Tx, digests, reports
from storage.reports import NO_FILTER, AnswerFilter

log = logging.getLogger(__name__)

WINDOW_DAYS = 60  # the 30 days ending on the digest's day, and the 30 before them
TREND_DAYS = 30
VERBATIMS = 3
THEMES_DAYS = 7  # the digest's themes: the last 7 days, compared with the 7 before


def day_boundaries(first: date, last: date, tz: ZoneInfo) -> list[datetime]:
    """UTC instants of the local midnights starting each day ``first..last`` and ending
    ``last``: len = days + 1 (DST-correct, see :meth:`Period.utc_bounds`)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bounds = [Period(day, day).utc_bounds(tz)[0] for day in days]
    return [*bounds, Period(last, last).utc_bounds(tz)[1]]


def _score_range(category: Category, cutoffs: Cutoffs) -> tuple[int, int]:
    if category is Category.PROMOTER:
        return cutoffs.promoter_min, 10
    if category is Category.PASSIVE:
        return cutoffs.passive_min, cutoffs.promoter_min - 1
    return 0, cutoffs.passive_min - 1


def _counts(groups: dict[str, tuple[int, ...]], cutoffs: Cutoffs) -> dict[str, Counts]:
    return {name: Counts.from_histogram(h, cutoffs) for name, h in groups.items()}


def driver_labels(
    catalog: Catalog | None, counts: dict[str, list[tuple[str, int]]], lang: str
) -> dict[Category, list[tuple[str, int]]]:
    """Stored driver counts with the drivers named in the admin language (an id the
    questionnaire no longer lists is shown as it was stored)."""
    known: dict[str, Driver] = {}
    if catalog is not None:
        for category in Category:
            known.update({d.id: d for d in catalog.drivers(category)})
    labelled: dict[Category, list[tuple[str, int]]] = {}
    for category_name, items in counts.items():
        try:
            category = Category(category_name)
        except ValueError:
            continue
        labelled[category] = [
            (catalog.driver_label(known[i], lang) if catalog and i in known else i, n)
            for i, n in items
        ]
    return labelled


async def gather_digest_data(
    tx: Tx, settings: Settings, day: date, catalog: Catalog | None = None
) -> DigestData:
    """Everything the digest of local ``day`` shows, aggregated in SQL."""
    tz = settings.timezone
    cutoffs = settings.admin.cutoffs
    first = day - timedelta(days=WINDOW_DAYS - 1)
    bounds = day_boundaries(first, day, tz)
    histograms = await reports.histograms_by_day(tx, bounds)
    counts = [Counts.from_histogram(h, cutoffs) for h in histograms]
    day_start, day_end = bounds[-2], bounds[-1]

    def total(items: list[Counts]) -> Counts:
        return sum(items, Counts())

    trend = [
        DayStats(first + timedelta(days=i), counts[i], histograms[i])
        for i in range(WINDOW_DAYS - TREND_DAYS, WINDOW_DAYS)
    ]
    month = [sum(column) for column in zip(*histograms[-TREND_DAYS:], strict=True)]
    by_attribute: dict[str, Counts] = {}
    attribute = settings.admin.digest_attribute
    if attribute:
        by_attribute = _counts(
            await reports.histograms_by_group(
                tx, day_start, day_end, "attribute", attribute=attribute
            ),
            cutoffs,
        )
    verbatims: dict[Category, list[Verbatim]] = {}
    for category in Category:
        low, high = _score_range(category, cutoffs)
        if low > high:
            continue
        rows = await reports.latest_verbatims(tx, day_start, day_end, low, high, VERBATIMS)
        verbatims[category] = [
            Verbatim(r.score, r.text, r.customer_ref, r.event_type) for r in rows
        ]
    responses = await reports.response_counts(tx, day_start, day_end)
    detractors, followed_up = (0, 0)
    if cutoffs.passive_min > 0:
        detractors, followed_up = await reports.detractor_follow_ups(
            tx, day_start, day_end, cutoffs.passive_min - 1
        )
    theme_section: list[str] = []
    if settings.admin.themes_enabled:
        days = THEMES_DAYS
        counts_by_theme = await gather_theme_counts(
            tx,
            catalog,
            settings.admin_language,
            cutoffs,
            (bounds[-1 - 2 * days], bounds[-1 - days], bounds[-1]),
        )
        lang = settings.admin_language
        title = admin_texts(lang).render(
            "themes", period=admin_texts(lang).render("themes_last_days", days=days)
        )
        theme_rows = rows_of(counts_by_theme)
        if theme_rows:  # no section without themed comments: /themes says so when asked
            theme_section = theme_lines(theme_rows, title, lang, max_rows=5)
    return DigestData(
        day=day,
        company=settings.company_name,
        tz_name=tz.key,
        today=counts[-1],
        cutoffs=cutoffs,
        yesterday=counts[-2],
        last7=total(counts[-7:]),
        prev7=total(counts[-14:-7]),
        last30=total(counts[-30:]),
        prev30=total(counts[-60:-30]),
        sent=responses.sent,
        answered=responses.answered,
        expired=responses.expired,
        failed=responses.failed,
        by_event_type=_counts(
            await reports.histograms_by_group(tx, day_start, day_end, "event_type"), cutoffs
        ),
        by_kind=_counts(await reports.histograms_by_group(tx, day_start, day_end, "kind"), cutoffs),
        by_attribute_name=attribute,
        by_attribute=by_attribute,
        drivers=driver_labels(
            catalog, await reports.driver_counts(tx, day_start, day_end), settings.admin_language
        ),
        verbatims=verbatims,
        detractors_total=detractors,
        detractors_followed_up=followed_up,
        trend=trend,
        histogram=tuple(month),
        min_sample=settings.admin.min_sample,
        themes=theme_section,
    )


@dataclass(frozen=True)
class RenderedDigest:
    """A composed digest and its chart."""

    day: date
    digest: Digest
    chart_png: bytes


async def build_digest(svc: Services, day: date) -> RenderedDigest:
    """Aggregate (one read snapshot), compose, and render the chart off the event loop."""
    async with svc.db.read() as tx:
        data = await gather_digest_data(tx, svc.settings, day, svc.catalog)
    digest = compose_digest(data, svc.settings.admin_language)
    # Imported here: matplotlib takes a while to import and only the admin side needs it.
    from bot.reports.chart import render_chart

    labels = chart_labels(svc.settings.company_name, day, svc.settings.admin_language)
    png = await asyncio.to_thread(
        render_chart, data.trend, data.histogram, labels, svc.settings.admin.cutoffs
    )
    return RenderedDigest(day, digest, png)


async def send_digest(sender: Outbound, chat_id: int, rendered: RenderedDigest) -> bool:
    """The chart (with the caption) then the text, split to fit; True if all went out."""
    photo = Upload(f"nps-{rendered.day.isoformat()}.png", rendered.chart_png)
    result = await sender.call(
        chat_id,
        "sendPhoto",
        {
            "chat_id": chat_id,
            "photo": photo,
            "caption": rendered.digest.caption,
            "parse_mode": "HTML",
        },
    )
    ok = result.ok
    if not ok:
        log.warning("digest chart for %s to chat %s failed: %s", rendered.day, chat_id, result)
    for part in rendered.digest.messages:
        result = await sender.call(
            chat_id, "sendMessage", {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
        )
        if not result.ok:
            log.warning("digest text for %s to chat %s failed: %s", rendered.day, chat_id, result)
            ok = False
    return ok


async def run_due_digests(svc: Services, now: datetime) -> list[date]:
    """Send every scheduled digest due at ``now`` and not yet sent; returns the days sent.

    On a database without digest records the day before ``now``'s local day is recorded
    as the baseline, so a fresh install starts with the digest of its first day.
    """
    settings = svc.settings
    at_time = settings.admin.digest_time
    if at_time is None or not settings.admin_chat_ids:
        return []
    tz = settings.timezone
    async with svc.db.transaction() as tx:
        today = now.astimezone(tz).date()
        if await digests.record_baseline(tx, today - timedelta(days=1), now):
            log.info("first start: digests begin with the one for %s", today)
        last = await digests.last_day(tx)
    sent: list[date] = []
    for day in due_digest_days(now, tz, at_time, last, settings.admin.digest_catchup_days):
        async with svc.db.transaction() as tx:
            if not await digests.claim(tx, day, now):
                continue  # another run claimed it: never twice
        log.info("sending the digest for %s to %d admin chat(s)", day, len(settings.admin_chat_ids))
        try:
            rendered = await build_digest(svc, day)
            delivered = 0
            for chat_id in settings.admin_chat_ids:
                if await send_digest(svc.sender, chat_id, rendered):
                    delivered += 1
        except Exception:
            log.exception("the digest for %s failed after it was claimed; not resent", day)
            continue
        async with svc.db.transaction() as tx:
            await digests.mark_sent(tx, day, delivered, svc.clock())
        sent.append(day)
    return sent


async def report_interrupted(svc: Services) -> None:
    """Log days whose digest was claimed but never finished (a crash mid-send)."""
    async with svc.db.read() as tx:
        days = await digests.interrupted(tx)
    for day in days:
        log.warning(
            "the digest for %s was interrupted (crash after it was claimed) and is not resent; "
            "send /digest %s in an admin chat to get it",
            day,
            day,
        )


# --- the /nps report and the weekly and monthly digests ----------------------------------


async def gather_nps_report(
    tx: Tx,
    settings: Settings,
    catalog: Catalog | None,
    period: Period,
    previous: Period,
    flt: AnswerFilter = NO_FILTER,
    filter_label: str = "",
) -> NpsReportData:
    """What ``/nps`` (and a weekly or monthly digest) shows for ``period``, against
    ``previous``: read from the per-day rollups (whole local days)."""
    tz = settings.timezone
    cutoffs = settings.admin.cutoffs
    start, end = period.utc_bounds(tz)
    bounds = [previous.utc_bounds(tz)[0], start, end]
    if previous.end + timedelta(days=1) != period.start:
        bounds = [*previous.utc_bounds(tz), start, end]
    histograms = await reports.histograms_by_day(tx, bounds, flt)
    before, current = histograms[0], histograms[-1]

    async def split(group: str) -> dict[str, Counts]:
        groups = await reports.histograms_by_group(tx, start, end, group, flt)
        return {k: Counts.from_histogram(h, cutoffs) for k, h in groups.items()}

    return NpsReportData(
        period=period,
        previous_period=previous,
        current=Counts.from_histogram(current, cutoffs),
        previous=Counts.from_histogram(before, cutoffs),
        filter_label=filter_label,
        tz_name=tz.key,
        cutoffs=cutoffs,
        by_kind=await split("kind"),
        by_event_type=await split("event_type"),
        drivers=driver_labels(
            catalog, await reports.driver_counts(tx, start, end, flt), settings.admin_language
        ),
        min_sample=settings.admin.min_sample,
    )


def cadences(settings: Settings) -> list[Cadence]:
    """The weekly and monthly digests that are on."""
    found = []
    if settings.admin.weekly_digest is not None:
        found.append(Cadence("week", weekday=settings.admin.weekly_digest))
    if settings.admin.monthly_digest is not None:
        found.append(Cadence("month", day=settings.admin.monthly_digest))
    return found


@dataclass(frozen=True)
class RenderedPeriodDigest:
    """A weekly or monthly digest: its chart (NPS per week or month, the last
    ``TREND_PERIODS`` ending with this one), the chart's caption, and the text."""

    kind: str
    start: date
    caption: str
    messages: list[str]
    chart_png: bytes


async def build_period_digest(svc: Services, cadence: Cadence, start: date) -> RenderedPeriodDigest:
    """The digest of the week or month starting ``start``: its title, then what ``/nps``
    shows for that period against the one before, in the admin language; and the chart of
    that period and the ones before it (one read snapshot, the chart off the event loop)."""
    period = Period(start, cadence.period_end(start))
    before = cadence.previous(start)
    previous = Period(before, cadence.period_end(before))
    unit = f"{cadence.kind}s"
    async with svc.db.read() as tx:
        data = await gather_nps_report(tx, svc.settings, svc.catalog, period, previous)
        rows = await gather_trend(tx, svc.settings, trend_periods(unit, start, TREND_PERIODS))
    lang = svc.settings.admin_language
    title = admin_texts(lang).render(
        f"digest_{cadence.kind}_title", company=html.escape(svc.settings.company_name)
    )
    messages = compose_nps_report(data, lang)
    png = await asyncio.to_thread(render_trend_chart, svc.settings, rows, unit)
    return RenderedPeriodDigest(
        cadence.kind, start, title, [f"{title}\n{messages[0]}", *messages[1:]], png
    )


async def send_period_digest(
    sender: Outbound, chat_id: int, rendered: RenderedPeriodDigest
) -> bool:
    """The chart (captioned with the title) then the text; True if all went out."""
    name = f"nps-{rendered.kind}-{rendered.start.isoformat()}.png"
    result = await sender.call(
        chat_id,
        "sendPhoto",
        {
            "chat_id": chat_id,
            "photo": Upload(name, rendered.chart_png),
            "caption": rendered.caption,
            "parse_mode": "HTML",
        },
    )
    ok = result.ok
    if not ok:
        log.warning("%s digest chart to chat %s failed: %s", rendered.kind, chat_id, result)
    for part in rendered.messages:
        result = await sender.call(
            chat_id, "sendMessage", {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
        )
        if not result.ok:
            log.warning("%s digest text to chat %s failed: %s", rendered.kind, chat_id, result)
            ok = False
    return ok


async def run_due_period_digests(svc: Services, now: datetime) -> list[tuple[str, date]]:
    """Send every weekly or monthly digest due at ``now`` and not yet sent, each claimed
    once like the daily one (a fresh install starts with the next period)."""
    settings = svc.settings
    at_time = settings.admin.digest_time
    if at_time is None or not settings.admin_chat_ids:
        return []
    tz = settings.timezone
    sent: list[tuple[str, date]] = []
    for cadence in cadences(settings):
        kind = cadence.kind
        async with svc.db.transaction() as tx:
            latest = cadence.latest_due(now, tz, at_time)
            await digests.record_baseline(tx, latest, now, kind)
            last = await digests.last_day(tx, kind)
        for start in due_periods(now, tz, at_time, cadence, last):
            async with svc.db.transaction() as tx:
                if not await digests.claim(tx, start, now, kind):
                    continue
            try:
                rendered = await build_period_digest(svc, cadence, start)
                delivered = 0
                for chat_id in settings.admin_chat_ids:
                    delivered += await send_period_digest(svc.sender, chat_id, rendered)
            except Exception:
                log.exception("the %s digest for %s failed after it was claimed", kind, start)
                continue
            async with svc.db.transaction() as tx:
                await digests.mark_sent(tx, start, delivered, svc.clock(), kind)
            sent.append((kind, start))
    return sent
