"""Fit Telegram HTML (``parse_mode=HTML``) into Telegram's size limits.

Telegram rejects messages over 4,096 characters and captions over 1,024. Cutting HTML
naively breaks it: a cut inside ``<b>`` leaves an unclosed tag, a cut inside ``&amp;``
leaves a bare ``&`` and Telegram refuses the whole message ("can't parse entities").

Lengths are measured on the *raw HTML* in *UTF-16 code units*. That is deliberately
conservative: Telegram counts the text after parsing (shorter than the raw HTML, since tags
and entities shrink) and counts characters outside the Basic Multilingual Plane, such as
emoji, as two units. Whatever rule a server applies, a part that fits this measure fits.

The input is expected to be well-formed Telegram HTML (as composed by the reports); tags
are kept atomic, entities are kept atomic, and tags open at a cut are closed at the end of
one part and re-opened at the start of the next.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "CAPTION_LIMIT",
    "ELLIPSIS",
    "MESSAGE_LIMIT",
    "shorten",
    "split_message",
    "utf16_len",
    "visible_text",
]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"

# A tag, an entity, or one character. Tags: <name ...> or </name>. Entities: &name; &#123;
# &#x1F600;. Anything else (including a stray '<' or '&') is an ordinary character.
_TOKEN_RE = re.compile(
    r"(?P<close></(?P<cname>[a-zA-Z][a-zA-Z0-9-]*)\s*>)"
    r"|(?P<open><(?P<oname>[a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>)"
    r"|(?P<entity>&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)"
    r"|(?P<char>.)",
    re.DOTALL,
)
_TAG_RE = re.compile(r"<[^<>]*>")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts characters)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(html_text: str) -> str:
    """The text a reader sees: tags removed, entities decoded."""
    return html.unescape(_TAG_RE.sub("", html_text))


class _Kind(Enum):
    OPEN = "open"
    CLOSE = "close"
    ENTITY = "entity"
    CHAR = "char"


@dataclass(frozen=True, slots=True)
class _Atom:
    kind: _Kind
    text: str
    name: str  # tag name for OPEN/CLOSE, "" otherwise
    size: int  # UTF-16 length of text


def _atoms(html_text: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for match in _TOKEN_RE.finditer(html_text):
        text = match.group(0)
        if match.group("close"):
            atom = _Atom(_Kind.CLOSE, text, match.group("cname").lower(), utf16_len(text))
        elif match.group("open"):
            atom = _Atom(_Kind.OPEN, text, match.group("oname").lower(), utf16_len(text))
        elif match.group("entity"):
            atom = _Atom(_Kind.ENTITY, text, "", len(text))
        else:
            atom = _Atom(_Kind.CHAR, text, "", utf16_len(text))
        atoms.append(atom)
    return atoms


def _apply(stack: list[_Atom], atom: _Atom) -> None:
    if atom.kind is _Kind.OPEN:
        stack.append(atom)
    elif atom.kind is _Kind.CLOSE:
        # Close the innermost matching tag; a stray closer is left alone (input is
        # expected to be well-formed, and dropping text would be worse).
        for index in range(len(stack) - 1, -1, -1):
            if stack[index].name == atom.name:
                del stack[index:]
                break


def _closers(stack: list[_Atom]) -> str:
    return "".join(f"</{atom.name}>" for atom in reversed(stack))


def _closers_size(stack: list[_Atom]) -> int:
    return sum(len(atom.name) + 3 for atom in stack)


@dataclass(slots=True)
class _Candidate:
    end: int  # chunk is atoms[start:end]
    resume: int  # next chunk starts at atoms[resume] (separator newlines are dropped)
    level: int  # 2 paragraph, 1 line, 0 word, -1 anywhere
    fill: int  # cost of the chunk if cut here


def _is_newline(atoms: list[_Atom], index: int) -> bool:
    return 0 <= index < len(atoms) and atoms[index].text == "\n"


def _has_visible(atoms: list[_Atom], start: int, end: int) -> bool:
    return any(
        atom.kind is _Kind.ENTITY or (atom.kind is _Kind.CHAR and not atom.text.isspace())
        for atom in atoms[start:end]
    )


def split_message(html_text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram HTML into parts of at most ``limit`` UTF-16 units each.

    Cuts at the last paragraph break (blank line) that leaves the part at least half
    full, else at a line break, else between words, else anywhere between characters;
    never inside a tag or an entity. The newlines at a paragraph or line cut are dropped
    (Telegram trims them anyway). Tags open at a cut are closed and re-opened, so every
    part is valid HTML on its own. Parts with no visible text are omitted.
    Raises ``ValueError`` when ``limit`` cannot hold even one character plus the tags
    that must wrap it.
    """
    if utf16_len(html_text) <= limit:
        return [html_text] if visible_text(html_text).strip() else []
    atoms = _atoms(html_text)
    parts: list[str] = []
    start = 0
    stack: list[_Atom] = []  # tags open at atoms[start]
    while start < len(atoms):
        prefix = "".join(atom.text for atom in stack)
        cut = _find_cut(atoms, start, stack, utf16_len(prefix), limit)
        end_stack = list(stack)
        for atom in atoms[start : cut.end]:
            _apply(end_stack, atom)
        if _has_visible(atoms, start, cut.end):
            body = "".join(atom.text for atom in atoms[start : cut.end])
            parts.append(prefix + body + _closers(end_stack))
        for atom in atoms[cut.end : cut.resume]:
            _apply(end_stack, atom)
        stack = end_stack
        start = cut.resume
    return parts


