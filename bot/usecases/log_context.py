"""Context for log lines: the chat and survey a piece of work is on behalf of.

Handlers and the dispatcher set it; the JSON log format (:mod:`bot.composition.logging_setup`)
adds it to every line logged inside, including from the tasks started there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

#: Context fields of JSON lines, each from ``extra=`` or else from :func:`log_context`.
CONTEXT_FIELDS = ("chat_id", "survey_id")
_CONTEXT: dict[str, ContextVar[int | None]] = {
    name: ContextVar(f"npsbot_log_{name}", default=None) for name in CONTEXT_FIELDS
}


@contextlib.contextmanager
def log_context(*, chat_id: int | None = None, survey_id: int | None = None) -> Iterator[None]:
    """Tag every record logged inside (this task and the tasks it starts) with the ids."""
    given = {"chat_id": chat_id, "survey_id": survey_id}
    tokens = [(_CONTEXT[k], _CONTEXT[k].set(v)) for k, v in given.items() if v is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_context() -> dict[str, int]:
    """The context ids set where the caller runs (only those set)."""
    return {name: value for name, var in _CONTEXT.items() if (value := var.get()) is not None}
