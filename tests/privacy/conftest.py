"""Privacy test helpers: a customer with data in every table, a dump of every table, and the
check that no personal value is left anywhere in the database file.

The dump and the checks read the schema (``sqlite_master``, ``pragma_table_info``), so a
table or column added later is searched too without changing this file.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.core.nps import Counts, nps
from bot.core.records import InboxUpdate, SurveyKind
from bot.settings import EVENT_TYPES, Endpoint, WebhookSettings
from bot.usecases.webhook_events import answer_payload, customer_payload, emit, survey_payload
from storage import (
    Database,
    Tx,
    alerts,
    answers,
    customers,
    digests,
    events,
    inbox,
    outbox,
    privacy,
    reports,
    surveys,
)
from storage.events import EventRecord

ADMIN_CHAT = -1001234567890
WEBHOOKS = WebhookSettings(
    endpoints=(
        Endpoint(1, "https://crm.example.com/hook", SecretStr("s" * 40), frozenset(EVENT_TYPES)),
    )
)
T0 = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


@dataclass
class Person:
    """A customer's personal values: none may remain after their erasure."""

    external_id: str
    chat_id: int
    reason: str
    attributes: dict[str, str]
    note: str
    customer_id: int = 0
    survey_ids: list[int] = field(default_factory=list)

    def strings(self) -> list[str]:
        """Every personal text, as it could be stored."""
        values = [self.external_id, self.reason, self.note, *self.attributes.values()]
        values.append(f"order-{self.external_id}-1")
        return values


def person(tag: str, chat_id: int) -> Person:
    """Distinctive values (they would never occur by chance in a database file)."""
    return Person(
        external_id=f"cust-{tag}-7731",
        chat_id=chat_id,
        reason=f'The courier {tag} was rude & late <again>, "never" again\nsigned Zoë {tag}',
        attributes={"plan": f"platinum-{tag}-zebra", "region": f"north-{tag}-fjord"},
        note=f"called {tag} back, refund 40 EUR issued",
    )


async def seed(db: Database, who: Person, now: datetime = T0, score: int = 3) -> Person:
    """Give ``who`` data in every table: linked chat, attributes, two answered surveys
    (reason, drivers), a pending one, an ops event, an alert with a note, its events and
    deliveries, a reply draft, a relay, outbox messages to their chat and to the admin chat
    quoting them, a webhook delivery, a processed update."""
    async with db.transaction() as tx:
        await customers.upsert(tx, who.external_id, now, who.attributes)
        customer, _ = await customers.link_chat(tx, who.external_id, who.chat_id, "de", now)
        who.customer_id = customer.id
        for n in (1, 2):
            survey = await surveys.create(
                tx,
                customer.id,
                SurveyKind.TRANSACTIONAL if n == 1 else SurveyKind.RELATIONSHIP,
                now,
                event_type="delivery",
                event_id=f"order-{who.external_id}-{n}",
                attributes=customer.attributes,
            )
            who.survey_ids.append(survey.id)
            await surveys.mark_send_started(tx, survey.id, now)
            await surveys.mark_sent(tx, survey.id, who.chat_id, 500 + n, now)
            await surveys.mark_answered(tx, survey.id, now)
            category = "detractor" if score <= 6 else "promoter" if score >= 9 else "passive"
            await answers.record_score(tx, survey.id, score + n - 1, category, now)
            await answers.record_reason(tx, survey.id, who.reason, 600 + n, now)
            await outbox.enqueue(
                tx,
                who.chat_id,
                "sendMessage",
                {"chat_id": who.chat_id, "text": f"You said: {who.reason}"},
                now,
                survey_id=survey.id,
            )
            await _emit(tx, survey.id, now)
        await tx.execute(
            'UPDATE answers SET drivers = \'["price", "speed"]\' WHERE survey_id = ?',
            (who.survey_ids[0],),
        )
        pending = await surveys.create(
            tx,
            customer.id,
            SurveyKind.TRANSACTIONAL,
            now + timedelta(hours=2),
            event_type="support",
            event_id=f"ticket-{who.external_id}",
        )
        who.survey_ids.append(pending.id)
        await events.record(
            tx,
            EventRecord(
                event_id=f"order-{who.external_id}-1",
                survey_id=who.survey_ids[0],
                customer_external_id=who.external_id,
                event_type="delivery",
                kind=SurveyKind.TRANSACTIONAL,
                occurred_at=now,
                received_at=now,
                outcome="queued",
                reason=None,
                send_at=now,
            ),
        )
        alert_id = await alerts.create(tx, who.survey_ids[0], now)
        stamp = "2024-06-03T12:00:00.000000Z"
        await tx.execute(
            "UPDATE alerts SET resolved_at = ?, resolved_by = 'Ann (1)', resolved_note = ? "
            "WHERE id = ?",
            (stamp, who.note, alert_id),
        )
        event_id = await tx.fetchval(
            "INSERT INTO alert_events (alert_id, kind, created_at) VALUES (?, 'score', ?) "
            "RETURNING id",
            (alert_id, stamp),
        )
        await tx.execute(
            "INSERT INTO alert_deliveries (event_id, chat_id, queued_at) VALUES (?, ?, ?)",
            (event_id, ADMIN_CHAT, stamp),
        )
        await tx.execute(
            "INSERT INTO reply_drafts VALUES (?, ?, ?, 900, ?)",
            (ADMIN_CHAT, who.customer_id, alert_id, stamp),
        )
        await tx.execute(
            "INSERT INTO relays (customer_id, alert_id, admin_chat_id, alert_message_id, "
            "opened_at, expires_at) VALUES (?, ?, ?, 900, ?, ?)",
            (customer.id, alert_id, ADMIN_CHAT, stamp, stamp),
        )
        flat = html.escape(" ".join(who.reason.split()), quote=False)
        await outbox.enqueue(
            tx,
            ADMIN_CHAT,
            "sendMessage",
            {
                "chat_id": ADMIN_CHAT,
                "text": f"Detractor 3\nCustomer <code>{who.external_id}</code>\n"
                f"Reason: <i>{flat[:180]}</i>",
                "parse_mode": "HTML",
            },
            now,
            about=[who.survey_ids[0]],  # as the bot records an alert message's subject
        )
        # The inbox: an update handled (its id and chat), one still waiting (their words).
        await inbox.claim(tx, who.chat_id * 10, who.chat_id, now)
        waiting = {
            "update_id": who.chat_id * 10 + 1,
            "message": {"chat": {"id": who.chat_id}, "text": who.reason},
        }
        await inbox.store(
            tx,
            [InboxUpdate(who.chat_id * 10 + 1, who.chat_id, json.dumps(waiting))],
            now,
        )
        await digests.record_baseline(tx, now.date() - timedelta(days=1), now)
    return who


