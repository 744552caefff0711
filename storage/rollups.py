"""Per-day rollups of the answers: score histograms and driver counts, kept exact.

``answer_rollups`` holds, per local day (in the zone recorded in ``rollup_state``), survey
kind, event type and score, how many answers there were: once as a total
(``attr_key = ''``) and once per attribute of the survey's snapshot (``attr_key`` the
attribute's name, ``attr_value`` its value as SQLite's ``CAST(... AS TEXT)`` gives it, as
the raw filters compare it). ``driver_rollups`` counts the drivers picked per day and
category. Reports over whole local days read these rows (O(days x segments)) instead of
scanning the answers; anything the rollups cannot answer exactly (bounds that are not local
midnights of the recorded zone, an attribute split filtered by another attribute) falls
back to the raw query in :mod:`storage.reports`.

Exactness: every change that moves a figure goes through :func:`retract` (before: the
answers' contributions as they are now are taken away) and :func:`add` (after: their new
contributions are added), inside the transaction of the change. The writers are
:func:`storage.answers.record_score` (add), the drivers step in :mod:`storage.answers`
(drivers only), the erasure and the retention of survey attributes in
:mod:`storage.privacy`. :func:`differences` recomputes everything from the answers and
compares (``npsbot rollups rebuild --check``); :func:`rebuild` replaces the rollups, which
:func:`ensure_zone` does at start-up when the configured zone changed.

Beside other chats' transactions (chat-scoped on PostgreSQL) the upkeep stays exact: each
change is one ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` (the server
applies it to the row's latest version), and its rows are taken in key order, so two
transactions that share rows lock them in the same order and never wait in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.periods import Period
from bot.core.records import from_db_time_req, to_db_time
from storage.db import Tx
from storage.dialect import Dialect

_CHUNK = 400


def _answer_contributions(dialect: Dialect, source: str) -> str:
    """The contributions of answers (``a``) of surveys (``s``) on days ``d`` (``day``)."""
    return f"""
    SELECT CAST('' AS TEXT) AS attr_key, d.day AS day, CAST('' AS TEXT) AS attr_value,
           s.kind AS kind, COALESCE(s.event_type, '') AS event_type, a.score AS score
    FROM {source}
    UNION ALL
    SELECT j.key, d.day, {dialect.entry_text("j")}, s.kind, COALESCE(s.event_type, ''), a.score
    FROM {source}, {dialect.json_object_entries("s.attributes", "j")}
    WHERE {dialect.entry_not_null("j")}
    """


def _driver_contributions(dialect: Dialect, source: str) -> str:
    """The drivers picked in answers (``a``) on days ``d`` (``day``)."""
    return f"""
    SELECT d.day AS day, a.category AS category, {dialect.entry_text("dr")} AS driver
    FROM {source}, {dialect.json_array_items("a.drivers", "dr")}
    WHERE a.drivers IS NOT NULL
    """


# --- the zone ----------------------------------------------------------------------------


async def zone_name(tx: Tx) -> str:
    """The time zone whose local days the rollups count."""
    row = await tx.fetchone("SELECT timezone FROM rollup_state WHERE id = 1")
    return str(row[0]) if row else "UTC"


def local_day(instant: datetime, tz: ZoneInfo) -> str:
    """The local date (ISO text) of an aware instant in ``tz``."""
    return instant.astimezone(tz).date().isoformat()


def whole_days(bounds: Sequence[datetime], tz: ZoneInfo) -> list[date] | None:
    """The local dates whose midnights are ``bounds`` (UTC instants), or None when one of
    them is not a local midnight in ``tz`` (the rollups cannot answer then)."""
    days = []
    for bound in bounds:
        day = bound.astimezone(tz).date()
        if Period(day, day).utc_bounds(tz)[0] != bound.astimezone(UTC):
            return None
        days.append(day)
    return days


# --- incremental maintenance ---------------------------------------------------------------


async def _days_of(tx: Tx, survey_ids: Sequence[int], tz: ZoneInfo) -> list[tuple[int, str]]:
    marks = ",".join("?" for _ in survey_ids)
    rows = await tx.fetchall(
        f"SELECT survey_id, scored_at FROM answers WHERE survey_id IN ({marks})",
        list(survey_ids),
    )
    return [(int(r[0]), local_day(from_db_time_req(r[1]), tz)) for r in rows]


async def _change(tx: Tx, survey_ids: Iterable[int], sign: int, *, scores: bool) -> None:
    ids = sorted(set(survey_ids))
    if not ids:
        return
    tz = ZoneInfo(await zone_name(tx))
    for start in range(0, len(ids), _CHUNK):
        pairs = await _days_of(tx, ids[start : start + _CHUNK], tz)
        if not pairs:
            continue
        values = ", ".join("(?, ?)" for _ in pairs)
        params: list[object] = [v for pair in pairs for v in pair]
        driver_source = "d JOIN answers a ON a.survey_id = d.survey_id"
        source = f"{driver_source} JOIN surveys s ON s.id = a.survey_id"
        if scores:
            await tx.execute(
                f"""
                WITH d(survey_id, day) AS (VALUES {values})
                INSERT INTO answer_rollups (attr_key, day, attr_value, kind, event_type,
                                            score, n)
                SELECT attr_key, day, attr_value, kind, event_type, score, ? * COUNT(*)
                FROM ({_answer_contributions(tx.dialect, source)}) AS c
                GROUP BY attr_key, day, attr_value, kind, event_type, score
                ORDER BY attr_key, day, attr_value, kind, event_type, score
                ON CONFLICT (attr_key, day, attr_value, kind, event_type, score)
                DO UPDATE SET n = answer_rollups.n + excluded.n
                """,
                [*params, sign],
            )
        await tx.execute(
            f"""
            WITH d(survey_id, day) AS (VALUES {values})
            INSERT INTO driver_rollups (day, category, driver, n)
            SELECT day, category, driver, ? * COUNT(*)
            FROM ({_driver_contributions(tx.dialect, driver_source)}) AS c
            GROUP BY day, category, driver
            ORDER BY day, category, driver
            ON CONFLICT (day, category, driver) DO UPDATE SET n = driver_rollups.n + excluded.n
            """,
            [*params, sign],
        )
    if sign > 0:
        # Rows that fell to zero (a retraction not given back) are noise: drop them through
        # the partial indexes that hold only them.
        if scores:
            await tx.execute("DELETE FROM answer_rollups WHERE n = 0")
        await tx.execute("DELETE FROM driver_rollups WHERE n = 0")


async def add(tx: Tx, survey_ids: Iterable[int], *, scores: bool = True) -> None:
    """Count these surveys' answers as they are now (after a change, or a new answer).
    ``scores=False`` touches the driver counts only (the drivers step)."""
    await _change(tx, survey_ids, +1, scores=scores)


async def retract(tx: Tx, survey_ids: Iterable[int], *, scores: bool = True) -> None:
    """Take these surveys' answers out of the counts as they are now (before a change)."""
    await _change(tx, survey_ids, -1, scores=scores)


