"""Aggregations for the digest, ``/nps``, ``/export`` and ``/stats``.

Everything is counted in SQL (``GROUP BY`` over index ranges); Python only ever sees
per-day score histograms, small per-group tallies and a handful of verbatims. Day bounds
are given by the caller as UTC instants (local midnights, DST-correct, see
:meth:`bot.core.periods.Period.utc_bounds`): SQLite cannot convert time zones.

Periods made of whole local days (the usual case: every report asks for local days) are
read from the per-day rollups (:mod:`storage.rollups`: O(days x segments) rows, exact);
other bounds, and an attribute split filtered by an attribute, count the answers (the
``raw_*`` functions, also what the property tests compare the rollups with).

Answers are placed in time by ``answers.scored_at``. Splits and filters use the survey's
attribute snapshot (``surveys.attributes``, copied from the customer when the survey was
queued): a report describes who the customer was when they answered.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.records import from_db_time, from_db_time_req, to_db_time
from storage import rollups
from storage.db import Tx
from storage.dialect import Dialect

HISTOGRAM_BUCKETS = 11
NO_VALUE = "(none)"

Histogram = tuple[int, ...]


def empty_histogram() -> Histogram:
    """Eleven zeros (scores 0..10)."""
    return (0,) * HISTOGRAM_BUCKETS


@dataclass(frozen=True, slots=True)
class AnswerFilter:
    """Restrict aggregations to one event type, survey kind and/or attribute value."""

    event_type: str | None = None
    kind: str | None = None
    attribute: tuple[str, str] | None = None

    def where(self, dialect: Dialect) -> tuple[str, list[Any]]:
        """SQL conditions on ``s`` (surveys) and their parameters; ``""`` when empty."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.event_type is not None:
            clauses.append("s.event_type = ?")
            params.append(self.event_type)
        if self.kind is not None:
            clauses.append("s.kind = ?")
            params.append(self.kind)
        if self.attribute is not None:
            key, value = self.attribute
            clauses.append(f"{dialect.json_member_text('s.attributes')} = ?")
            params += [dialect.json_member_arg(key), value]
        return (" AND " + " AND ".join(clauses)) if clauses else "", params

    @property
    def needs_surveys(self) -> bool:
        """True when the filter reads survey columns (a join is needed)."""
        return self.event_type is not None or self.kind is not None or self.attribute is not None


NO_FILTER = AnswerFilter()


async def _rollup_days(tx: Tx, bounds: Sequence[datetime], flt: AnswerFilter) -> list[date] | None:
    """The local days of ``bounds`` when the rollups can answer for them and ``flt``."""
    if flt.event_type == "":
        return None  # the rollups count a missing event type as ''
    return rollups.whole_days(bounds, ZoneInfo(await rollups.zone_name(tx)))


async def histograms_by_day(
    tx: Tx, boundaries: Sequence[datetime], flt: AnswerFilter = NO_FILTER
) -> list[Histogram]:
    """Score histograms of consecutive periods: ``boundaries`` b0 < b1 < ... < bN give N
    periods ``[b(i), b(i+1))``; the result has one 11-bucket histogram per period."""
    periods = len(boundaries) - 1
    if periods <= 0:
        return []
    days = await _rollup_days(tx, boundaries, flt)
    if days is None:
        return await raw_histograms_by_day(tx, boundaries, flt)
    daily = await rollups.daily_histograms(
        tx,
        days[0],
        days[-1],
        event_type=flt.event_type,
        kind=flt.kind,
        attribute=flt.attribute,
    )
    result = []
    for i in range(periods):
        total = [0] * HISTOGRAM_BUCKETS
        day = days[i]
        while day < days[i + 1]:
            for score, n in enumerate(daily.get(day, ())):
                total[score] += n
            day += timedelta(days=1)
        result.append(tuple(total))
    return result