def _find_cut(
    atoms: list[_Atom], start: int, stack: list[_Atom], prefix_size: int, limit: int
) -> _Candidate:
    """Choose where the part beginning at ``atoms[start]`` ends."""
    current = list(stack)
    content = 0
    candidates: list[_Candidate] = []
    first_visible = len(atoms)  # a part must contain at least this atom
    index = start
    while index < len(atoms):
        atom = atoms[index]
        # Cost if the part ended *before* this atom.
        fill = prefix_size + content + _closers_size(current)
        if index > start:
            if atom.text == "\n" and _is_newline(atoms, index + 1):
                candidates.append(_Candidate(index, index + 2, 2, fill))
            elif atom.text == "\n":
                candidates.append(_Candidate(index, index + 1, 1, fill))
            elif atoms[index - 1].text == " ":
                candidates.append(_Candidate(index, index, 0, fill))
            elif atom.kind is not _Kind.CLOSE:
                # A hard cut is best made before pending opening tags, not after them.
                candidates.append(_Candidate(index, index, -1, fill))
        trial = list(current)
        _apply(trial, atom)
        if prefix_size + content + atom.size + _closers_size(trial) > limit:
            break
        current = trial
        content += atom.size
        if first_visible == len(atoms) and _has_visible(atoms, index, index + 1):
            first_visible = index
        index += 1
    else:
        return _Candidate(len(atoms), len(atoms), 3, 0)

    usable = [c for c in candidates if c.fill <= limit and c.end > first_visible]
    if not usable:
        if index == start:
            raise ValueError(f"limit {limit} is too small to hold any text with its tags")
        # Only tags or whitespace fit: cut right here to guarantee progress.
        return _Candidate(index, index, -1, 0)
    half = limit // 2
    for level in (2, 1, 0):
        good = [c for c in usable if c.level == level and c.fill >= half]
        if good:
            return good[-1]
    for level in (2, 1, 0):
        any_level = [c for c in usable if c.level == level]
        if any_level and any_level[-1].fill >= limit // 4:
            return any_level[-1]
    return max(usable, key=lambda c: (c.end, c.level))


def shorten(html_text: str, limit: int = CAPTION_LIMIT) -> str:
    """Cut Telegram HTML to at most ``limit`` UTF-16 units, ending with an ellipsis.

    Text that already fits is returned unchanged. Otherwise the cut is made between words
    when one is near the end, never inside a tag or an entity, and open tags are closed
    after the ellipsis so the result is valid HTML.
    """
    if utf16_len(html_text) <= limit:
        return html_text
    ellipsis_size = utf16_len(ELLIPSIS)
    atoms = _atoms(html_text)
    stack: list[_Atom] = []
    content = 0
    best_end = 0
    best_word_end = 0
    for index, atom in enumerate(atoms):
        trial = list(stack)
        _apply(trial, atom)
        if content + atom.size + ellipsis_size + _closers_size(trial) > limit:
            break
        stack = trial
        content += atom.size
        best_end = index + 1
        if atom.kind is _Kind.CHAR and atom.text.isspace():
            best_word_end = index
    # Prefer a word boundary unless it would throw away more than a fifth of the room.
    end = best_word_end if best_word_end >= best_end - limit // 5 else best_end
    end_stack: list[_Atom] = []
    for atom in atoms[:end]:
        _apply(end_stack, atom)
    body = "".join(atom.text for atom in atoms[:end]).rstrip()
    result = body + ELLIPSIS + _closers(end_stack)
    if utf16_len(result) > limit:
        raise ValueError(f"limit {limit} is too small to shorten this text")
    return result


def esc(value: object, limit: int = 200) -> str:
    """HTML-escape a value for Telegram, flattened to one line and capped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return html.escape(text, quote=False)