# --- rebuild and check ---------------------------------------------------------------------


async def _compute(tx: Tx, tz: ZoneInfo, answers_table: str, drivers_table: str) -> None:
    """Fill the two (empty) tables from the answers, by local day in ``tz``."""
    row = await tx.fetchone("SELECT MIN(scored_at), MAX(scored_at) FROM answers")
    if row is None or row[0] is None:
        return
    first = from_db_time_req(row[0]).astimezone(tz).date()
    last = from_db_time_req(row[1]).astimezone(tz).date()
    await tx.execute("DROP TABLE IF EXISTS rollup_days")
    await tx.execute(
        "CREATE TEMP TABLE rollup_days (day TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL)"
    )
    rows = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        lo, hi = Period(day, day).utc_bounds(tz)
        rows.append((day.isoformat(), to_db_time(lo), to_db_time(hi)))
    await tx.executemany("INSERT INTO rollup_days VALUES (?, ?, ?)", rows)
    source = (
        "rollup_days d JOIN answers a ON a.scored_at >= d.lo AND a.scored_at < d.hi "
        "JOIN surveys s ON s.id = a.survey_id"
    )
    await tx.execute(
        f"""
        INSERT INTO {answers_table} (attr_key, day, attr_value, kind, event_type, score, n)
        SELECT attr_key, day, attr_value, kind, event_type, score, COUNT(*)
        FROM ({_answer_contributions(tx.dialect, source)}) AS c
        GROUP BY attr_key, day, attr_value, kind, event_type, score
        """
    )
    driver_source = "rollup_days d JOIN answers a ON a.scored_at >= d.lo AND a.scored_at < d.hi"
    await tx.execute(
        f"""
        INSERT INTO {drivers_table} (day, category, driver, n)
        SELECT day, category, driver, COUNT(*)
        FROM ({_driver_contributions(tx.dialect, driver_source)}) AS c
        GROUP BY day, category, driver
        """
    )
    await tx.execute("DROP TABLE rollup_days")


