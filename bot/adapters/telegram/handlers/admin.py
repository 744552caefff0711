"""Admin commands: /nps, /digest, /export, /survey, /stats, /resolve, /cancel.

Each has its own handler behind the admin filter
(:class:`bot.adapters.telegram.admin_filter.AdminFilter`); anyone else gets a polite refusal
from :func:`refuse_non_admin`. A command answers bad arguments with the usage line and stops
the update there (``ApplicationHandlerStop``) so the customers' handlers never see it. Text
replies go
through the outbox with the update's claim; the digest's chart and the CSV are files, sent
by a background task right after the claim commits (a crash in between loses that one
answer, never duplicates it; the admin can ask again). The reports (/nps, /export, the
digest) read on a reader connection after the claim, never inside the write transaction.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from telegram import InputFile

from bot.adapters.telegram.handler import Handler, Turn, handler
from bot.core.nps import Counts, categorize
from bot.core.periods import (
    ReportArgumentError,
    ReportFilter,
    local_today,
    parse_period,
    parse_report_args,
    period_label,
    previous_period,
)
from bot.core.records import SurveyKind, SurveyStatus
from bot.reports.csv_export import ExportRow, export_csv
from bot.reports.nps_report import NpsReportData, compose_nps_report
from bot.reports.stats_text import stats_text
from bot.reports.telegram_text import esc
from bot.usecases.digests import build_digest, send_digest
from bot.usecases.privacy import privacy_stats_line
from bot.usecases.services import Services
from bot.usecases.unit_of_work import Replies
from bot.usecases.webhook_health import endpoint_health
from bot.usecases.webhook_health import stats_line as webhook_stats_line
from storage import Tx, alerts, digests, outbox, reports, surveys
from storage.reports import AnswerFilter

log = logging.getLogger(__name__)


MAX_EXPORT_ROWS = 100_000
MAX_NOTE_CHARS = 500
ADMIN_SURVEY_EVENT_TYPE = "admin_request"


class UsageError(Exception):
    """Bad arguments: reply with this message (if any) and the command's usage line."""


def _answer_filter(flt: ReportFilter) -> AnswerFilter:
    """The storage filter; ``kind=<kind>`` filters on the survey kind, not an attribute."""
    kind = None
    attribute = flt.attribute
    if attribute is not None and attribute[0].lower() == "kind":
        value = attribute[1].lower()
        if value not in {k.value for k in SurveyKind}:
            raise ReportArgumentError("filter_not_a_kind", value=attribute[1][:40])
        kind, attribute = value, None
    return AnswerFilter(event_type=flt.event_type, kind=kind, attribute=attribute)


async def _nps_work(svc: Services, tx: Tx, args: list[str], now: datetime) -> list[str]:
    settings = svc.settings
    tz = settings.timezone
    period, flt = parse_report_args(args, local_today(now, tz), "7d")
    storage_filter = _answer_filter(flt)
    previous = previous_period(period)
    start, end = period.utc_bounds(tz)
    bounds = [previous.utc_bounds(tz)[0], start, end]
    before, current = await reports.histograms_by_day(tx, bounds, storage_filter)
    cutoffs = settings.admin.cutoffs

    async def split(group: str) -> dict[str, Counts]:
        groups = await reports.histograms_by_group(tx, start, end, group, storage_filter)
        return {k: Counts.from_histogram(h, cutoffs) for k, h in groups.items()}

    data = NpsReportData(
        period=period,
        previous_period=previous,
        current=Counts.from_histogram(current, cutoffs),
        previous=Counts.from_histogram(before, cutoffs),
        filter_label=flt.label,
        tz_name=tz.key,
        cutoffs=cutoffs,
        by_kind=await split("kind"),
        by_event_type=await split("event_type"),
    )
    return compose_nps_report(data, settings.admin_language)


