"""Comment themes beside the conversation: theme new reasons, retrain the model, report.

A customer's reply never waits for theming: reasons are stored unthemed by the conversation
(``answers.themed_at`` NULL) and a periodic job (``bot/composition/themes_jobs.py``) themes
them in batches, off the event loop (``asyncio.to_thread``), and retrains the model when it
is due: every ``NPSBOT_THEMES_RETRAIN_HOURS``, or sooner while the comments are few and
doubling (a new install learns quickly from its first comments). A retraining re-themes every
comment and refreshes the registry of emerging themes, whose ids and names carry over from
run to run (:func:`bot.themes.match_emerging`). The first time an answer is themed the
``answer.themed`` webhook event goes out with its themes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.nps import Category, Counts, Cutoffs
from bot.core.periods import Period, local_today, parse_period, previous_period
from bot.core.questionnaire.catalog import Catalog
from bot.reports.theme_report import ThemeRow, theme_json, theme_rows
from bot.themes import (
    Comment,
    CommentAnalysis,
    DriverSpec,
    EmergingTheme,
    ThemeModel,
    match_emerging,
    tokenize,
)
from bot.usecases.services import Services
from bot.usecases.webhook_events import notify
from storage import Tx, themes
from storage.reports import NO_FILTER, AnswerFilter, histograms_by_day
from storage.themes import DRIVER, EMERGING, Assignment, CommentRow, RegisteredTheme

log = logging.getLogger(__name__)

BATCH = 500
TRAINING_LIMIT = 20_000
#: While comments are few, retrain as soon as their number doubled (and grew by this many).
EARLY_RETRAIN_MIN_NEW = 20
EVENT = "answer.themed"


def driver_specs(catalog: Catalog) -> list[DriverSpec]:
    """The questionnaire's drivers (every category's, once) with labels and keywords."""
    specs: dict[str, DriverSpec] = {}
    for category in Category:
        for driver in catalog.drivers(category):
            specs.setdefault(
                driver.id,
                DriverSpec(driver.id, dict(driver.labels), dict(driver.keywords)),
            )
    return list(specs.values())


def _comment(row: CommentRow) -> Comment:
    return Comment(str(row.survey_id), row.text, None, row.score, row.drivers)


def emerging_members(text_words: frozenset[str], theme: RegisteredTheme) -> bool:
    """Whether a comment's words put it in a registered emerging theme: at least two of the
    theme's key words (all of them when it has fewer)."""
    needed = min(2, len(theme.keywords))
    return needed > 0 and len(text_words & set(theme.keywords)) >= needed


@dataclass
class Themer:
    """The model in use, kept in memory between runs (reloaded when another was stored)."""

    model: ThemeModel | None = None
    model_id: int | None = None
    registry: list[RegisteredTheme] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ThemingRun:
    """What one run did."""

    retrained: bool
    themed: int


def _retrain_due(stored: themes.StoredModel | None, count: int, now: datetime, hours: int) -> bool:
    if stored is None:
        return True
    if now - stored.trained_at >= timedelta(hours=hours):
        return True
    grown = count - stored.comments
    return grown >= EARLY_RETRAIN_MIN_NEW and count >= 2 * stored.comments


def _train(
    rows: Sequence[CommentRow], drivers: Sequence[DriverSpec], previous: Sequence[RegisteredTheme]
) -> tuple[ThemeModel, list[EmergingTheme], list[CommentAnalysis]]:
    """Train, find and match emerging themes, analyse every comment (runs in a thread)."""
    comments = [_comment(r) for r in rows]
    model = ThemeModel.train(comments, drivers)
    found = model.emerging(comments)
    before = [EmergingTheme(t.id, t.name, t.keywords, ()) for t in previous]
    return model, match_emerging(before, found), model.analyse_many(comments)


def _analyse(
    model: ThemeModel, rows: Sequence[CommentRow], registry: Sequence[RegisteredTheme]
) -> list[list[Assignment]]:
    """Driver themes of each comment, else the registered emerging themes it belongs to."""
    out = []
    for row in rows:
        hits = model.assign(_comment(row))
        found = [Assignment(h.theme_id, DRIVER, h.score) for h in hits]
        if not found:
            words = frozenset(tokenize(row.text).words)
            found = [
                Assignment(t.id, EMERGING, 1.0) for t in registry if emerging_members(words, t)
            ]
        out.append(found)
    return out


async def _assign(
    svc: Services, tx: Tx, survey_id: int, found: Sequence[Assignment], now: datetime
) -> bool:
    first = await themes.assign(tx, survey_id, found, now)
    if first:
        await notify(
            tx,
            svc.settings.webhooks,
            EVENT,
            survey_id,
            now,
            {"themes": [{"id": a.theme, "kind": a.kind, "score": a.score} for a in found]},
        )
    return first


async def retrain(svc: Services, themer: Themer, now: datetime) -> int:
    """Train a new model on the comments so far, refresh the emerging themes' registry and
    re-theme every comment; returns how many comments it was trained on."""
    async with svc.db.read() as tx:
        rows = await themes.training_comments(tx, TRAINING_LIMIT)
        previous = await themes.registry(tx)
    drivers = driver_specs(svc.catalog)
    model, emerging, analyses = await asyncio.to_thread(_train, rows, drivers, previous)
    members: dict[str, list[str]] = {}
    for theme in emerging:
        for cid in theme.comment_ids:
            members.setdefault(cid, []).append(theme.id)
    async with svc.db.transaction() as tx:
        model_id = await themes.save_model(tx, model.to_dict(), len(rows), now)
        for theme in emerging:
            await themes.register(
                tx, theme.id, theme.name, theme.keywords, len(theme.comment_ids), now
            )
        for row, analysis in zip(rows, analyses, strict=True):
            found = [Assignment(h.theme_id, DRIVER, h.score) for h in analysis.themes]
            if not found:
                found = [Assignment(t, EMERGING, 1.0) for t in members.get(str(row.survey_id), [])]
            await _assign(svc, tx, row.survey_id, found, now)
        registry = await themes.registry(tx)
    themer.model, themer.model_id = model, model_id
    current_ids = {t.id for t in emerging}
    themer.registry = [t for t in registry if t.id in current_ids]
    log.info(
        "themes model trained on %d comments: %d driver themes, %d emerging themes",
        len(rows),
        len(model.themes),
        len(emerging),
    )
    return len(rows)