async def rebuild(tx: Tx, tz_name: str, now: datetime) -> None:
    """Recount everything from the answers, by local day in ``tz_name``."""
    tz = ZoneInfo(tz_name)
    await tx.execute("DELETE FROM answer_rollups")
    await tx.execute("DELETE FROM driver_rollups")
    await _compute(tx, tz, "answer_rollups", "driver_rollups")
    await tx.execute(
        "UPDATE rollup_state SET timezone = ?, built_at = ? WHERE id = 1",
        (tz_name, to_db_time(now)),
    )


async def ensure_zone(tx: Tx, tz_name: str, now: datetime) -> bool:
    """Rebuild when the rollups count days of another zone; True if it rebuilt."""
    if await zone_name(tx) == tz_name:
        return False
    await rebuild(tx, tz_name, now)
    return True


@dataclass(frozen=True, slots=True)
class Difference:
    """One rollup row whose count differs from the answers' (``stored`` vs ``actual``)."""

    table: str
    key: tuple[str, ...]
    stored: int
    actual: int


async def differences(tx: Tx, limit: int = 20) -> tuple[int, list[Difference]]:
    """Recount from the answers and compare with the stored rollups: (how many rows
    differ, the first ``limit`` of them)."""
    tz = ZoneInfo(await zone_name(tx))
    await tx.execute("DROP TABLE IF EXISTS answer_rollups_check")
    await tx.execute("DROP TABLE IF EXISTS driver_rollups_check")
    await tx.execute(
        "CREATE TEMP TABLE answer_rollups_check AS SELECT * FROM answer_rollups WHERE 1 = 0"
    )
    await tx.execute(
        "CREATE TEMP TABLE driver_rollups_check AS SELECT * FROM driver_rollups WHERE 1 = 0"
    )
    await _compute(tx, tz, "answer_rollups_check", "driver_rollups_check")
    found: list[Difference] = []
    total = 0
    comparisons = (
        ("answer_rollups", "attr_key, day, attr_value, kind, event_type, score"),
        ("driver_rollups", "day, category, driver"),
    )
    for table, key in comparisons:
        width = len(key.split(","))
        stored = f"SELECT {key}, n FROM {table} WHERE n <> 0"
        actual = f"SELECT {key}, n FROM {table}_check"
        sql = f"""
            SELECT *, 0 FROM ({stored} EXCEPT {actual}) AS only_stored
            UNION ALL
            SELECT *, 1 FROM ({actual} EXCEPT {stored}) AS only_actual
            """
        merged: dict[tuple[str, ...], list[int]] = {}
        for row in await tx.fetchall(sql):
            values = list(row)
            counts = merged.setdefault(tuple(str(v) for v in values[:width]), [0, 0])
            counts[int(values[width + 1])] = int(values[width])
        total += len(merged)
        for item, (stored_n, actual_n) in sorted(merged.items()):
            if len(found) < limit:
                found.append(Difference(table, item, stored_n, actual_n))
    await tx.execute("DROP TABLE answer_rollups_check")
    await tx.execute("DROP TABLE driver_rollups_check")
    return total, found


