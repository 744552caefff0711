"""The one error start-up reports for a bad setting, and its conversion from pydantic's."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

PREFIX = "NPSBOT_"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line that names it.

    The message never contains a setting's value, so a secret cannot leak through it.
    """


class InvalidSetting(ValueError):
    """Raised inside validators whose problem belongs to a variable other than the field
    being validated (cross-field rules, numbered webhook variables)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(problem)
        self.name = name


def settings_error(error: ValidationError) -> SettingsError:
    """One line for the first problem: ``NPSBOT_X is invalid: <problem>``.

    Pydantic reports every problem; start-up names the first one (in the order the settings
    are declared) so the operator sees a single, short line. Only messages are used, never
    ``input``: the input may be a secret.
    """
    return SettingsError(_line(error.errors(include_url=False, include_input=False)[0]))


def _line(detail: ErrorDetails) -> str:
    cause = (detail.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidSetting):
        return f"{cause.name} is invalid: {cause}"
    name = _variable(detail)
    if detail["type"] == "missing":
        return f"{name} is required but not set"
    problem = str(cause) if isinstance(cause, ValueError) else detail["msg"]
    return " ".join(f"{name} is invalid: {problem}".split())


def _variable(detail: ErrorDetails) -> str:
    # The location ends with the field's alias, which is the variable's name; errors of a
    # whole section (no alias) fall back to the field path.
    names = [str(part) for part in detail["loc"]]
    return next((n for n in reversed(names) if n.startswith(PREFIX)), ".".join(names) or "settings")
