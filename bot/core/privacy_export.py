"""``/mydata``: what is stored about a customer, as a JSON document and as plain messages.

Both are built from the rows as stored (every column of the customer, their surveys and
answers), so a column added by a later schema version (drivers, languages) shows up in the
document without a change here; the messages show the fields a person cares about.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.records import to_db_time

MESSAGE_LIMIT = 4096  # Telegram's limit, in UTF-16 code units
FORMAT = "npsbot-personal-data/1"

# Internal bookkeeping that tells the customer nothing about themselves.
_CUSTOMER_SKIP = frozenset({"id", "erased_at"})
_SURVEY_SKIP = frozenset({"customer_id", "send_attempts", "send_started_at", "message_id"})
_ANSWER_SKIP = frozenset({"id", "survey_id", "reason_message_id", "drivers_message_id"})
_RENAME = {"external_id": "customer_id", "id": "survey_id"}

Render = Callable[..., str]


def _pick(row: Mapping[str, Any], skip: frozenset[str]) -> dict[str, Any]:
    return {_RENAME.get(k, k): v for k, v in row.items() if k not in skip}


def build_document(
    customer: Mapping[str, Any],
    surveys: Sequence[Mapping[str, Any]],
    answers: Mapping[int, Mapping[str, Any]],
    company: str,
    now: datetime,
) -> dict[str, Any]:
    """The JSON document: the customer, then every survey with its answer (or null)."""
    survey_docs = []
    for survey in surveys:
        doc = _pick(survey, _SURVEY_SKIP)
        answer = answers.get(int(survey["id"]))
        doc["answer"] = None if answer is None else _pick(answer, _ANSWER_SKIP)
        survey_docs.append(doc)
    return {
        "format": FORMAT,
        "generated_at": to_db_time(now),
        "company": company,
        "customer": _pick(customer, _CUSTOMER_SKIP),
        "surveys": survey_docs,
    }


def document_bytes(document: Mapping[str, Any]) -> bytes:
    """The document as UTF-8 JSON (readable: non-ASCII kept, indented)."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _when(value: Any) -> str:
    """A stored UTC time as ``2024-06-03 12:00 UTC``; ``—`` when absent."""
    if not value:
        return "—"
    text = str(value)
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 else text


def _flat(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _attributes(attrs: Any, none: str) -> str:
    if not isinstance(attrs, Mapping) or not attrs:
        return none
    return ", ".join(f"{k}={_flat(v)}" for k, v in sorted(attrs.items()))


def compose_text(document: Mapping[str, Any], render: Render) -> str:
    """The document as one plain text (split it with :func:`split_text`)."""
    customer = document["customer"]
    none = render("mydata_none")
    language = customer.get("language") or customer.get("telegram_language") or none
    blocks = [
        render("mydata_header", company=document["company"]),
        render(
            "mydata_customer",
            customer_id=customer.get("customer_id", none),
            linked_at=_when(customer.get("linked_at")),
            language=language,
            attributes=_attributes(customer.get("attributes"), none),
        ),
        render("mydata_surveys", count=len(document["surveys"])),
    ]
    for survey in document["surveys"]:
        event = survey.get("event_type") or none
        if survey.get("event_id"):
            event = f"{event} ({survey['event_id']})"
        lines = [
            render(
                "mydata_survey",
                survey_id=survey["survey_id"],
                kind=survey["kind"],
                event=event,
                status=survey["status"],
            ),
            render(
                "mydata_survey_dates",
                created_at=_when(survey.get("created_at")),
                sent_at=_when(survey.get("sent_at")),
                closed_at=_when(survey.get("answered_at") or survey.get("closed_at")),
            ),
        ]
        if survey.get("attributes"):
            lines.append(
                render("mydata_attributes", attributes=_attributes(survey["attributes"], none))
            )
        answer = survey.get("answer")
        if answer is not None:
            lines.append(
                render(
                    "mydata_answer",
                    score=answer["score"],
                    category=answer["category"],
                    scored_at=_when(answer.get("scored_at")),
                )
            )
            drivers = answer.get("drivers")
            if drivers:
                shown = (
                    ", ".join(_flat(d) for d in drivers)
                    if isinstance(drivers, list)
                    else _flat(drivers)
                )
                lines.append(render("mydata_drivers", drivers=shown))
            if answer.get("reason"):
                lines.append(render("mydata_reason", reason=answer["reason"]))
        blocks.append("\n".join(lines))
    blocks.append(render("mydata_footer"))
    return "\n\n".join(blocks)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int) -> list[str]:
    """A line longer than ``limit``: cut between code points (never inside a surrogate
    pair, which Python strings cannot hold), preferring the last space."""
    parts: list[str] = []
    while utf16_len(line) > limit:
        size = 0
        cut = 0
        for index, char in enumerate(line):
            size += 2 if ord(char) > 0xFFFF else 1
            if size > limit:
                cut = index
                break
        space = line.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        parts.append(line[:cut])
        line = line[cut:]
    parts.append(line)
    return parts


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain text in messages of at most ``limit`` UTF-16 units, cut at line breaks where
    possible (a block never splits mid-line unless the line alone is too long). Every part
    has visible text: Telegram rejects empty or whitespace-only messages."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        pieces = _hard_split(line, limit) if utf16_len(line) > limit else [line]
        for piece in pieces:
            extra = utf16_len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                extra = utf16_len(piece)
            current.append(piece)
            size += extra
    if current:
        parts.append("\n".join(current))
    return [p.strip("\n") for p in parts if p.strip()]
