"""Schema version 008: themes of the customers' comments (voice of the customer).

* ``answer_themes``: the themes the model found in an answer's reason, one row per theme:
  a driver theme (``kind = 'driver'``, the questionnaire driver's theme id) or an emerging
  one (``kind = 'emerging'``, an id of ``theme_registry``). Keyed by ``survey_id`` like the
  answer itself (one answer per survey). Derived from the customer's words: erased with them.
* ``answers.themed_at``: when the answer's reason was last themed; NULL for a reason not yet
  themed (the periodic job's work list, see the partial index).
* ``theme_models``: the trained model as JSON (``ThemeModel.to_dict``); the newest row is
  the one in use, older ones are deleted when a new one is stored.
* ``theme_registry``: emerging themes with their stable ids and names, kept from run to run
  (``match_emerging``) so a theme keeps its history.
"""

from storage.schema import ID, TEXT, json_check

STATEMENTS: list[str] = [
    """
    CREATE TABLE answer_themes (
        survey_id  INTEGER NOT NULL REFERENCES surveys(id),
        theme      TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('driver', 'emerging')),
        score      REAL NOT NULL,
        themed_at  TEXT NOT NULL,
        PRIMARY KEY (survey_id, theme)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX answer_themes_theme ON answer_themes(theme, survey_id)",
    "ALTER TABLE answers ADD COLUMN themed_at TEXT",
    "CREATE INDEX answers_to_theme ON answers(id) WHERE reason IS NOT NULL AND themed_at IS NULL",
    """
    CREATE TABLE theme_models (
        id          INTEGER PRIMARY KEY,
        trained_at  TEXT NOT NULL,
        comments    INTEGER NOT NULL,
        model       TEXT NOT NULL CHECK (json_valid(model))
    )
    """,
    """
    CREATE TABLE theme_registry (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        keywords    TEXT NOT NULL CHECK (json_valid(keywords)),
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        comments    INTEGER NOT NULL
    )
    """,
]

POSTGRESQL: list[str] = [
    f"""
    CREATE TABLE answer_themes (
        survey_id  BIGINT NOT NULL REFERENCES surveys(id),
        theme      {TEXT} NOT NULL,
        kind       {TEXT} NOT NULL CHECK (kind IN ('driver', 'emerging')),
        score      DOUBLE PRECISION NOT NULL,
        themed_at  {TEXT} NOT NULL,
        PRIMARY KEY (survey_id, theme)
    )
    """,
    "CREATE INDEX answer_themes_theme ON answer_themes(theme, survey_id)",
    "ALTER TABLE answers ADD COLUMN themed_at " + TEXT,
    "CREATE INDEX answers_to_theme ON answers(id) WHERE reason IS NOT NULL AND themed_at IS NULL",
    f"""
    CREATE TABLE theme_models (
        id          {ID},
        trained_at  {TEXT} NOT NULL,
        comments    BIGINT NOT NULL,
        model       {TEXT} NOT NULL {json_check("model")}
    )
    """,
    f"""
    CREATE TABLE theme_registry (
        id          {TEXT} PRIMARY KEY,
        name        {TEXT} NOT NULL,
        keywords    {TEXT} NOT NULL {json_check("keywords")},
        first_seen  {TEXT} NOT NULL,
        last_seen   {TEXT} NOT NULL,
        comments    BIGINT NOT NULL
    )
    """,
]
