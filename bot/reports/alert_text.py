"""Detractor alert cards for the admin chats: pure text and keyboards, in the admin language.

One alert is one message with its Reply / Mark resolved row; a burst is batched into
messages within Telegram's size and keyboard limits. Every value from a customer or the
questionnaire is HTML-escaped. Callback data comes from the caller (the alert handlers own
the buttons' encoding).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.texts import AdminTexts
from bot.reports.telegram_text import MESSAGE_LIMIT, utf16_len

if TYPE_CHECKING:
    from storage.alerts import AlertView

__all__ = [
    "MAX_ALERTS_PER_MESSAGE",
    "AlertCallback",
    "compose_alert_messages",
    "format_alert",
    "unreachable_reason",
]

MAX_ALERTS_PER_MESSAGE = 8
REASON_MAX_CHARS = 300
MAX_ATTRIBUTES_SHOWN = 8
#: Budget for one alert message, below Telegram's 4,096 (the measure is conservative).
_MESSAGE_BUDGET = MESSAGE_LIMIT - 200

#: ``(action, alert id) -> callback data``: "r" for Reply, "x" for Mark resolved.
AlertCallback = Callable[[str, int], str]


def _esc(value: object, limit: int) -> str:
    """HTML-escape a value, flattened to one line and capped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return html.escape(text, quote=False)


def _keyboard(
    alert_ids: Sequence[int], texts: AdminTexts, callback: AlertCallback
) -> dict[str, Any]:
    rows = []
    for alert_id in alert_ids:
        # Numbered only when one message carries several alerts' buttons.
        suffix = f" #{alert_id}" if len(alert_ids) > 1 else ""
        rows.append(
            [
                {
                    "text": texts.render("alert_reply_button", suffix=suffix),
                    "callback_data": callback("r", alert_id),
                },
                {
                    "text": texts.render("alert_resolve_button", suffix=suffix),
                    "callback_data": callback("x", alert_id),
                },
            ]
        )
    return {"inline_keyboard": rows}


def format_alert(view: AlertView, kinds: set[str], tz: ZoneInfo, texts: AdminTexts) -> str:
    """One alert as Telegram HTML: score, reason, customer and attributes, event."""
    title_key = "alert_title_score" if "score" in kinds else "alert_title_reason"
    lines = [
        texts.render(title_key, alert_id=view.id, score=view.score),
        texts.render("alert_customer", customer=_esc(view.customer_ref, 64)),
    ]
    if view.attributes:
        items = sorted(view.attributes.items())
        shown = ", ".join(f"{_esc(k, 32)}={_esc(v, 48)}" for k, v in items[:MAX_ATTRIBUTES_SHOWN])
        if len(items) > MAX_ATTRIBUTES_SHOWN:
            shown += texts.render("alert_attributes_more", count=len(items) - MAX_ATTRIBUTES_SHOWN)
        lines.append(texts.render("alert_attributes", attributes=shown))
    event = _esc(view.event_type, 64) if view.event_type else texts.render("alert_no_event_type")
    if view.event_id:
        event += f" (<code>{_esc(view.event_id, 64)}</code>)"
    when = view.scored_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    kind = _esc(texts.kind(view.kind), 20)
    lines.append(texts.render("alert_event", event=event, kind=kind, when=when))
    if view.reason:
        lines.append(texts.render("alert_reason", reason=_esc(view.reason, REASON_MAX_CHARS)))
    else:
        lines.append(texts.render("alert_no_reason"))
    if view.resolved_at is not None:
        lines.append(texts.render("alert_resolved_by", admin=_esc(view.resolved_by or "?", 80)))
    return "\n".join(lines)


def compose_alert_messages(
    items: Sequence[tuple[AlertView, set[str]]],
    tz: ZoneInfo,
    texts: AdminTexts,
    callback: AlertCallback,
) -> list[tuple[str, dict[str, Any]]]:
    """Alert messages (text, inline keyboard): one alert alone, several batched, each
    message within Telegram's size and with a Reply / Mark resolved row per alert."""
    if not items:
        return []
    if len(items) == 1:
        view, kinds = items[0]
        return [(format_alert(view, kinds, tz, texts), _keyboard([view.id], texts, callback))]
    chunks: list[list[tuple[int, str]]] = [[]]
    size = 0
    for view, kinds in items:
        entry = format_alert(view, kinds, tz, texts)
        length = utf16_len(entry) + 2
        current = chunks[-1]
        if current and (len(current) >= MAX_ALERTS_PER_MESSAGE or size + length > _MESSAGE_BUDGET):
            chunks.append([])
            size = 0
        chunks[-1].append((view.id, entry))
        size += length
    messages = []
    for chunk in chunks:
        header = texts.render("alert_batch", count=len(chunk))
        text = "\n\n".join([header, *(entry for _, entry in chunk)])
        ids = [alert_id for alert_id, _ in chunk]
        messages.append((text, _keyboard(ids, texts, callback)))
    return messages


def unreachable_reason(view: AlertView, texts: AdminTexts) -> str | None:
    """Why a reply cannot reach the alert's customer, in words; None when it can."""
    if view.customer_chat_id is None:
        return texts.render("unreachable_not_linked")
    if view.customer_blocked:
        return texts.render("unreachable_blocked")
    return None