def _export_rows(
    records: list[reports.ExportRecord], svc: Services
) -> tuple[list[ExportRow], list[str]]:
    keys: dict[str, None] = {}
    rows = []
    for record in records:
        attributes = {}
        for key, value in record.attributes.items():
            keys.setdefault(str(key), None)
            # Text as it is; numbers, booleans and nested values as JSON.
            attributes[str(key)] = value if isinstance(value, str) else json.dumps(value)
        rows.append(
            ExportRow(
                survey_id=record.survey_id,
                answered_at=record.scored_at,
                customer_id=record.customer_ref,
                kind=record.kind,
                score=record.score,
                category=categorize(record.score, svc.settings.admin.cutoffs),
                event_type=record.event_type,
                event_id=record.event_id,
                reason=record.reason,
                attributes=attributes,
                drivers=record.drivers,
            )
        )
    return rows, sorted(keys)


def _build_csv(records: list[reports.ExportRecord], svc: Services) -> tuple[list[ExportRow], bytes]:
    """The CSV of ``records``; run in a thread, so a large export never stalls the loop that
    handles the customers' updates."""
    rows, keys = _export_rows(records, svc)
    return rows, export_csv(rows, keys)


async def _send_export(svc: Services, chat_id: int, args: list[str], now: datetime) -> None:
    tz = svc.settings.timezone
    period, flt = parse_report_args(args, local_today(now, tz), "30d")
    storage_filter = _answer_filter(flt)
    start, end = period.utc_bounds(tz)
    async with svc.db.read() as tx:
        records = await reports.export_records(tx, start, end, storage_filter, MAX_EXPORT_ROWS + 1)
    filters = f" · {esc(flt.label)}" if flt.label else ""
    if not records:
        await svc.sender.call(
            chat_id,
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": svc.admin_texts.render(
                    "no_answers_export",
                    period=esc(period_label(period, svc.admin_texts)),
                    filters=filters,
                ),
                "parse_mode": "HTML",
            },
        )
        return
    truncated = len(records) > MAX_EXPORT_ROWS
    records = records[:MAX_EXPORT_ROWS]
    rows, data = await asyncio.to_thread(_build_csv, records, svc)
    caption = svc.admin_texts.render(
        "export_caption",
        rows=len(rows),
        period=esc(period_label(period, svc.admin_texts)),
        filters=filters,
    )
    if truncated:
        caption += svc.admin_texts.render("export_truncated", rows=MAX_EXPORT_ROWS)
    name = f"nps-answers-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    result = await svc.sender.call(
        chat_id,
        "sendDocument",
        {
            "chat_id": chat_id,
            "document": InputFile(data, filename=name),
            "caption": caption,
            "parse_mode": "HTML",
        },
    )
    log.info(
        "export of %d answers to chat %s: %s", len(rows), chat_id, "ok" if result.ok else result
    )


async def _send_digest_now(svc: Services, chat_id: int, day: date) -> None:
    try:
        rendered = await build_digest(svc, day)
        await send_digest(svc.sender, chat_id, rendered)
    except Exception:
        log.exception("on-demand digest for %s to chat %s failed", day, chat_id)
        await svc.sender.call(
            chat_id,
            "sendMessage",
            {"chat_id": chat_id, "text": svc.admin_texts.render("digest_failed")},
        )


def _digest_day(args: list[str], today: date) -> date:
    if len(args) > 1:
        raise UsageError("")
    period = parse_period(args[0] if args else None, today, "today")
    if period.start != period.end:
        raise ReportArgumentError("digest_one_day")
    return period.start


AdminWork = Callable[[Turn[None]], Awaitable[None]]

#: Every admin command's handler, by command name (registered behind the admin filter).
COMMANDS: dict[str, Handler] = {}