# --- reading -------------------------------------------------------------------------------


def _segment(
    event_type: str | None, kind: str | None, attribute: tuple[str, str] | None
) -> tuple[str, list[object]]:
    clauses = ["attr_key = ?"]
    params: list[object] = [attribute[0] if attribute else ""]
    if attribute is not None:
        clauses.append("attr_value = ?")
        params.append(attribute[1])
    if event_type is not None:
        clauses.append("event_type = ?")
        params.append(event_type)
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind)
    return " AND ".join(clauses), params


async def daily_histograms(
    tx: Tx,
    first: date,
    end: date,
    *,
    event_type: str | None = None,
    kind: str | None = None,
    attribute: tuple[str, str] | None = None,
) -> dict[date, list[int]]:
    """Per local day in ``[first, end)``: the 11-bucket score histogram of the segment."""
    where, params = _segment(event_type, kind, attribute)
    result: dict[date, list[int]] = {}
    rows = await tx.fetchall(
        f"""
        SELECT day, score, SUM(n) FROM answer_rollups
        WHERE {where} AND day >= ? AND day < ?
        GROUP BY day, score
        """,
        [*params, first.isoformat(), end.isoformat()],
    )
    for day, score, n in rows:
        result.setdefault(date.fromisoformat(day), [0] * 11)[int(score)] += int(n)
    return result


async def group_histograms(
    tx: Tx,
    first: date,
    end: date,
    column: str,
    *,
    event_type: str | None = None,
    kind: str | None = None,
    attribute: tuple[str, str] | None = None,
    split_attribute: str | None = None,
) -> dict[str, list[int]]:
    """Score histograms over the local days ``[first, end)`` per value of ``column``
    (``"kind"``, ``"event_type"``, or ``"attr_value"`` of the attribute ``split_attribute``).
    An attribute split holds only the answers whose snapshot has the attribute; the caller
    derives those without it from the totals."""
    if column not in {"kind", "event_type", "attr_value"}:
        raise ValueError(f"unknown rollup column {column!r}")
    if column == "attr_value":
        if split_attribute is None or attribute is not None:
            raise ValueError("an attribute split takes the attribute and no attribute filter")
        where, params = _segment(event_type, kind, None)
        params[0] = split_attribute  # the first clause is attr_key = ?
    else:
        where, params = _segment(event_type, kind, attribute)
    groups: dict[str, list[int]] = {}
    rows = await tx.fetchall(
        f"""
        SELECT {column}, score, SUM(n) FROM answer_rollups
        WHERE {where} AND day >= ? AND day < ?
        GROUP BY {column}, score
        """,
        [*params, first.isoformat(), end.isoformat()],
    )
    for value, score, n in rows:
        groups.setdefault(str(value), [0] * 11)[int(score)] += int(n)
    return groups


async def driver_totals(tx: Tx, first: date, end: date) -> list[tuple[str, str, int]]:
    """(category, driver, answers that picked it) over the local days ``[first, end)``."""
    return [
        (str(c), str(d), int(n))
        for c, d, n in await tx.fetchall(
            """
        SELECT category, driver, SUM(n) AS total FROM driver_rollups
        WHERE day >= ? AND day < ?
        GROUP BY category, driver HAVING SUM(n) <> 0
        """,
            (first.isoformat(), end.isoformat()),
        )
    ]
