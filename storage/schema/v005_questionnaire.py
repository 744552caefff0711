"""Schema version 005: languages and the drivers step of the questionnaire.

* ``customers.language`` now means the customer's explicit choice (``/language``) and
  nothing else. Until version 4 it was filled from Telegram's ``language_code`` when the
  chat was linked, which is the app's language, not a choice: those values move to the new
  ``customers.telegram_language`` (kept up to date from every update), and ``language``
  starts empty. No customer could choose before this version, so nothing is lost.
* ``answers.drivers``: the driver ids the customer picked, as a JSON list. NULL means the
  survey had no drivers step; ``[]`` that the step started (or ended) with nothing picked.
  ``drivers_done_at`` is set when the customer pressed Done (or wrote their reason instead);
  until then the chat is at the drivers step. ``drivers_message_id`` is the message with the
  drivers keyboard (recorded when it was sent or first pressed), edited when the step ends.
"""

from storage.schema import TEXT

STATEMENTS: list[str] = [
    "ALTER TABLE customers ADD COLUMN telegram_language TEXT",
    "UPDATE customers SET telegram_language = language, language = NULL",
    "ALTER TABLE answers ADD COLUMN drivers TEXT "
    "CHECK (drivers IS NULL OR (json_valid(drivers) AND json_type(drivers) = 'array'))",
    "ALTER TABLE answers ADD COLUMN drivers_done_at TEXT",
    "ALTER TABLE answers ADD COLUMN drivers_message_id INTEGER",
]

POSTGRESQL: list[str] = [
    "ALTER TABLE customers ADD COLUMN telegram_language " + TEXT,
    "UPDATE customers SET telegram_language = language, language = NULL",
    "ALTER TABLE answers ADD COLUMN drivers " + TEXT + " "
    "CHECK (drivers IS NULL OR jsonb_typeof(CAST(drivers AS jsonb)) = 'array')",
    "ALTER TABLE answers ADD COLUMN drivers_done_at " + TEXT,
    "ALTER TABLE answers ADD COLUMN drivers_message_id BIGINT",
]