def _admin_command(name: str) -> Callable[[AdminWork], Handler]:
    """Register ``work`` as the handler of ``/name``: bad arguments get the usage line."""

    def decorate(work: AdminWork) -> Handler:
        @handler(admin=True)
        @functools.wraps(work)
        async def run(turn: Turn[None]) -> str | None:
            try:
                await work(turn)
            except (UsageError, ReportArgumentError) as exc:
                svc = turn.svc
                detail = svc.admin_texts.error(exc)
                text = (esc(detail, 400) + "\n" if detail else "") + esc(
                    svc.admin_texts.usage(name), 400
                )
                turn.replies.send(text, parse_mode="HTML")
            return None

        COMMANDS[name] = run
        return run

    return decorate


@handler(admin=True)
async def refuse_non_admin(turn: Turn[None]) -> None:
    """An admin command from anyone else: a polite refusal."""
    svc = turn.svc
    text = turn.message.text if turn.message is not None else None
    command = (text or "/?").split()[0][1:].split("@")[0].lower()
    log.warning("non-admin chat %s used /%s", turn.chat_id, command)
    turn.replies.send(svc.admin_texts.render("not_admin", company=svc.settings.company_name))


@_admin_command("nps")
async def on_nps(turn: Turn[None]) -> None:
    """/nps [period] [filter]: the score with its interval, split by kind and event type.

    Computed after the command's claim commits, on a reader connection: a report over a
    long period never holds the write lock that the customers' updates wait for."""
    svc, chat_id, args, now = turn.svc, turn.chat_id, turn.args, turn.now
    # Parse now, so bad arguments get the usage line in this transaction.
    _answer_filter(parse_report_args(args, local_today(now, svc.settings.timezone), "7d")[1])
    turn.background(f"admin-nps-{chat_id}", lambda: _send_nps(svc, chat_id, args, now))


