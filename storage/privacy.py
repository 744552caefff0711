"""All SQL of the customers' privacy: the export of a customer's data, erasure, retention,
and the record of each erasure and retention run.

What happens to each table and column is decided in :mod:`bot.core.privacy_plan`; this module
applies it. Columns the plan names but the schema lacks (an older or newer schema) are
skipped, so the plan can name columns of every schema version.

Erased text must not survive in the file: the connection runs with ``secure_delete`` on
(:meth:`storage.db.Database.open`), so SQLite overwrites deleted and replaced content with
zeros, and :meth:`storage.db.Database.checkpoint` empties the write-ahead log afterwards.
On PostgreSQL the old row versions stay in the table's pages until (auto)vacuum reclaims
them and later writes reuse the space (README, "Scaling").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.privacy_plan import (
    ERASURE_PLAN,
    RETENTION_PLAN,
    Action,
    RetentionRule,
    Rows,
    new_token,
)
from bot.core.records import from_db_time, to_db_time
from storage import rollups
from storage.db import Database, Tx
from storage.outbox import ABOUT

ERASED = "erased"  # status_reason of surveys closed by an erasure
_JSON_COLUMNS = frozenset({"attributes", "drivers", "params", "body", "counts"})
RETENTION_BATCH = 500


@dataclass(frozen=True, slots=True)
class CustomerData:
    """Everything stored about one customer, as stored (JSON columns decoded)."""

    customer: dict[str, Any]
    surveys: list[dict[str, Any]]
    answers: dict[int, dict[str, Any]]  # by survey id


@dataclass(frozen=True, slots=True)
class PrivacyRun:
    """One erasure or retention run, as recorded."""

    id: int
    kind: str  # "erasure" or "retention"
    source: str  # "customer", "api", "cli" or "job"
    started_at: datetime
    finished_at: datetime
    cutoff: datetime | None
    customer_id: int | None
    total: int
    counts: dict[str, int]


def _decode(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 (Row iterates values, not keys)
        value = row[key]
        if key in _JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out


async def table_columns(tx: Tx, table: str) -> list[str]:
    """The columns ``table`` has in this database (empty if it has no such table)."""
    return [str(r[0]) for r in await tx.fetchall(tx.dialect.table_columns_sql, (table,))]


async def user_tables(tx: Tx) -> list[str]:
    """Every table of the schema except the engine's own (and the schema version)."""
    return [str(r[0]) for r in await tx.fetchall(tx.dialect.user_tables_sql)]


# --- export ---------------------------------------------------------------------------------


