"""Schema version 1: customers, surveys, answers, the message outbox, processed updates."""

from storage.schema import ID, TEXT, json_check

STATEMENTS: list[str] = [
    """
        CREATE TABLE customers (
            id           INTEGER PRIMARY KEY,
            external_id  TEXT NOT NULL UNIQUE,
            chat_id      INTEGER UNIQUE,
            language     TEXT,
            attributes   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
            opted_out    INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
            blocked      INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
            linked_at    TEXT,
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL
        )
        """,
    """
        CREATE TABLE surveys (
            id                 INTEGER PRIMARY KEY,
            customer_id        INTEGER NOT NULL REFERENCES customers(id),
            kind               TEXT NOT NULL
                               CHECK (kind IN ('transactional', 'relationship', 'episode')),
            event_type         TEXT,
            event_id           TEXT,
            status             TEXT NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'sent', 'answered', 'expired',
                                                 'failed', 'skipped')),
            status_reason      TEXT,
            attributes         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
            send_at            TEXT NOT NULL,
            send_attempts      INTEGER NOT NULL DEFAULT 0,
            send_started_at    TEXT,
            chat_id            INTEGER,
            message_id         INTEGER,
            created_at         TEXT NOT NULL,
            sent_at            TEXT,
            answered_at        TEXT,
            closed_at          TEXT
        )
        """,
    "CREATE UNIQUE INDEX surveys_event ON surveys(event_id) WHERE event_id IS NOT NULL",
    "CREATE INDEX surveys_due ON surveys(send_at) WHERE status = 'pending'",
    "CREATE INDEX surveys_customer ON surveys(customer_id, created_at)",
    "CREATE INDEX surveys_status ON surveys(status, sent_at)",
    """
        CREATE TABLE answers (
            id                 INTEGER PRIMARY KEY,
            survey_id          INTEGER NOT NULL UNIQUE REFERENCES surveys(id),
            score              INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
            category           TEXT NOT NULL
                               CHECK (category IN ('promoter', 'passive', 'detractor')),
            reason             TEXT,
            reason_message_id  INTEGER,
            scored_at          TEXT NOT NULL,
            reason_at          TEXT,
            completed_at       TEXT
        )
        """,
    "CREATE INDEX answers_scored_at ON answers(scored_at)",
    """
        CREATE TABLE outbox (
            id          INTEGER PRIMARY KEY,
            chat_id     INTEGER NOT NULL,
            method      TEXT NOT NULL,
            params      TEXT NOT NULL CHECK (json_valid(params)),
            survey_id   INTEGER REFERENCES surveys(id),
            created_at  TEXT NOT NULL,
            attempts    INTEGER NOT NULL DEFAULT 0,
            started_at  TEXT,
            done_at     TEXT,
            failed_at   TEXT,
            last_error  TEXT
        )
        """,
    "CREATE INDEX outbox_pending ON outbox(chat_id, id) WHERE done_at IS NULL "
    "AND failed_at IS NULL",
    """
        CREATE TABLE processed_updates (
            update_id     INTEGER PRIMARY KEY,
            processed_at  TEXT NOT NULL
        )
        """,
]

POSTGRESQL: list[str] = [
    f"""
        CREATE TABLE customers (
            id           {ID},
            external_id  {TEXT} NOT NULL UNIQUE,
            chat_id      BIGINT UNIQUE,
            language     {TEXT},
            attributes   {TEXT} NOT NULL DEFAULT '{{}}' {json_check("attributes")},
            opted_out    BIGINT NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
            blocked      BIGINT NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
            linked_at    {TEXT},
            created_at   {TEXT} NOT NULL,
            updated_at   {TEXT} NOT NULL
        )
        """,
    f"""
        CREATE TABLE surveys (
            id                 {ID},
            customer_id        BIGINT NOT NULL REFERENCES customers(id),
            kind               {TEXT} NOT NULL
                               CHECK (kind IN ('transactional', 'relationship', 'episode')),
            event_type         {TEXT},
            event_id           {TEXT},
            status             {TEXT} NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'sent', 'answered', 'expired',
                                                 'failed', 'skipped')),
            status_reason      {TEXT},
            attributes         {TEXT} NOT NULL DEFAULT '{{}}' {json_check("attributes")},
            send_at            {TEXT} NOT NULL,
            send_attempts      BIGINT NOT NULL DEFAULT 0,
            send_started_at    {TEXT},
            chat_id            BIGINT,
            message_id         BIGINT,
            created_at         {TEXT} NOT NULL,
            sent_at            {TEXT},
            answered_at        {TEXT},
            closed_at          {TEXT}
        )
        """,
    "CREATE UNIQUE INDEX surveys_event ON surveys(event_id) WHERE event_id IS NOT NULL",
    "CREATE INDEX surveys_due ON surveys(send_at) WHERE status = 'pending'",
    "CREATE INDEX surveys_customer ON surveys(customer_id, created_at)",
    "CREATE INDEX surveys_status ON surveys(status, sent_at)",
    f"""
        CREATE TABLE answers (
            id                 {ID},
            survey_id          BIGINT NOT NULL UNIQUE REFERENCES surveys(id),
            score              BIGINT NOT NULL CHECK (score BETWEEN 0 AND 10),
            category           {TEXT} NOT NULL
                               CHECK (category IN ('promoter', 'passive', 'detractor')),
            reason             {TEXT},
            reason_message_id  BIGINT,
            scored_at          {TEXT} NOT NULL,
            reason_at          {TEXT},
            completed_at       {TEXT}
        )
        """,
    "CREATE INDEX answers_scored_at ON answers(scored_at)",
    f"""
        CREATE TABLE outbox (
            id          {ID},
            chat_id     BIGINT NOT NULL,
            method      {TEXT} NOT NULL,
            params      {TEXT} NOT NULL {json_check("params")},
            survey_id   BIGINT REFERENCES surveys(id),
            created_at  {TEXT} NOT NULL,
            attempts    BIGINT NOT NULL DEFAULT 0,
            started_at  {TEXT},
            done_at     {TEXT},
            failed_at   {TEXT},
            last_error  {TEXT}
        )
        """,
    "CREATE INDEX outbox_pending ON outbox(chat_id, id) WHERE done_at IS NULL "
    "AND failed_at IS NULL",
    f"""
        CREATE TABLE processed_updates (
            update_id     BIGINT PRIMARY KEY,
            processed_at  {TEXT} NOT NULL
        )
        """,
]
