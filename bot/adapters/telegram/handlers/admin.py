"""Admin commands: /nps, /trend, /themes, /digest, /export, /survey, /stats, /resolve,
/cancel.

Each has its own handler behind the admin filter
(:class:`bot.adapters.telegram.admin_filter.AdminFilter`); anyone else gets a polite refusal
from :func:`refuse_non_admin`. A command answers bad arguments with the usage line and stops
the update there (``ApplicationHandlerStop``) so the customers' handlers never see it. Text
replies go through the outbox with the update's claim; the digest's chart and the CSV are
files, sent by a background task right after the claim commits (a crash in between loses
that one answer, never duplicates it; the admin can ask again). The reports (/nps, the
digest) read on a reader connection after the claim, never inside the write transaction;
/export's file is built outside this process (``Services.exports``), which only uploads it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InputFile

from bot.adapters.telegram.handler import Handler, Turn, handler
from bot.core.delivery import Upload
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
from bot.reports.nps_report import compose_nps_report
from bot.reports.stats_text import stats_text
from bot.reports.telegram_text import MESSAGE_LIMIT, esc, split_message
from bot.reports.theme_report import ThemeChartLabels, ThemeRow, theme_lines
from bot.reports.trend import TREND_UNITS
from bot.usecases.digests import build_digest, gather_nps_report, send_digest
from bot.usecases.exporting import EXPORT_FORMATS, MAX_EXPORT_ROWS, ExportFailed, ExportRequest
from bot.usecases.privacy import privacy_stats_line
from bot.usecases.services import Services
from bot.usecases.themes import period_rows
from bot.usecases.trend import build_trend
from bot.usecases.unit_of_work import Replies
from bot.usecases.webhook_health import endpoint_health
from bot.usecases.webhook_health import stats_line as webhook_stats_line
from storage import Tx, alerts, customers, digests, outbox, reports, surveys
from storage.reports import AnswerFilter

log = logging.getLogger(__name__)


MAX_NOTE_CHARS = 500
LINK_REFUSALS_DAYS = 7  # /stats counts refused link attempts over this many days
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
    period, flt = parse_report_args(args, local_today(now, settings.timezone), "7d")
    data = await gather_nps_report(
        tx, settings, svc.catalog, period, previous_period(period), _answer_filter(flt), flt.label
    )
    return compose_nps_report(data, settings.admin_language)


def _export_format(args: list[str]) -> tuple[str, list[str]]:
    """The file format (``/export xlsx 7d``) and the remaining report arguments."""
    if args and args[0].lower() in EXPORT_FORMATS:
        return args[0].lower(), args[1:]
    return "csv", args


async def _send_export(svc: Services, chat_id: int, args: list[str], now: datetime) -> None:
    fmt, args = _export_format(args)
    tz = svc.settings.timezone
    period, flt = parse_report_args(args, local_today(now, tz), "30d")
    start, end = period.utc_bounds(tz)
    request = ExportRequest(
        target=svc.db.target,
        start=start,
        end=end,
        answer_filter=_answer_filter(flt),
        fmt=fmt,
        cutoffs=svc.settings.admin.cutoffs,
        bom=svc.settings.admin.export_bom,
        limit=MAX_EXPORT_ROWS,
    )
    filters = f" · {esc(flt.label)}" if flt.label else ""
    label = esc(period_label(period, svc.admin_texts))
    try:
        # Read, rows and file: in a child process (bot.composition.exports), so the
        # customers' updates never wait for this process's loop or GIL meanwhile.
        export = await svc.exports.build(request)
    except ExportFailed as exc:
        log.error("export for chat %s failed: %s", chat_id, exc)
        key = "export_interrupted" if exc.interrupted else "export_failed"
        await _send_text(svc, chat_id, svc.admin_texts.render(key))
        return
    if not export.rows:
        text = svc.admin_texts.render("no_answers_export", period=label, filters=filters)
        await _send_text(svc, chat_id, text)
        log.info("export of 0 answers to chat %s, built in process %d", chat_id, export.pid)
        return
    caption = svc.admin_texts.render(
        "export_caption", rows=export.rows, period=label, filters=filters
    )
    if export.truncated:
        caption += svc.admin_texts.render("export_truncated", rows=MAX_EXPORT_ROWS)
    name = f"nps-answers-{period.start.isoformat()}-{period.end.isoformat()}.{export.extension}"
    result = await svc.sender.call(
        chat_id,
        "sendDocument",
        {
            "chat_id": chat_id,
            "document": InputFile(export.data, filename=name),
            "caption": caption,
            "parse_mode": "HTML",
        },
    )
    log.info(
        "export of %d answers to chat %s, built in process %d: %s",
        export.rows,
        chat_id,
        export.pid,
        "ok" if result.ok else result,
    )


async def _send_text(svc: Services, chat_id: int, text: str) -> None:
    await svc.sender.call(
        chat_id, "sendMessage", {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
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


@_admin_command("trend")
async def on_trend(turn: Turn[None]) -> None:
    """/trend [weeks|months]: the NPS of each of the last 12 weeks or months, with n and
    its interval, and a chart; read from the rollups after the claim commits."""
    svc, chat_id, now = turn.svc, turn.chat_id, turn.now
    unit = _trend_unit(turn.args)
    today = local_today(now, svc.settings.timezone)
    turn.background(f"admin-trend-{chat_id}", lambda: _send_trend(svc, chat_id, unit, today))


def _trend_unit(args: list[str]) -> str:
    if not args:
        return TREND_UNITS[0]
    if len(args) > 1 or args[0].lower() not in TREND_UNITS:
        raise UsageError("")
    return args[0].lower()


async def _send_trend(svc: Services, chat_id: int, unit: str, today: date) -> None:
    """The chart, then the text through the outbox."""
    rendered = await build_trend(svc, unit, today)
    photo = Upload(f"nps-by-{unit}-{today.isoformat()}.png", rendered.chart_png)
    result = await svc.sender.call(chat_id, "sendPhoto", {"chat_id": chat_id, "photo": photo})
    if not result.ok:
        log.warning("trend chart to chat %s failed: %s", chat_id, result)
    async with svc.db.transaction() as tx:
        for part in rendered.messages:
            params = {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
            await outbox.enqueue(tx, chat_id, "sendMessage", params, svc.clock())
    svc.sender.schedule_flush(chat_id)


@_admin_command("themes")
async def on_themes(turn: Turn[None]) -> None:
    """/themes [period] [filter]: each comment theme's NPS, impact and change, and a chart."""
    svc, chat_id = turn.svc, turn.chat_id
    texts = svc.admin_texts
    period, flt = parse_report_args(turn.args, local_today(turn.now, svc.settings.timezone), "30d")
    rows = await period_rows(turn.tx, svc, period, _answer_filter(flt))
    label = period_label(period, texts) + (f" · {flt.label}" if flt.label else "")
    title = texts.render("themes_title", period=esc(label))
    text = "\n".join(theme_lines(rows, title, texts.lang))
    for part in split_message(text, MESSAGE_LIMIT):
        turn.replies.send(part, parse_mode="HTML")
    if rows:
        chart = ThemeChartLabels(
            title=texts.render(
                "themes_chart_title", company=svc.settings.company_name, period=label
            ),
            axis=texts.render("themes_chart_axis"),
            no_data=texts.render("themes_none"),
        )
        turn.background(
            f"admin-themes-{chat_id}", lambda: _send_theme_chart(svc, chat_id, rows, chart)
        )