async def customer_data(tx: Tx, customer_id: int) -> CustomerData | None:
    """Every column of the customer's row, their surveys and their answers."""
    row = await tx.fetchone("SELECT * FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        return None
    surveys = [
        _decode(r)
        for r in await tx.fetchall(
            "SELECT * FROM surveys WHERE customer_id = ? ORDER BY id", (customer_id,)
        )
    ]
    answers = {
        int(r["survey_id"]): _decode(r)
        for r in await tx.fetchall(
            "SELECT a.* FROM answers a JOIN surveys s ON s.id = a.survey_id "
            "WHERE s.customer_id = ? ORDER BY a.survey_id",
            (customer_id,),
        )
    }
    return CustomerData(_decode(row), surveys, answers)


# --- erasure --------------------------------------------------------------------------------

_SURVEYS_OF = "SELECT id FROM surveys WHERE customer_id = :cid"
# The same ids as text, to compare with ids read out of JSON (text on both engines).
_SURVEY_IDS_TEXT = "SELECT CAST(id AS TEXT) FROM surveys WHERE customer_id = :cid"
_WHERE: dict[Rows, str] = {
    Rows.CUSTOMER: "id = :cid",
    Rows.SURVEYS: "customer_id = :cid",
    Rows.BY_SURVEY: f"survey_id IN ({_SURVEYS_OF})",
    Rows.BY_ALERT: f"alert_id IN (SELECT id FROM alerts WHERE survey_id IN ({_SURVEYS_OF}))",
    Rows.BY_CUSTOMER: "customer_id = :cid",
}


async def _scalar_list(tx: Tx, sql: str, params: Any) -> list[Any]:
    return [r[0] for r in await tx.fetchall(sql, params)]


async def erase_customer(tx: Tx, customer_id: int, now: datetime) -> dict[str, int] | None:
    """Erase the customer's personal data in every table, inside ``tx``; returns the rows
    changed or deleted per table (None if there is no such customer, or it was already
    erased). The caller commits, records the run and checkpoints."""
    tables = set(await user_tables(tx))
    params: dict[str, Any] = {"cid": customer_id}
    row = await tx.fetchone(
        "SELECT external_id, chat_id FROM customers WHERE id = :cid AND erased_at IS NULL", params
    )
    if row is None:
        return None
    external_id, chat_id = str(row[0]), row[1]
    stamp = to_db_time(now)
    params.update(now=stamp, token=new_token(), erased=ERASED)

    # Before anything is blanked: the chats the customer was written to.
    chats = {
        int(c)
        for c in await _scalar_list(
            tx,
            "SELECT chat_id FROM surveys WHERE customer_id = :cid AND chat_id IS NOT NULL",
            params,
        )
    }
    if chat_id is not None:
        chats.add(int(chat_id))
    params["ext"] = external_id

    counts: dict[str, int] = {}
    # The answers keep counting, as what is left of them (no attributes, no drivers).
    answered = [
        int(i)
        for i in await _scalar_list(
            tx, f"SELECT survey_id FROM answers WHERE survey_id IN ({_SURVEYS_OF})", params
        )
    ]
    await rollups.retract(tx, answered)

    # Nothing is sent to an erased customer any more: open surveys close, open
    # conversations end (a later button press finds no survey of that chat).
    await tx.execute(
        "UPDATE surveys SET status = 'skipped', status_reason = :erased, closed_at = :now "
        "WHERE customer_id = :cid AND status = 'pending'",
        params,
    )
    await tx.execute(
        "UPDATE surveys SET status = 'expired', status_reason = :erased, closed_at = :now "
        "WHERE customer_id = :cid AND status = 'sent'",
        params,
    )
    await tx.execute(
        f"UPDATE answers SET completed_at = :now WHERE completed_at IS NULL "
        f"AND survey_id IN ({_SURVEYS_OF})",
        params,
    )

    # Deletions first: they select rows through surveys and alerts that stay.
    for table, rule in ERASURE_PLAN.items():
        if table not in tables or not rule.delete or rule.rows not in _WHERE:
            continue
        where = _WHERE[rule.rows]
        if table == "ops_events":
            where = f"({where}) OR customer_external_id = :ext"
        changed = await tx.execute(f"DELETE FROM {table} WHERE {where}", params)
        counts[table] = changed

    # Messages and deliveries are found by keys and named JSON fields only, never by
    # searching their text: another customer's "Took 7 days" must survive erasing "7".
    if "outbox" in tables:
        marks = ",".join(str(int(c)) for c in sorted(chats)) or "NULL"
        about = tx.dialect.json_member_array_items("outbox.params", ABOUT, "about")
        changed = await tx.execute(
            f"""
            DELETE FROM outbox
            WHERE chat_id IN ({marks})
               OR survey_id IN ({_SURVEYS_OF})
               OR EXISTS (SELECT 1 FROM {about}
                          WHERE {tx.dialect.entry_text("about")} IN ({_SURVEY_IDS_TEXT}))
            """,
            params,
        )
        counts["outbox"] = changed

    if "inbox" in tables:
        # Updates still waiting are done with unhandled: the erasure came first.
        marks = ",".join(str(int(c)) for c in sorted(chats)) or "NULL"
        counts["inbox"] = await tx.execute(
            f"""
            UPDATE inbox SET chat_id = NULL, payload = NULL,
                outcome = COALESCE(outcome, 'erased'),
                handled_at = COALESCE(handled_at, :now)
            WHERE chat_id IN ({marks})
            """,
            params,
        )

    if "webhook_deliveries" in tables:
        # A pending delivery is given up: the receiver must not get the erased data.
        changed = await tx.execute(
            f"""
            UPDATE webhook_deliveries SET body = '{{}}',
                last_error = CASE WHEN delivered_at IS NULL AND failed_at IS NULL
                                  THEN 'erased' ELSE last_error END,
                failed_at = CASE WHEN delivered_at IS NULL AND failed_at IS NULL
                                 THEN :now ELSE failed_at END
            WHERE {tx.dialect.json_path_text("body", "data", "customer", "id")} = :ext
               OR {tx.dialect.json_path_text("body", "data", "survey", "id")}
                  IN ({_SURVEY_IDS_TEXT})
            """,
            params,
        )
        counts["webhook_deliveries"] = changed

    # Then blank the personal columns of the rows that stay.
    for table, rule in ERASURE_PLAN.items():
        if table not in tables or rule.delete or rule.rows not in _WHERE:
            continue
        present = set(await table_columns(tx, table))
        sets = []
        for column, action in rule.updates().items():
            if column not in present:
                continue  # a column of another schema version
            value = {
                Action.NULL: "NULL",
                Action.EMPTY: "'{}'",
                Action.TOKEN: ":token",
                Action.NOW: ":now",
            }[action]
            sets.append(f"{column} = {value}")
        if not sets:
            continue
        changed = await tx.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE {_WHERE[rule.rows]}", params
        )
        counts[table] = changed
    await rollups.add(tx, answered)
    return {table: n for table, n in sorted(counts.items()) if n}


