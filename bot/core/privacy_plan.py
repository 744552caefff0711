"""What erasure and retention do to every column of every table.

The plan is data, not code, so that a test can check it against the migrated schema: a
table or column added by a later schema version and not classified here fails that test
(``tests/privacy/test_plan.py``) until someone decides whether it is personal.

The rule that keeps past NPS figures unchanged: survey rows, scores, categories and dates
stay; they carry no identity once the customer row is unlinked (its external id replaced by
a random token, its chat id and everything else personal gone). Whatever could identify a
person, or is their own words, is erased.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    """What erasure does to a column of the rows it touches."""

    KEEP = "keep"  # not personal once the customer row is unlinked
    NULL = "null"  # set to NULL
    EMPTY = "empty"  # set to the empty JSON object '{}'
    TOKEN = "token"  # replaced by an irreversible random token
    NOW = "now"  # set to the time of the erasure


class Rows(StrEnum):
    """Which rows of a table belong to the customer being erased."""

    CUSTOMER = "customer"  # the customer row itself
    SURVEYS = "surveys"  # rows of the customer's surveys
    BY_SURVEY = "by_survey"  # rows whose survey_id is one of the customer's surveys
    BY_ALERT = "by_alert"  # rows whose alert_id is an alert on one of those surveys
    BY_CUSTOMER = "by_customer"  # rows whose customer_id is the customer
    # rows addressed to the customer's chats, tied to their surveys, or naming them in a
    # structured field (outbox: the surveys a message is about; webhook bodies: the
    # customer's and survey's ids); never found by searching text
    MENTIONS = "mentions"
    NONE = "none"  # nothing personal in this table: never touched


@dataclass(frozen=True)
class TableRule:
    """Erasure of one table: which rows, then delete them or apply ``columns``."""

    rows: Rows
    why: str
    delete: bool = False
    columns: dict[str, Action] = field(default_factory=dict)

    def updates(self) -> dict[str, Action]:
        """The columns erasure changes (everything but KEEP)."""
        return {c: a for c, a in self.columns.items() if a is not Action.KEEP}


def _keep(*names: str) -> dict[str, Action]:
    return dict.fromkeys(names, Action.KEEP)


ERASURE_PLAN: dict[str, TableRule] = {
    "customers": TableRule(
        Rows.CUSTOMER,
        "the person: unlinked for good; the row stays so their surveys keep a parent",
        columns={
            **_keep("id", "opted_out", "blocked", "created_at"),
            "external_id": Action.TOKEN,
            "chat_id": Action.NULL,
            "language": Action.NULL,
            "telegram_language": Action.NULL,  # schema v005
            "attributes": Action.EMPTY,
            "linked_at": Action.NULL,
            "updated_at": Action.NOW,
            "erased_at": Action.NOW,  # schema v006
            "relink_key": Action.NULL,  # schema v007
        },
    ),
    "surveys": TableRule(
        Rows.SURVEYS,
        "kind, event type, status and dates feed past reports; where and to whom not",
        columns={
            **_keep(
                "id",
                "customer_id",
                "kind",
                "event_type",
                "status",
                "status_reason",
                "send_at",
                "send_attempts",
                "send_started_at",
                "created_at",
                "sent_at",
                "answered_at",
                "closed_at",
                "reminded_at",
            ),
            # The company's event ids (order numbers, ticket ids, and relationship ids that
            # embed the customer id) lead straight back to the person in its own systems.
            "event_id": Action.NULL,
            "attributes": Action.EMPTY,
            "chat_id": Action.NULL,
            "message_id": Action.NULL,
        },
    ),
    "answers": TableRule(
        Rows.BY_SURVEY,
        "score, category and dates are the anonymous counts; the customer's words go",
        columns={
            **_keep(
                "id",
                "survey_id",
                "score",
                "category",
                "scored_at",
                "reason_at",
                "completed_at",
                "drivers_done_at",
                "themed_at",  # schema v007
            ),
            "reason": Action.NULL,
            "reason_message_id": Action.NULL,
            "drivers": Action.NULL,  # schema v005
            "drivers_message_id": Action.NULL,  # schema v005
        },
    ),
    "alerts": TableRule(
        Rows.BY_SURVEY,
        "follow-up counts stay; an admin's note about the customer goes (resolved_by "
        "names the admin, not the customer)",
        columns={
            **_keep("id", "survey_id", "created_at", "followed_up_at", "resolved_at"),
            **_keep("resolved_by"),
            "resolved_note": Action.NULL,
        },
    ),
    "alert_events": TableRule(
        Rows.NONE,
        "ids, kinds and times only",
        columns=_keep("id", "alert_id", "kind", "created_at", "notified_at"),
    ),
    "alert_deliveries": TableRule(
        Rows.NONE,
        "which admin chat got which alert event",
        columns=_keep("event_id", "chat_id", "queued_at"),
    ),
    "reply_drafts": TableRule(
        Rows.BY_ALERT,
        "an admin's pending reply to the customer: nobody to send it to any more",
        delete=True,
        columns=_keep("chat_id", "user_id", "alert_id", "alert_message_id", "created_at"),
    ),
    "relays": TableRule(
        Rows.BY_CUSTOMER,
        "the customer's next message would go to an admin chat",
        delete=True,
        columns=_keep(
            "id",
            "customer_id",
            "alert_id",
            "admin_chat_id",
            "alert_message_id",
            "opened_at",
            "expires_at",
            "answered_at",
        ),
    ),
    "link_uses": TableRule(  # schema v007
        Rows.BY_CUSTOMER,
        "which of the customer's links were used: nothing to protect once erased",
        delete=True,
        columns=_keep("customer_id", "link_key", "used_at"),
    ),
    "link_refusals": TableRule(  # schema v007
        Rows.BY_CUSTOMER,
        "refused attempts to link a chat to the customer",
        delete=True,
        columns=_keep("id", "customer_id", "reason", "attempted_at"),
    ),
    "ops_events": TableRule(
        Rows.BY_SURVEY,
        "idempotency records holding the company's customer id and event ids; a replay "
        "after erasure is a new event for an unlinked customer (skipped: not_linked)",
        delete=True,
        columns=_keep(
            "event_id",
            "survey_id",
            "customer_external_id",
            "event_type",
            "kind",
            "occurred_at",
            "received_at",
            "outcome",
            "reason",
            "send_at",
        ),
    ),
    "outbox": TableRule(
        Rows.MENTIONS,
        "message texts to the customer's chats, and admin messages naming them or "
        "quoting their words (alerts, relayed replies); pending ones are not sent",
        delete=True,
        columns=_keep(
            "id",
            "chat_id",
            "method",
            "params",
            "survey_id",
            "created_at",
            "attempts",
            "started_at",
            "done_at",
            "failed_at",
            "last_error",
        ),
    ),
    "webhook_deliveries": TableRule(
        Rows.MENTIONS,
        "bodies carry the customer id, attributes and reason: replaced by a stub; a "
        "pending delivery is given up (the receiver never gets the erased data)",
        columns={
            **_keep(
                "id",
                "event_id",
                "event_type",
                "endpoint_url",
                "created_at",
                "attempts",
                "next_attempt_at",
                "delivered_at",
                "last_status",
                "last_error",
            ),
            "body": Action.EMPTY,
            "failed_at": Action.NOW,  # only where still pending
        },
    ),
    "answer_themes": TableRule(
        Rows.BY_SURVEY,
        "the themes read in the customer's words (schema v007): they go with the words",
        delete=True,
        columns=_keep("survey_id", "theme", "kind", "score", "themed_at"),
    ),
    "theme_models": TableRule(
        Rows.NONE,
        "the trained model: word weights learned from all comments together, no answer's own",
        columns=_keep("id", "trained_at", "comments", "model"),
    ),
    "theme_registry": TableRule(
        Rows.NONE,
        "emerging themes named by key words shared by several comments, and their counts",
        columns=_keep("id", "name", "keywords", "first_seen", "last_seen", "comments"),
    ),
    "inbox": TableRule(  # schema v011
        Rows.MENTIONS,
        "updates from the customer's chats: a handled one holds only its id and times, an "
        "unhandled one their words until handled; the rows stay (ids and times, so a "
        "redelivery still changes nothing) without the chat or the words, and an unhandled "
        "one is done with (outcome 'erased')",
        columns={
            **_keep("update_id", "received_at"),
            "chat_id": Action.NULL,
            "payload": Action.NULL,
            "handled_at": Action.NOW,  # only where still unhandled
            "outcome": Action.KEEP,  # 'erased' where still unhandled
        },
    ),
    "digests": TableRule(
        Rows.NONE,
        "one row per day sent",
        columns=_keep("period", "day", "status", "claimed_at", "sent_at", "chats_sent"),
    ),
    "answer_rollups": TableRule(
        Rows.NONE,
        "per-day counts; erasure and retention move the customer's answers out of their "
        "attribute values in the same transaction (storage/rollups.py) and a row that falls "
        "to zero is deleted, so no value outlives the snapshots it was counted from",
        columns=_keep("attr_key", "day", "attr_value", "kind", "event_type", "score", "n"),
    ),
    "driver_rollups": TableRule(
        Rows.NONE,
        "per-day counts of driver ids (the questionnaire's, not the customer's words)",
        columns=_keep("day", "category", "driver", "n"),
    ),
    "rollup_state": TableRule(
        Rows.NONE,
        "the rollups' time zone",
        columns=_keep("id", "timezone", "built_at"),
    ),
    "privacy_log": TableRule(
        Rows.NONE,
        "erasure and retention runs: internal ids and counts only",
        columns=_keep(
            "id",
            "kind",
            "source",
            "started_at",
            "finished_at",
            "cutoff",
            "customer_id",
            "total",
            "counts",
        ),
    ),
}


ERASED_PREFIX = "erased:"


def new_token() -> str:
    """The external id an erased customer gets: random, so it cannot be reversed, and
    prefixed so that it is recognisable in the database."""
    return ERASED_PREFIX + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class RetentionRule:
    """One kind of data retention anonymises once it is older than the cut-off."""

    key: str  # the name the run's counts use
    table: str
    set_sql: str  # the SET clause
    age_sql: str  # the column (expression) compared with the cut-off
    kept_sql: str  # rows that still hold something to anonymise
    why: str


RETENTION_PLAN: tuple[RetentionRule, ...] = (
    RetentionRule(
        "answer_texts",
        "answers",
        "reason = NULL, reason_message_id = NULL",
        "scored_at",
        "reason IS NOT NULL",
        "the customer's own words, dated by the answer",
    ),
    RetentionRule(
        "customer_attributes",
        "customers",
        "attributes = '{}'",
        "updated_at",
        "attributes <> '{}'",
        "attributes of customers nobody has updated (or linked, or heard from) since",
    ),
    RetentionRule(
        "survey_attributes",
        "surveys",
        "attributes = '{}'",
        "created_at",
        "attributes <> '{}'",
        "the attribute snapshot of each survey, dated by the survey",
    ),
    RetentionRule(
        "alert_notes",
        "alerts",
        "resolved_note = NULL",
        "resolved_at",
        "resolved_note IS NOT NULL",
        "admins' notes about a customer's answer",
    ),
    RetentionRule(
        "message_texts",
        "outbox",
        "params = '{}'",
        "COALESCE(done_at, failed_at)",
        "params <> '{}' AND (done_at IS NOT NULL OR failed_at IS NOT NULL)",
        "texts of messages already sent (or given up): quotes of answers, alerts",
    ),
    RetentionRule(
        "webhook_bodies",
        "webhook_deliveries",
        "body = '{}'",
        "COALESCE(delivered_at, failed_at)",
        "body <> '{}' AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL)",
        "bodies of deliveries already made (or given up)",
    ),
)
