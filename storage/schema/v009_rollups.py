"""Schema version 009 (rollups): per-day aggregates of the answers, kept in step with them.

* ``answer_rollups``: how many answers had each score on each local day, per survey kind,
  event type (``''`` for none) and, besides the totals (``attr_key = ''``), per value of
  each attribute of the survey's snapshot. ``/nps``, the digests and the ops API read these
  O(days x segments) rows instead of the answers. Maintained in the transaction of every
  change that moves a figure (a score recorded, an erasure, a retention run); see
  ``storage/rollups.py``.
* ``driver_rollups``: how many answers of each category picked each driver, per local day.
* ``rollup_state``: the time zone whose local days the rollups count (UTC here; the bot
  rebuilds them at start-up when the configured zone differs).

Existing answers are counted here, by UTC day (the stored times are UTC text).
"""

STATEMENTS: list[str] = [
    """
    CREATE TABLE answer_rollups (
        attr_key    TEXT NOT NULL,
        day         TEXT NOT NULL,
        attr_value  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        event_type  TEXT NOT NULL,
        score       INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
        n           INTEGER NOT NULL,
        PRIMARY KEY (attr_key, day, attr_value, kind, event_type, score)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX answer_rollups_zero ON answer_rollups(attr_key) WHERE n = 0",
    """
    CREATE TABLE driver_rollups (
        day       TEXT NOT NULL,
        category  TEXT NOT NULL,
        driver    TEXT NOT NULL,
        n         INTEGER NOT NULL,
        PRIMARY KEY (day, category, driver)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX driver_rollups_zero ON driver_rollups(day) WHERE n = 0",
    """
    CREATE TABLE rollup_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        timezone  TEXT NOT NULL,
        built_at  TEXT
    )
    """,
    "INSERT INTO rollup_state (id, timezone) VALUES (1, 'UTC')",
    """
    INSERT INTO answer_rollups (attr_key, day, attr_value, kind, event_type, score, n)
    SELECT '', substr(a.scored_at, 1, 10), '', s.kind, COALESCE(s.event_type, ''), a.score,
           COUNT(*)
    FROM answers a JOIN surveys s ON s.id = a.survey_id
    GROUP BY 2, 4, 5, 6
    """,
    """
    INSERT INTO answer_rollups (attr_key, day, attr_value, kind, event_type, score, n)
    SELECT j.key, substr(a.scored_at, 1, 10), CAST(j.value AS TEXT), s.kind,
           COALESCE(s.event_type, ''), a.score, COUNT(*)
    FROM answers a JOIN surveys s ON s.id = a.survey_id,
         json_each(CASE WHEN json_type(s.attributes) = 'object' THEN s.attributes
                        ELSE '{}' END) j
    WHERE j.type <> 'null'
    GROUP BY 1, 2, 3, 4, 5, 6
    """,
    """
    INSERT INTO driver_rollups (day, category, driver, n)
    SELECT substr(a.scored_at, 1, 10), a.category, CAST(d.value AS TEXT), COUNT(*)
    FROM answers a, json_each(a.drivers) d
    WHERE a.drivers IS NOT NULL
    GROUP BY 1, 2, 3
    """,
]
