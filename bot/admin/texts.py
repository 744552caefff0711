"""Admin-facing wording (HTML where sent with parse_mode=HTML; values are escaped by callers)."""

from __future__ import annotations

from typing import Any

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

# --- languages (NPSBOT_ADMIN_LANGUAGE) -------------------------------------------------

#: Simplified Chinese versions of the texts above, under the same names.
ZH: dict[str, Any] = {
    "USAGE": {
        "nps": "用法：/nps [时间段] [筛选]。时间段：today、yesterday、7d、30d、Nd、"
        "YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD（默认 7d）。筛选：event=<类型>、"
        "kind=<transactional|relationship|episode> 或 <属性>=<值>。",
        "digest": "用法：/digest [today|yesterday|YYYY-MM-DD]（默认今天，截至目前）。",
        "export": "用法：/export [时间段] [筛选]（默认 30d）：导出回答的 CSV 文件。",
        "survey": "用法：/survey <客户 ID>：立即为该客户安排一次调查。",
        "stats": "用法：/stats（无参数）：队列与发送状况。",
        "resolve": "用法：/resolve <提醒编号> [备注]：将差评提醒标记为已处理。",
        "cancel": "用法：/cancel：取消给客户写回复。",
    },
    "NOT_ADMIN": (
        "抱歉，此命令仅供{company}的反馈团队使用。"
        "如果您是团队成员，请让管理员把本聊天加入 NPSBOT_ADMIN_CHAT_IDS。"
    ),
    "NOT_ADMIN_BUTTON": "只有反馈团队的管理员可以使用此按钮。",
    "BUTTON_INVALID": "此按钮（已）无效。",
    "ALERT_UNKNOWN": "没有编号为 #{alert_id} 的提醒。",
    "CUSTOMER_UNREACHABLE": "无法在 Telegram 中联系客户 {customer}（{why}）。",
    "REPLY_PROMPT": (
        "✍️ {admin}，您在本聊天中的下一条消息将发送给客户 <code>{customer}</code>"
        "（提醒 #{alert_id}）。发送 /cancel 可取消。"
    ),
    "REPLY_PROMPT_ANSWER": "请在本聊天中直接发送您的回复。",
    "REPLY_SENT": (
        "✅ 已发送给客户 <code>{customer}</code>（提醒 #{alert_id}）。"
        "客户的下一条消息将作为对该提醒的回复显示在这里。"
    ),
    "REPLY_NOT_TEXT": "只能向客户发送文字。请以文字发送回复，或发送 /cancel。",
    "REPLY_TOO_LONG": "回复太长（{length:,} 个字符，最多 {limit:,} 个）。请缩短。",
    "REPLY_CANCELLED": "已取消回复。",
    "NOTHING_TO_CANCEL": "当前没有正在编写的回复。",
    "RESOLVED": "✅ 提醒 #{alert_id}（客户 <code>{customer}</code>）已由 {admin} 标记为已处理。",
    "RESOLVED_NOTE": "\n备注：<i>{note}</i>",
    "ALREADY_RESOLVED": "已由 {who} 于 {when} 处理。",
    "RESOLVED_ANSWER": "已标记为已处理。",
    "NOTE_TOO_LONG": "备注太长（{length:,} 个字符，最多 {limit:,} 个）。",
    "CUSTOMER_REPLIED": (
        "💬 客户 <code>{customer}</code> 回复了（提醒 #{alert_id}）：\n<i>{text}</i>"
    ),
    "CUSTOMER_SENT_MEDIA": (
        "💬 客户 <code>{customer}</code> 回复了（提醒 #{alert_id}）一条{kind}，无法转发。"
    ),
    "SURVEY_QUEUED": "📨 已为客户 <code>{customer}</code> 安排调查 #{survey_id}。",
    "SURVEY_SKIPPED": "客户 <code>{customer}</code> 的调查 #{survey_id} 未发送：{reason}。",
    "SKIP_REASONS": {
        "not_linked": "客户尚未打开机器人链接",
        "opted_out": "客户已退订（/stop）",
        "blocked": "客户屏蔽了机器人",
    },
    "BAD_CUSTOMER": "“{value}”不是有效的客户 ID：{problem}",
    "NO_ANSWERS_EXPORT": "{period}{filters}没有回答：没有可导出的内容。",
    "EXPORT_CAPTION": "{rows:,} 条回答 · {period}{filters}",
    "EXPORT_TRUNCATED": " · 仅前 {rows:,} 条：请选择更短的时间段",
    "DIGEST_FAILED": "抱歉，无法发送日报。错误已记入日志。",
}


class AdminTexts:
    """The texts above in one language, by the same names (``for_language("zh").NOT_ADMIN``);
    a name without a translation falls back to English."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._texts: dict[str, Any] = ZH if lang == "zh" else {}

    def __getattr__(self, name: str) -> str:
        value = self._texts.get(name, globals().get(name))
        if not isinstance(value, str) or name.startswith("_") or not name.isupper():
            raise AttributeError(name)
        return value

    def usage(self, command: str) -> str:
        """How to use an admin command."""
        table: dict[str, str] = self._texts.get("USAGE", USAGE)
        return table.get(command, USAGE[command])

    def skip_reason(self, reason: str) -> str:
        """Why a survey was not sent, in words (the code itself if unknown)."""
        table: dict[str, str] = self._texts.get("SKIP_REASONS", SKIP_REASONS)
        return table.get(reason, SKIP_REASONS.get(reason, reason))


def for_language(lang: str) -> AdminTexts:
    """The admin texts in ``lang`` (NPSBOT_ADMIN_LANGUAGE: "en" or "zh")."""
    return AdminTexts(lang)