async def raw_histograms_by_day(
    tx: Tx, boundaries: Sequence[datetime], flt: AnswerFilter = NO_FILTER
) -> list[Histogram]:
    """:func:`histograms_by_day` counted from the answers.

    One query: a VALUES table of periods joined to an index range scan per period over the
    covering index ``answers(scored_at, score, survey_id)``.
    """
    periods = len(boundaries) - 1
    if periods <= 0:
        return []
    values = ", ".join("(?, ?, ?)" for _ in range(periods))
    params: list[Any] = []
    for i in range(periods):
        params += [i, to_db_time(boundaries[i]), to_db_time(boundaries[i + 1])]
    where, filter_params = flt.where(tx.dialect)
    join = "JOIN surveys s ON s.id = a.survey_id" if flt.needs_surveys else ""
    sql = f"""
        WITH periods(i, lo, hi) AS (VALUES {values})
        SELECT p.i, a.score, COUNT(*) FROM periods p
        JOIN answers a ON a.scored_at >= p.lo AND a.scored_at < p.hi
        {join}
        WHERE 1 = 1 {where}
        GROUP BY p.i, a.score
        """
    result = [[0] * HISTOGRAM_BUCKETS for _ in range(periods)]
    for index, score, count in await tx.fetchall(sql, [*params, *filter_params]):
        result[int(index)][int(score)] = int(count)
    return [tuple(h) for h in result]


async def histograms_by_group(
    tx: Tx,
    start: datetime,
    end: datetime,
    group: str,
    flt: AnswerFilter = NO_FILTER,
    *,
    attribute: str | None = None,
) -> dict[str, Histogram]:
    """Score histograms in ``[start, end)`` per value of ``group``: ``"event_type"``,
    ``"kind"`` or ``"attribute"`` (the survey attribute named ``attribute``). Answers without
    a value are grouped under :data:`NO_VALUE`."""
    if group not in {"event_type", "kind"} and not (group == "attribute" and attribute):
        raise ValueError(f"unknown grouping {group!r}")
    days = await _rollup_days(tx, [start, end], flt)
    if days is None or (group == "attribute" and flt.attribute is not None):
        return await raw_histograms_by_group(tx, start, end, group, flt, attribute=attribute)
    segment: dict[str, Any] = {"event_type": flt.event_type, "kind": flt.kind}
    first, last = days
    if group == "attribute":
        totals = await rollups.daily_histograms(tx, first, last, **segment)
        rest = [sum(h[i] for h in totals.values()) for i in range(HISTOGRAM_BUCKETS)]
        split = await rollups.group_histograms(
            tx, first, last, "attr_value", split_attribute=attribute, **segment
        )
    else:
        rest = [0] * HISTOGRAM_BUCKETS
        split = await rollups.group_histograms(
            tx, first, last, group, attribute=flt.attribute, **segment
        )
    groups: dict[str, list[int]] = {}
    for value, histogram in split.items():
        key = NO_VALUE if value == "" else value
        merged = groups.setdefault(key, [0] * HISTOGRAM_BUCKETS)
        for i, n in enumerate(histogram):
            merged[i] += n
            if group == "attribute":
                rest[i] -= n
    if any(rest):
        merged = groups.setdefault(NO_VALUE, [0] * HISTOGRAM_BUCKETS)
        for i, n in enumerate(rest):
            merged[i] += n
    return {key: tuple(h) for key, h in groups.items() if any(h)}


async def raw_histograms_by_group(
    tx: Tx,
    start: datetime,
    end: datetime,
    group: str,
    flt: AnswerFilter = NO_FILTER,
    *,
    attribute: str | None = None,
) -> dict[str, Histogram]:
    """:func:`histograms_by_group` counted from the answers."""
    params: list[Any] = []
    if group == "event_type":
        column = "s.event_type"
    elif group == "kind":
        column = "s.kind"
    elif group == "attribute" and attribute:
        column = tx.dialect.json_member_text("s.attributes")
        params.append(tx.dialect.json_member_arg(attribute))
    else:
        raise ValueError(f"unknown grouping {group!r}")
    where, filter_params = flt.where(tx.dialect)
    sql = f"""
        SELECT {column} AS value, a.score, COUNT(*) FROM answers a
        JOIN surveys s ON s.id = a.survey_id
        WHERE a.scored_at >= ? AND a.scored_at < ? {where}
        GROUP BY value, a.score
        """
    groups: dict[str, list[int]] = {}
    params += [to_db_time(start), to_db_time(end), *filter_params]
    for value, score, count in await tx.fetchall(sql, params):
        key = NO_VALUE if value is None or value == "" else str(value)
        groups.setdefault(key, [0] * HISTOGRAM_BUCKETS)[int(score)] += int(count)
    return {key: tuple(h) for key, h in groups.items()}


