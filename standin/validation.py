"""Checks of what the bot sends: text, HTML markup, inline keyboards, commands.

Each check raises :class:`ApiError` with Telegram's wording, so the bot meets the same
failures here as it would in production.
"""

from __future__ import annotations

import html
import re
from typing import Any

from standin.errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_ANSWER_TEXT = 200

# Telegram's HTML tags and the entity type each one makes.
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_HREF_RE = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
# Characters MarkdownV2 reserves that a bot most often forgets to escape; formatting
# characters (*, _, ~, `, [, ]) are left alone because pairing them needs a full parser.
_MDV2_RESERVED = set("#+-=|{}.!>()")
_MDV2_LINK_RE = re.compile(r"\[((?:[^\]\\]|\\.)*)\]\(((?:[^)\\]|\\.)*)\)")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-HTML into visible text and message entities.

    Raises ``can't parse entities`` for unknown tags, unmatched end tags, unclosed tags
    and a bare ``<`` that starts no tag, like Telegram does.
    """
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, str | None]] = []  # (tag, utf16 offset, url)
    offset = 0
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "<":
            match = _TAG_RE.match(source, pos)
            byte_offset = len(source[:pos].encode())
            if match is None:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "" at byte offset {byte_offset}'
                )
            closing, tag, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
            if tag not in _HTML_TAGS:
                kind = "end" if closing else "start"
                raise bad_request(
                    f'can\'t parse entities: Unsupported {kind} tag "{tag}" '
                    f"at byte offset {byte_offset}"
                )
            if closing:
                if not stack or stack[-1][0] != tag:
                    expected = f'expected "</{stack[-1][0]}>"' if stack else "no tag is open"
                    raise bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset "
                        f'{byte_offset}, {expected}, found "</{tag}>"'
                    )
                open_tag, start, url = stack.pop()
                if offset > start:
                    entity: dict[str, Any] = {
                        "type": _HTML_TAGS[open_tag],
                        "offset": start,
                        "length": offset - start,
                    }
                    if url is not None:
                        entity["url"] = url
                    entities.append(entity)
            else:
                url = None
                if tag == "a":
                    href = _HREF_RE.search(attrs)
                    url = next((g for g in href.groups() if g is not None), "") if href else ""
                stack.append((tag, offset, url))
            pos = match.end()
            continue
        if char == "&":
            match = _ENTITY_RE.match(source, pos)
            if match is not None:
                decoded = html.unescape(match.group(0))
                out.append(decoded)
                offset += utf16_len(decoded)
                pos = match.end()
                continue
        out.append(char)
        offset += utf16_len(char)
        pos += 1
    if stack:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_markdown_v2(source: str) -> str:
    """Approximate MarkdownV2: reject unescaped reserved characters, drop the escapes.

    Formatting characters are kept in the visible text (no entity parsing); this catches
    the common mistake of an unescaped ``.`` or ``!`` that Telegram rejects.
    """
    out: list[str] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        link = _MDV2_LINK_RE.match(source, pos) if char == "[" else None
        if link is not None:
            # [text](url): the parentheses and the URL's characters are not reserved here.
            out.append(parse_markdown_v2(link.group(1)))
            pos = link.end()
            continue
        if char == "\\" and pos + 1 < len(source):
            out.append(source[pos + 1])
            pos += 2
            continue
        if char in _MDV2_RESERVED:
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        if char not in "*_~`|":
            out.append(char)
        pos += 1
    return "".join(out)


def render_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities of ``text`` under ``parse_mode``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text), []
    if mode in ("", "markdown"):
        return text, []
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def check_message_text(
    text: str | None, parse_mode: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """Validate a message text (1–4096 visible characters); return visible text, entities."""
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    visible, entities = render_text(text, parse_mode)
    if not visible.strip():
        raise bad_request("message text is empty")
    if len(visible) > MAX_TEXT:
        raise bad_request("message is too long")
    return visible, entities


def check_caption(
    caption: str | None, parse_mode: str | None
) -> tuple[str | None, list[dict[str, Any]]]:
    """Validate a caption (0–1024 visible characters)."""
    if caption is None or caption == "":
        return None, []
    visible, entities = render_text(caption, parse_mode)
    if len(visible) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return visible, entities


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate ``reply_markup``; inline keyboards get Telegram's size and data checks."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        # Reply keyboards, ReplyKeyboardRemove and ForceReply are accepted as they are.
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" '
            "must be an Array of Arrays"
        )
    total = sum(len(row) for row in rows)
    if total > MAX_BUTTONS or any(len(row) > MAX_BUTTONS_PER_ROW for row in rows):
        raise bad_request("BUTTONS_TOO_MUCH")
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in button if key != "text"]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: only one of the optional fields must be present"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url:
            raise bad_request("BUTTON_URL_INVALID")


_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def check_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list: ≤100 commands, names [a-z0-9_]{1,32}, descriptions 1–256."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    result: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command, "description": description})
    return result