# --- retention ------------------------------------------------------------------------------


async def anonymise_older_than(db: Database, cutoff: datetime) -> dict[str, int]:
    """Apply :data:`bot.core.privacy_plan.RETENTION_PLAN` to everything older than ``cutoff``,
    in batches of :data:`RETENTION_BATCH` rows per transaction so that a large backlog
    never holds the database (and every customer's update) for long. Idempotent: a run
    interrupted by a crash is finished by the next one."""
    counts: dict[str, int] = {}
    stamp = to_db_time(cutoff)
    for rule in RETENTION_PLAN:
        async with db.read() as tx:
            if not await table_columns(tx, rule.table):
                continue
        total = 0
        while True:
            if rule.table == "surveys":
                changed = await _anonymise_surveys(db, rule, stamp)
                total += changed
                if changed < RETENTION_BATCH:
                    break
                continue
            async with db.transaction() as tx:
                changed = await tx.execute(
                    f"""
                    UPDATE {rule.table} SET {rule.set_sql} WHERE id IN (
                        SELECT id FROM {rule.table}
                        WHERE {rule.kept_sql} AND {rule.age_sql} < ? LIMIT ?)
                    """,
                    (stamp, RETENTION_BATCH),
                )
            total += changed
            if changed < RETENTION_BATCH:
                break
        counts[rule.key] = total
    return counts


async def _anonymise_surveys(db: Database, rule: RetentionRule, stamp: str) -> int:
    """One batch of a retention rule on surveys, with the rollups moved in step (a survey's
    attribute snapshot is what the per-attribute figures count)."""
    async with db.transaction() as tx:
        ids = [
            int(i)
            for i in await _scalar_list(
                tx,
                f"SELECT id FROM surveys WHERE {rule.kept_sql} AND {rule.age_sql} < ? LIMIT ?",
                (stamp, RETENTION_BATCH),
            )
        ]
        if not ids:
            return 0
        await rollups.retract(tx, ids)
        changed = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            changed = await tx.execute(
                f"UPDATE surveys SET {rule.set_sql} WHERE id IN ({marks})", chunk
            )
            changed += changed
        await rollups.add(tx, ids)
    return changed


# --- the record of runs ---------------------------------------------------------------------


async def record_run(
    tx: Tx,
    kind: str,
    source: str,
    started_at: datetime,
    finished_at: datetime,
    counts: dict[str, int],
    *,
    cutoff: datetime | None = None,
    customer_id: int | None = None,
) -> int:
    """Record an erasure or a retention run (ids and counts only, never personal data)."""
    run_id = await tx.fetchval(
        """
        INSERT INTO privacy_log (kind, source, started_at, finished_at, cutoff, customer_id,
                                 total, counts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
        """,
        (
            kind,
            source,
            to_db_time(started_at),
            to_db_time(finished_at),
            to_db_time(cutoff) if cutoff else None,
            customer_id,
            sum(counts.values()),
            json.dumps(counts, sort_keys=True),
        ),
    )
    return int(run_id)


def _run(row: Any) -> PrivacyRun:
    started = from_db_time(row["started_at"])
    finished = from_db_time(row["finished_at"])
    assert started is not None and finished is not None
    return PrivacyRun(
        id=row["id"],
        kind=row["kind"],
        source=row["source"],
        started_at=started,
        finished_at=finished,
        cutoff=from_db_time(row["cutoff"]),
        customer_id=row["customer_id"],
        total=row["total"],
        counts={str(k): int(v) for k, v in json.loads(row["counts"]).items()},
    )


async def last_run(tx: Tx, kind: str) -> PrivacyRun | None:
    """The latest recorded run of ``kind`` ("erasure" or "retention")."""
    row = await tx.fetchone(
        "SELECT * FROM privacy_log WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,)
    )
    return _run(row) if row else None


async def count_runs(tx: Tx, kind: str) -> int:
    """How many runs of ``kind`` were recorded."""
    row = await tx.fetchone("SELECT COUNT(*) FROM privacy_log WHERE kind = ?", (kind,))
    return int(row[0]) if row else 0
