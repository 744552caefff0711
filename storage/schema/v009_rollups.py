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

PostgreSQL also gets ``npsbot_json_text``: a JSON scalar as text the way SQLite's
``CAST(json_extract(...) AS TEXT)`` writes it (``true`` → ``1``, a real number with 15
significant digits, ``2.0`` → ``2.0``, ``1e-05`` → ``1.0e-05``), so an attribute value is
the same ``attr_value`` on both engines (see :mod:`storage.dialect`).
"""

from storage.schema import TEXT

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

#: SQLite's text of a REAL (``%!.15g``: 15 significant digits, trailing zeros dropped but
#: one kept after the point, exponent form below 1e-4 and from 1e15).
_REAL_TEXT = r"""
CREATE FUNCTION npsbot_real_text(x double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    n numeric;
    e integer;
    digits text;
BEGIN
    IF x = 0 THEN
        RETURN '0.0';
    END IF;
    e := floor(log(abs(x::numeric)));
    n := round(x::numeric, 14 - e);
    IF abs(n) >= power(10::numeric, e + 1) THEN
        e := e + 1;
        n := round(x::numeric, 14 - e);
    END IF;
    IF e < -4 OR e >= 15 THEN
        digits := rtrim(rtrim(round(n / power(10::numeric, e), 14)::text, '0'), '.');
        IF position('.' IN digits) = 0 THEN
            digits := digits || '.0';
        END IF;
        RETURN digits || 'e' || CASE WHEN e < 0 THEN '-' ELSE '+' END
            || lpad(abs(e)::text, 2, '0');
    END IF;
    digits := n::text;
    IF position('.' IN digits) > 0 THEN
        digits := rtrim(rtrim(digits, '0'), '.');
    END IF;
    IF position('.' IN digits) = 0 THEN
        digits := digits || '.0';
    END IF;
    RETURN digits;
END
$fn$
"""

_JSON_TEXT = r"""
CREATE FUNCTION npsbot_json_text(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE jsonb_typeof(v)
        WHEN 'string' THEN v #>> '{}'
        WHEN 'boolean' THEN CASE WHEN v = 'true'::jsonb THEN '1' ELSE '0' END
        WHEN 'number' THEN
            CASE WHEN v::text ~ '^-?[0-9]{1,18}$' THEN v::text
                 ELSE npsbot_real_text(v::text::double precision) END
        WHEN 'null' THEN NULL
        ELSE v::text
    END
$fn$
"""

POSTGRESQL: list[str] = [
    _REAL_TEXT,
    _JSON_TEXT,
    f"""
    CREATE TABLE answer_rollups (
        attr_key    {TEXT} NOT NULL,
        day         {TEXT} NOT NULL,
        attr_value  {TEXT} NOT NULL,
        kind        {TEXT} NOT NULL,
        event_type  {TEXT} NOT NULL,
        score       BIGINT NOT NULL CHECK (score BETWEEN 0 AND 10),
        n           BIGINT NOT NULL,
        PRIMARY KEY (attr_key, day, attr_value, kind, event_type, score)
    )
    """,
    "CREATE INDEX answer_rollups_zero ON answer_rollups(attr_key) WHERE n = 0",
    f"""
    CREATE TABLE driver_rollups (
        day       {TEXT} NOT NULL,
        category  {TEXT} NOT NULL,
        driver    {TEXT} NOT NULL,
        n         BIGINT NOT NULL,
        PRIMARY KEY (day, category, driver)
    )
    """,
    "CREATE INDEX driver_rollups_zero ON driver_rollups(day) WHERE n = 0",
    f"""
    CREATE TABLE rollup_state (
        id        BIGINT PRIMARY KEY CHECK (id = 1),
        timezone  {TEXT} NOT NULL,
        built_at  {TEXT}
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
    SELECT j.key, substr(a.scored_at, 1, 10), npsbot_json_text(j.value), s.kind,
           COALESCE(s.event_type, ''), a.score, COUNT(*)
    FROM answers a JOIN surveys s ON s.id = a.survey_id,
         jsonb_each(CASE WHEN jsonb_typeof(CAST(s.attributes AS jsonb)) = 'object'
                         THEN CAST(s.attributes AS jsonb) ELSE CAST('{}' AS jsonb) END) j
    WHERE jsonb_typeof(j.value) <> 'null'
    GROUP BY 1, 2, 3, 4, 5, 6
    """,
    """
    INSERT INTO driver_rollups (day, category, driver, n)
    SELECT substr(a.scored_at, 1, 10), a.category, npsbot_json_text(d.value), COUNT(*)
    FROM answers a, jsonb_array_elements(CAST(a.drivers AS jsonb)) d
    WHERE a.drivers IS NOT NULL
    GROUP BY 1, 2, 3
    """,
]