async def _send_nps(svc: Services, chat_id: int, args: list[str], now: datetime) -> None:
    async with svc.db.read() as tx:
        parts = await _nps_work(svc, tx, args, now)
    async with svc.db.transaction() as tx:
        for part in parts:
            params = {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
            await outbox.enqueue(tx, chat_id, "sendMessage", params, now)
    svc.sender.schedule_flush(chat_id)


@_admin_command("digest")
async def on_digest(turn: Turn[None]) -> None:
    """/digest [day]: the digest now, sent once the command is recorded."""
    svc, chat_id = turn.svc, turn.chat_id
    day = _digest_day(turn.args, local_today(turn.now, svc.settings.timezone))
    turn.background(f"admin-digest-{chat_id}", lambda: _send_digest_now(svc, chat_id, day))
    log.info("chat %s asked for the digest of %s", chat_id, day)


@_admin_command("export")
async def on_export(turn: Turn[None]) -> None:
    """/export [period] [filter]: the answers as CSV."""
    svc, chat_id, args, now = turn.svc, turn.chat_id, turn.args, turn.now
    # Parse now, so bad arguments get the usage line in this transaction.
    _answer_filter(parse_report_args(args, local_today(now, svc.settings.timezone), "30d")[1])
    turn.background(f"admin-export-{chat_id}", lambda: _send_export(svc, chat_id, args, now))


@_admin_command("survey")
async def on_survey(turn: Turn[None]) -> None:
    """/survey <customer id>: queue a survey for one customer."""
    svc, chat_id = turn.svc, turn.chat_id
    external_id = _survey_args(turn.args)
    # Queued right after this update's claim commits (queue_survey has its own
    # transaction): a redelivered /survey is already claimed and queues nothing twice.
    turn.background(f"admin-survey-{chat_id}", lambda: _queue_survey(svc, chat_id, external_id))


@_admin_command("stats")
async def on_stats(turn: Turn[None]) -> None:
    """/stats: queue and delivery health."""
    if turn.args:
        raise UsageError("")
    svc, tx = turn.svc, turn.tx
    by_status = await surveys.count_by_status(tx)
    health = await reports.delivery_health(tx)
    last = await digests.last_day(tx)
    tz = svc.settings.timezone
    text = stats_text(svc.admin_texts, tz, by_status, health, last, svc.sender, svc.dispatcher)
    text += "\n" + await privacy_stats_line(tx, svc.settings.privacy, tz, svc.admin_texts)
    hooks = await endpoint_health(tx, svc.settings.webhooks, turn.now)
    text += "\n" + webhook_stats_line(hooks, svc.admin_texts)
    turn.replies.send(text, parse_mode="HTML")


@_admin_command("resolve")
async def on_resolve(turn: Turn[None]) -> None:
    """/resolve <alert id> [note]: mark a detractor alert resolved."""
    await _resolve(turn.svc, turn.tx, turn.replies, turn.args, turn.user, turn.now)


@_admin_command("cancel")
async def on_cancel(turn: Turn[None]) -> None:
    """/cancel: drop the reply being written after pressing Reply."""
    if turn.args:
        raise UsageError("")
    svc = turn.svc
    user_id = turn.user.id if turn.user else 0
    dropped = await alerts.delete_draft(turn.tx, turn.chat_id, user_id)
    turn.replies.send(svc.admin_texts.render("reply_cancelled" if dropped else "nothing_to_cancel"))


def _survey_args(args: list[str]) -> str:
    from bot.core.linking import validate_customer_id

    if len(args) != 1:
        raise UsageError("")
    try:
        return validate_customer_id(args[0])
    except ValueError as exc:
        raise ReportArgumentError("bad_customer", value=args[0][:64], problem=str(exc)) from None


async def _queue_survey(svc: Services, chat_id: int, external_id: str) -> None:
    """Queue through the one entry point the CLI and the API use, then answer."""
    from bot.usecases.queueing import queue_survey

    now = svc.clock()
    result = await queue_survey(
        svc.db, external_id, now, kind=SurveyKind.TRANSACTIONAL, event_type=ADMIN_SURVEY_EVENT_TYPE
    )
    if result.status is SurveyStatus.SKIPPED:
        reason = result.reason or "unknown"
        text = svc.admin_texts.render(
            "survey_skipped",
            survey_id=result.survey_id,
            customer=esc(external_id, 64),
            reason=esc(svc.admin_texts.skip_reason(reason), 200),
        )
    else:
        text = svc.admin_texts.render(
            "survey_queued", survey_id=result.survey_id, customer=esc(external_id, 64)
        )
        if svc.dispatcher is not None:
            svc.dispatcher.wake()
    log.info(
        "admin chat %s queued survey %s for customer %r: %s",
        chat_id,
        result.survey_id,
        external_id,
        result.status.value,
    )
    async with svc.db.transaction() as tx:
        params = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        await outbox.enqueue(tx, chat_id, "sendMessage", params, now)
    await svc.sender.flush_chat(chat_id)


async def _resolve(
    svc: Services, tx: Tx, replies: Replies, args: list[str], user: Any, now: datetime
) -> None:
    from bot.adapters.telegram.admin_filter import admin_name

    if not args or not args[0].lstrip("#").isascii() or not args[0].lstrip("#").isdigit():
        raise UsageError("")
    alert_id = int(args[0].lstrip("#"))
    note = " ".join(args[1:]).strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise ReportArgumentError("note_too_long", length=len(note), limit=MAX_NOTE_CHARS)
    if await alerts.get(tx, alert_id) is None:
        replies.send(svc.admin_texts.render("alert_unknown", alert_id=alert_id))
        return
    view = await alerts.resolve(tx, alert_id, admin_name(user), note, now)
    assert view is not None
    text = svc.admin_texts.render(
        "resolved",
        alert_id=alert_id,
        customer=esc(view.customer_ref, 64),
        admin=esc(view.resolved_by or "?", 80),
    )
    if view.resolved_note:
        text += svc.admin_texts.render(
            "resolved_note", note=esc(view.resolved_note, MAX_NOTE_CHARS)
        )
    replies.send(text, parse_mode="HTML")
    log.info("alert %s resolved with /resolve in chat %s", alert_id, replies.chat_id)
