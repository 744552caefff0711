"""The pure core: NPS maths, the survey state machine, the questionnaire and texts, typed
records, contact rules, the privacy plan, button data. It imports nothing outside itself and
the standard library, and takes the time as a parameter (checked by import-linter)."""