async def _send_theme_chart(
    svc: Services, chat_id: int, rows: list[ThemeRow], labels: ThemeChartLabels
) -> None:
    # Imported here: matplotlib takes a while to import and only this chart needs it.
    from bot.reports.theme_chart import render_theme_chart

    png = await asyncio.to_thread(render_theme_chart, rows, labels)
    result = await svc.sender.call(
        chat_id,
        "sendPhoto",
        {"chat_id": chat_id, "photo": InputFile(png, filename="nps-themes.png")},
    )
    if not result.ok:
        log.warning("themes chart to chat %s failed: %s", chat_id, result)


@_admin_command("digest")
async def on_digest(turn: Turn[None]) -> None:
    """/digest [day]: the digest now, sent once the command is recorded."""
    svc, chat_id = turn.svc, turn.chat_id
    day = _digest_day(turn.args, local_today(turn.now, svc.settings.timezone))
    turn.background(f"admin-digest-{chat_id}", lambda: _send_digest_now(svc, chat_id, day))
    log.info("chat %s asked for the digest of %s", chat_id, day)


@_admin_command("export")
async def on_export(turn: Turn[None]) -> None:
    """/export [csv|xlsx] [period] [filter]: the answers as CSV (default) or a workbook."""
    svc, chat_id, args, now = turn.svc, turn.chat_id, turn.args, turn.now
    # Parse now, so bad arguments get the usage line in this transaction.
    report_args = _export_format(args)[1]
    _answer_filter(
        parse_report_args(report_args, local_today(now, svc.settings.timezone), "30d")[1]
    )
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
    text = stats_text(
        svc.admin_texts, tz, by_status, health, last, svc.sender, svc.dispatcher, svc.flood
    )
    text += "\n" + await privacy_stats_line(tx, svc.settings.privacy, tz, svc.admin_texts)
    hooks = await endpoint_health(tx, svc.settings.webhooks, turn.now)
    text += "\n" + webhook_stats_line(hooks, svc.admin_texts)
    since = turn.now - timedelta(days=LINK_REFUSALS_DAYS)
    refused = await customers.count_link_refusals_since(tx, since)
    text += "\n" + svc.admin_texts.render(
        "stats_link_refusals", count=refused, days=LINK_REFUSALS_DAYS
    )
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
    log.info("admin chat %s queued survey %s: %s", chat_id, result.survey_id, result.status.value)
    async with svc.db.transaction() as tx:
        params = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        await outbox.enqueue(tx, chat_id, "sendMessage", params, now, about=[result.survey_id])
    await svc.sender.flush_chat(chat_id)


# The largest id SQLite can store: a bigger number is no id, and would overflow the query.
MAX_ROW_ID = 2**63 - 1


def _id_argument(raw: str) -> int | None:
    """A row id typed as ``123`` or ``#123``; None unless plain ASCII digits within
    SQLite's integer range."""
    digits = raw.removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    number = int(digits)
    return number if number <= MAX_ROW_ID else None


async def _resolve(
    svc: Services, tx: Tx, replies: Replies, args: list[str], user: Any, now: datetime
) -> None:
    from bot.adapters.telegram.admin_filter import admin_name

    alert_id = _id_argument(args[0]) if args else None
    if alert_id is None:
        raise UsageError("")
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
    replies.send(text, parse_mode="HTML", about=view.survey_id)
    log.info("alert %s resolved with /resolve in chat %s", alert_id, replies.chat_id)