async def _emit(tx: Tx, survey_id: int, now: datetime) -> None:
    found = await surveys.get_with_customer(tx, survey_id)
    answer = await answers.get_for_survey(tx, survey_id)
    assert found is not None and answer is not None
    survey, customer = found
    data = {
        "survey": survey_payload(survey),
        "answer": answer_payload(answer),
        "customer": customer_payload(customer),
    }
    await emit(tx, WEBHOOKS, "answer.reason", data, now)


async def dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (read from the schema, so new tables are included)."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with db.read() as tx:
        for table in await privacy.user_tables(tx):
            rows = await tx.fetchall(f"SELECT * FROM {table}")
            # In a stable order, the same on both engines: by the columns left to right (the
            # id first), a NULL before any value. PostgreSQL returns rows without ORDER BY in
            # no particular order (an updated row moves), SQLite happens to in rowid order.
            ordered = sorted(rows, key=lambda r: [(v is not None, v) for v in tuple(r)])
            out[table] = [dict(zip(r.keys(), tuple(r), strict=True)) for r in ordered]
    return out


def _needles(who: Person) -> list[str]:
    """Each personal text in the forms it can be stored in (raw, JSON-escaped,
    HTML-escaped, flattened), and its distinctive start."""
    forms: set[str] = set()
    for value in who.strings():
        flat = " ".join(value.split())
        for v in (value, flat, html.escape(flat, quote=False)):
            forms.add(v)
            forms.add(json.dumps(v, ensure_ascii=False)[1:-1])
            forms.add(json.dumps(v)[1:-1])
    forms.add(who.reason.split()[0] + " " + who.reason.split()[1] + " " + who.reason.split()[2])
    return sorted(forms)


async def assert_nothing_personal(db: Database, who: Person) -> dict[str, list[dict[str, Any]]]:
    """No personal value of ``who`` anywhere: not in any column of any table (their chat id
    not in any integer column either), and, on SQLite, not in the bytes of the database file
    or its write-ahead log after a checkpoint (no VACUUM: secure_delete must have zeroed
    it). PostgreSQL keeps old row versions until vacuum: there the rows are the check."""
    rows = await dump(db)
    needles = _needles(who)
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                if isinstance(value, int):
                    assert value != who.chat_id, f"{table}.{column} holds the chat id"
                    continue
                text = str(value)
                for needle in needles:
                    assert needle not in text, f"{table}.{column} holds {needle!r}: {text[:200]}"
                assert str(who.chat_id) not in text, f"{table}.{column} holds the chat id"
    assert await db.checkpoint(), "the WAL checkpoint was blocked by a reader"
    if db.target.engine != "sqlite":
        return rows
    data = file_bytes(db)
    for needle in [*needles, str(who.chat_id)]:
        for encoded in {needle.encode("utf-8"), needle.encode("utf-16-le")}:
            assert encoded not in data, f"{needle!r} is still in the database file"
    return rows


def file_bytes(db: Database) -> bytes:
    """The database file and its write-ahead log, as on disk."""
    path = Path(db.path)
    wal = Path(str(path) + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def assert_everything_personal_present(rows: dict[str, list[dict[str, Any]]], who: Person) -> None:
    """The opposite check, for the customers that were not erased (and to prove the search
    finds what it looks for)."""
    flat = json.dumps(rows, ensure_ascii=False)
    for value in (who.external_id, who.reason.split("\n")[0], who.note, *who.attributes.values()):
        assert json.dumps(value, ensure_ascii=False)[1:-1] in flat, value


async def nps_figures(db: Database, start: datetime, end: datetime) -> dict[str, Any]:
    """Past NPS figures as the reports compute them: per day histograms, and splits by kind
    and event type, plus the NPS of the whole period."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    async with db.read() as tx:
        per_day = await reports.histograms_by_day(tx, days)
        by_kind = await reports.histograms_by_group(tx, start, end, "kind")
        by_event = await reports.histograms_by_group(tx, start, end, "event_type")
    total = [sum(h[i] for h in per_day) for i in range(11)]
    counts = Counts(promoters=sum(total[9:]), passives=sum(total[7:9]), detractors=sum(total[:7]))
    return {
        "per_day": per_day,
        "by_kind": by_kind,
        "by_event": by_event,
        "nps": nps(counts),
        "n": counts.n,
    }