@dataclass(frozen=True, slots=True)
class ResponseCounts:
    """Surveys sent in a period, how many of those were answered, and how many closed in
    the period as expired or failed."""

    sent: int
    answered: int
    expired: int
    failed: int


async def response_counts(tx: Tx, start: datetime, end: datetime) -> ResponseCounts:
    """Response figures for ``[start, end)`` (two index range scans)."""
    lo, hi = to_db_time(start), to_db_time(end)
    row = await tx.fetchone(
        """
        SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'answered' THEN 1 ELSE 0 END), 0)
        FROM surveys
        WHERE sent_at >= ? AND sent_at < ?
        """,
        (lo, hi),
    )
    sent, answered = (int(row[0]), int(row[1])) if row else (0, 0)
    row = await tx.fetchone(
        """
        SELECT COALESCE(SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
        FROM surveys WHERE closed_at >= ? AND closed_at < ?
        """,
        (lo, hi),
    )
    expired, failed = (int(row[0]), int(row[1])) if row else (0, 0)
    return ResponseCounts(sent, answered, expired, failed)


@dataclass(frozen=True, slots=True)
class VerbatimRow:
    """A reason with its score, the customer's id and the survey's event type."""

    score: int
    text: str
    customer_ref: str
    event_type: str | None


async def latest_verbatims(
    tx: Tx, start: datetime, end: datetime, low: int, high: int, limit: int
) -> list[VerbatimRow]:
    """The newest reasons of answers scored in ``[start, end)`` with ``low <= score <= high``."""
    rows = await tx.fetchall(
        """
        SELECT a.score, a.reason, c.external_id, s.event_type FROM answers a
        JOIN surveys s ON s.id = a.survey_id JOIN customers c ON c.id = s.customer_id
        WHERE a.scored_at >= ? AND a.scored_at < ? AND a.score BETWEEN ? AND ?
          AND a.reason IS NOT NULL AND a.reason <> ''
        ORDER BY a.scored_at DESC, a.id DESC LIMIT ?
        """,
        (to_db_time(start), to_db_time(end), low, high, limit),
    )
    return [VerbatimRow(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


async def detractor_follow_ups(
    tx: Tx, start: datetime, end: datetime, detractor_max: int
) -> tuple[int, int]:
    """(detractors scored in ``[start, end)``, how many of them were followed up: a reply
    relayed to them or their alert marked resolved)."""
    row = await tx.fetchone(
        """
        SELECT COUNT(*), COUNT(al.followed_up_at) FROM answers a
        LEFT JOIN alerts al ON al.survey_id = a.survey_id
        WHERE a.scored_at >= ? AND a.scored_at < ? AND a.score <= ?
        """,
        (to_db_time(start), to_db_time(end), detractor_max),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def driver_counts(
    tx: Tx, start: datetime, end: datetime, flt: AnswerFilter = NO_FILTER
) -> dict[str, list[tuple[str, int]]]:
    """Per category (as stored with the answer): (driver id, how many answers scored in
    ``[start, end)`` and matching ``flt`` picked it), most picked first. The rollups count
    drivers per day and category only: a filtered count reads the answers."""
    days = await _rollup_days(tx, [start, end], NO_FILTER)
    if days is None or flt.needs_surveys:
        return await raw_driver_counts(tx, start, end, flt)
    rows = sorted(
        await rollups.driver_totals(tx, days[0], days[1]), key=lambda r: (r[0], -r[2], r[1])
    )
    counts: dict[str, list[tuple[str, int]]] = {}
    for category, driver, n in rows:
        counts.setdefault(category, []).append((driver, n))
    return counts


async def raw_driver_counts(
    tx: Tx, start: datetime, end: datetime, flt: AnswerFilter = NO_FILTER
) -> dict[str, list[tuple[str, int]]]:
    """:func:`driver_counts` counted in SQL over the answers' JSON lists."""
    where, params = flt.where(tx.dialect)
    join = "JOIN surveys s ON s.id = a.survey_id" if flt.needs_surveys else ""
    rows = await tx.fetchall(
        f"""
        SELECT a.category, {tx.dialect.entry_text("d")} AS driver, COUNT(*) AS n
        FROM answers a {join}, {tx.dialect.json_array_items("a.drivers", "d")}
        WHERE a.scored_at >= ? AND a.scored_at < ? AND a.drivers IS NOT NULL {where}
        GROUP BY a.category, driver
        ORDER BY a.category, n DESC, driver
        """,
        (to_db_time(start), to_db_time(end), *params),
    )
    counts: dict[str, list[tuple[str, int]]] = {}
    for category, driver, n in rows:
        counts.setdefault(str(category), []).append((str(driver), int(n)))
    return counts


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One answered survey with what the CSV export shows."""

    survey_id: int
    scored_at: datetime
    customer_ref: str
    kind: str
    event_type: str | None
    event_id: str | None
    score: int
    reason: str | None
    attributes: dict[str, Any]
    drivers: tuple[str, ...] = ()  # driver ids the customer picked (none: no drivers step)


async def export_records(
    tx: Tx, start: datetime, end: datetime, flt: AnswerFilter, limit: int
) -> list[ExportRecord]:
    """Answers scored in ``[start, end)``, oldest first, at most ``limit`` of them."""
    where, params = flt.where(tx.dialect)
    rows = await tx.fetchall(
        f"""
        SELECT s.id, a.scored_at, c.external_id, s.kind, s.event_type, s.event_id, a.score,
               a.reason, s.attributes, a.drivers
        FROM answers a JOIN surveys s ON s.id = a.survey_id
        JOIN customers c ON c.id = s.customer_id
        WHERE a.scored_at >= ? AND a.scored_at < ? {where}
        ORDER BY a.scored_at, a.id LIMIT ?
        """,
        (to_db_time(start), to_db_time(end), *params, limit),
    )
    return [
        ExportRecord(
            survey_id=int(r[0]),
            scored_at=from_db_time_req(r[1]),
            customer_ref=str(r[2]),
            kind=str(r[3]),
            event_type=r[4],
            event_id=r[5],
            score=int(r[6]),
            reason=r[7],
            attributes=_object(r[8]),
            drivers=_string_list(r[9]),
        )
        for r in rows
    ]


def _string_list(raw: str | None) -> tuple[str, ...]:
    value = json.loads(raw) if raw else []
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _object(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """Outbox and sending figures for ``/stats``."""

    outbox_pending: int
    outbox_failed: int
    oldest_pending_at: datetime | None
    last_outbox_done_at: datetime | None
    last_survey_sent_at: datetime | None
    alerts_unnotified: int
    alerts_open: int


async def delivery_health(tx: Tx) -> DeliveryHealth:
    """Queue and delivery figures from the database (cheap: indexed or small tables)."""
    row = await tx.fetchone(
        """
        SELECT
          (SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL),
          (SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL),
          (SELECT MIN(created_at) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL),
          (SELECT MAX(done_at) FROM outbox),
          (SELECT MAX(sent_at) FROM surveys WHERE sent_at IS NOT NULL),
          (SELECT COUNT(*) FROM alert_events WHERE notified_at IS NULL),
          (SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL)
        """
    )
    assert row is not None
    return DeliveryHealth(
        outbox_pending=int(row[0]),
        outbox_failed=int(row[1]),
        oldest_pending_at=from_db_time(row[2]),
        last_outbox_done_at=from_db_time(row[3]),
        last_survey_sent_at=from_db_time(row[4]),
        alerts_unnotified=int(row[5]),
        alerts_open=int(row[6]),
    )