async def _load(svc: Services, themer: Themer, stored: themes.StoredModel) -> None:
    if themer.model_id == stored.id and themer.model is not None:
        return
    themer.model = await asyncio.to_thread(ThemeModel.from_dict, stored.data)
    themer.model_id = stored.id
    async with svc.db.read() as tx:
        registry = await themes.registry(tx)
    latest = max((t.last_seen for t in registry), default=None)
    themer.registry = [t for t in registry if t.last_seen == latest]


async def theme_pending(svc: Services, themer: Themer, now: datetime) -> int:
    """Theme the reasons not themed yet with the model in use; returns how many."""
    assert themer.model is not None
    done = 0
    while True:
        async with svc.db.read() as tx:
            rows = await themes.pending_comments(tx, BATCH)
        if not rows:
            return done
        found = await asyncio.to_thread(_analyse, themer.model, rows, themer.registry)
        async with svc.db.transaction() as tx:
            for row, assignments in zip(rows, found, strict=True):
                await _assign(svc, tx, row.survey_id, assignments, now)
        done += len(rows)
        if len(rows) < BATCH:
            return done


async def run_theming(svc: Services, themer: Themer, now: datetime) -> ThemingRun:
    """One run of the job: retrain when due, then theme what is new."""
    async with svc.db.read() as tx:
        stored = await themes.latest_model(tx)
        count = await themes.comment_count(tx)
    retrained = False
    if _retrain_due(stored, count, now, svc.settings.admin.themes_retrain_hours):
        await retrain(svc, themer, now)
        retrained = True
    elif stored is not None:
        await _load(svc, themer, stored)
    themed = await theme_pending(svc, themer, now)
    return ThemingRun(retrained, themed)


# -- reading, for the reports -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThemeCounts:
    """Per theme, the answers carrying it in a period and in the one before, plus all answers
    of both periods (for each theme's impact) and the themes' names and kinds."""

    current: Mapping[str, Counts]
    previous: Mapping[str, Counts]
    total: Counts
    previous_total: Counts
    names: Mapping[str, str]
    kinds: Mapping[str, str]


def rows_of(counts: ThemeCounts) -> list[ThemeRow]:
    """The report rows (:func:`bot.reports.theme_report.theme_rows`) of gathered counts."""
    return theme_rows(counts.current, counts.previous, counts.total, counts.names, counts.kinds)


async def theme_names(tx: Tx, catalog: Catalog | None, lang: str) -> dict[str, str]:
    """Every theme's name: a driver theme by its label in ``lang``, an emerging one by the
    name it was registered with."""
    names = {t.id: t.name for t in await themes.registry(tx)}
    for spec in driver_specs(catalog) if catalog is not None else ():
        names[spec.theme_id] = spec.labels.get(lang) or next(iter(spec.labels.values()), spec.id)
    return names


async def gather_theme_counts(
    tx: Tx,
    catalog: Catalog | None,
    lang: str,
    cutoffs: Cutoffs,
    bounds: tuple[datetime, datetime, datetime],
    flt: AnswerFilter = NO_FILTER,
) -> ThemeCounts:
    """Counts of ``[bounds[1], bounds[2])`` and of the period before, ``[bounds[0], bounds[1])``."""
    before, start, end = bounds
    current = await themes.histograms_by_theme(tx, start, end, flt)
    previous = await themes.histograms_by_theme(tx, before, start, flt)
    prev_total, total = await histograms_by_day(tx, list(bounds), flt)
    return ThemeCounts(
        current={k: Counts.from_histogram(h, cutoffs) for k, h in current.items()},
        previous={k: Counts.from_histogram(h, cutoffs) for k, h in previous.items()},
        total=Counts.from_histogram(total, cutoffs),
        previous_total=Counts.from_histogram(prev_total, cutoffs),
        names=await theme_names(tx, catalog, lang),
        kinds=await themes.theme_kinds(tx),
    )


async def period_rows(
    tx: Tx, svc: Services, period: Period, flt: AnswerFilter = NO_FILTER
) -> list[ThemeRow]:
    """The theme rows of a report period (local days), compared with the period before."""
    tz = svc.settings.timezone
    before = previous_period(period).utc_bounds(tz)[0]
    start, end = period.utc_bounds(tz)
    counts = await gather_theme_counts(
        tx,
        svc.catalog,
        svc.settings.admin_language,
        svc.settings.admin.cutoffs,
        (before, start, end),
        flt,
    )
    return rows_of(counts)


async def themes_json(svc: Services, period_arg: str | None, now: datetime) -> dict[str, Any]:
    """``GET /v1/themes``: the themes of a period (default the last 30 days) as JSON.

    Raises :class:`bot.core.periods.ReportArgumentError` for a period it cannot read.
    """
    tz = svc.settings.timezone
    period = parse_period(period_arg, local_today(now, tz), "30d")
    previous = previous_period(period)
    async with svc.db.read() as tx:
        rows = await period_rows(tx, svc, period)
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous_period": {
            "start": previous.start.isoformat(),
            "end": previous.end.isoformat(),
        },
        "timezone": tz.key,
        "themes": theme_json(rows),
    }
