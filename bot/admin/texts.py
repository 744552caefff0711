"""Admin-facing wording (HTML where sent with parse_mode=HTML; values are escaped by callers)."""

from __future__ import annotations

USAGE = {
    "nps": "Usage: /nps [period] [filter]. Period: today, yesterday, 7d, 30d, Nd, "
    "YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (default 7d). Filter: event=<type>, "
    "kind=<transactional|relationship|episode> or <attribute>=<value>.",
    "digest": "Usage: /digest [today|yesterday|YYYY-MM-DD] (default today, so far).",
    "export": "Usage: /export [period] [filter] (default 30d): a CSV of the answers.",
    "survey": "Usage: /survey <customer id>: queue a survey for that customer now.",
    "stats": "Usage: /stats (no arguments): queue and delivery health.",
    "resolve": "Usage: /resolve <alert number> [note]: mark a detractor alert resolved.",
    "cancel": "Usage: /cancel: stop writing a reply to a customer.",
}

NOT_ADMIN = (
    "Sorry, this command is only for {company}'s feedback team. "
    "If you are on the team, ask an admin to add this chat to NPSBOT_ADMIN_CHAT_IDS."
)
NOT_ADMIN_BUTTON = "Only the feedback team's admins can use this button."
BUTTON_INVALID = "This button is not valid (any more)."
ALERT_UNKNOWN = "There is no alert #{alert_id}."
CUSTOMER_UNREACHABLE = "Customer {customer} can't be reached in Telegram ({why})."
REPLY_PROMPT = (
    "✍️ {admin}, your next message in this chat goes to customer <code>{customer}</code> "
    "(alert #{alert_id}). Send /cancel to cancel."
)
REPLY_PROMPT_ANSWER = "Write your reply as your next message in this chat."
REPLY_SENT = (
    "✅ Sent to customer <code>{customer}</code> (alert #{alert_id}). "
    "Their next message will appear here as a reply to the alert."
)
REPLY_NOT_TEXT = "Only text can be sent to a customer. Send your reply as text, or /cancel."
REPLY_TOO_LONG = (
    "That reply is too long ({length:,} characters; at most {limit:,}). Please shorten it."
)
REPLY_CANCELLED = "Reply cancelled."
NOTHING_TO_CANCEL = "There is no reply in progress."
RESOLVED = "✅ Alert #{alert_id} (customer <code>{customer}</code>) marked resolved by {admin}."
RESOLVED_NOTE = "\nNote: <i>{note}</i>"
ALREADY_RESOLVED = "Already resolved by {who} at {when}."
RESOLVED_ANSWER = "Marked resolved."
NOTE_TOO_LONG = "The note is too long ({length:,} characters; at most {limit:,})."
CUSTOMER_REPLIED = (
    "💬 Customer <code>{customer}</code> answered (alert #{alert_id}):\n<i>{text}</i>"
)
CUSTOMER_SENT_MEDIA = (
    "💬 Customer <code>{customer}</code> answered (alert #{alert_id}) with a {kind}, "
    "which can't be relayed."
)
SURVEY_QUEUED = "📨 Survey #{survey_id} queued for customer <code>{customer}</code>."
SURVEY_SKIPPED = "Survey #{survey_id} for customer <code>{customer}</code> was not sent: {reason}."
SKIP_REASONS = {
    "not_linked": "the customer has not opened their link to the bot yet",
    "opted_out": "the customer opted out (/stop)",
    "blocked": "the customer blocked the bot",
}
BAD_CUSTOMER = "“{value}” is not a valid customer id: {problem}"
NO_ANSWERS_EXPORT = "No answers in {period}{filters}: nothing to export."
EXPORT_CAPTION = "{rows:,} answers · {period}{filters}"
EXPORT_TRUNCATED = " · only the first {rows:,}: choose a shorter period"
DIGEST_FAILED = "Sorry, the digest could not be sent. The error was logged."
