"""Specification of splitting and shortening Telegram HTML (bot.reports.telegram_text)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reports.telegram_text import (
    CAPTION_LIMIT,
    ELLIPSIS,
    MESSAGE_LIMIT,
    shorten,
    split_message,
    utf16_len,
    visible_text,
)

_TAG_RE = re.compile(r"<(/?)([a-z]+)[^<>]*>")
_AMP_RE = re.compile(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);)")


def assert_valid_html(part: str) -> None:
    """Every tag closed in order, and no '&' that does not start an entity."""
    stack: list[str] = []
    for match in _TAG_RE.finditer(part):
        closing, name = match.group(1), match.group(2)
        if closing:
            assert stack and stack[-1] == name, f"unbalanced </{name}> in {part!r}"
            stack.pop()
        else:
            stack.append(name)
    assert not stack, f"unclosed {stack} in {part!r}"
    assert not _AMP_RE.search(part), f"broken entity in {part!r}"
    # A '<' or '>' outside a tag would be a half-cut tag.
    assert "<" not in _TAG_RE.sub("", part) and ">" not in _TAG_RE.sub("", part)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- fixed examples ----------------------------------------------------------------------


def test_text_that_fits_is_returned_as_one_part() -> None:
    assert split_message("<b>NPS</b> +50", 4096) == ["<b>NPS</b> +50"]


def test_blank_text_gives_no_parts() -> None:
    assert split_message("", 10) == []
    assert split_message("  \n ", 10) == []


def test_splits_at_paragraph_breaks_first() -> None:
    text = "aaaa aaaa\nbbbb\n\ncccc cccc"
    assert split_message(text, 16) == ["aaaa aaaa\nbbbb", "cccc cccc"]


def test_splits_at_line_breaks_when_a_paragraph_is_too_long() -> None:
    text = "aaaa\nbbbb\ncccc"
    assert split_message(text, 10) == ["aaaa\nbbbb", "cccc"]


def test_splits_between_words_when_a_line_is_too_long() -> None:
    assert split_message("alpha beta gamma delta", 12) == ["alpha beta ", "gamma delta"]


def test_a_single_overlong_word_is_hard_split() -> None:
    assert split_message("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_tags_open_at_a_cut_are_closed_and_reopened() -> None:
    parts = split_message("<b>bold words here</b> tail", 18)
    assert parts == ["<b>bold words </b>", "<b>here</b> tail"]
    for part in parts:
        assert_valid_html(part)


def test_an_entity_is_never_cut() -> None:
    parts = split_message("a&amp;b&lt;c&gt;d&#128512;e", 10)
    assert len(parts) > 2
    for part in parts:
        assert_valid_html(part)
        assert utf16_len(part) <= 10
    assert "".join(visible_text(p) for p in parts) == "a&b<c>d😀e"


def test_a_tag_is_never_cut() -> None:
    parts = split_message("<code>abcdefgh</code><i>ijkl</i>", 16)
    for part in parts:
        assert_valid_html(part)
        assert utf16_len(part) <= 16
    assert "".join(visible_text(p) for p in parts) == "abcdefghijkl"


def test_lengths_count_emoji_as_two_utf16_units() -> None:
    assert utf16_len("😀a") == 3
    parts = split_message("😀" * 10, 8)
    assert parts == ["😀" * 4, "😀" * 4, "😀" * 2]


def test_a_limit_too_small_for_the_wrapping_tags_is_an_error() -> None:
    with pytest.raises(ValueError):
        split_message("<b><i>" + "x" * 40 + "</i></b>", 10)


def test_a_realistic_long_digest_splits_under_telegrams_limit() -> None:
    paragraph = "<b>Section</b>\n" + "\n".join(
        f"• <i>{html.escape('verbatim <&> ' * 5)}</i> {i}" for i in range(40)
    )
    text = "\n\n".join([paragraph] * 5)
    parts = split_message(text)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= MESSAGE_LIMIT
        assert_valid_html(part)
        assert part.startswith("<b>Section</b>") or part.startswith("•")


# --- shorten -----------------------------------------------------------------------------


def test_shorten_leaves_text_that_fits_alone() -> None:
    assert shorten("<b>short</b>", 20) == "<b>short</b>"


def test_shorten_cuts_between_words_and_adds_an_ellipsis() -> None:
    assert shorten("one two three four five", 15) == "one two three" + ELLIPSIS


def test_shorten_closes_tags_and_never_cuts_an_entity() -> None:
    result = shorten("<b>Tom &amp; Jerry &amp; friends</b>", 20)
    assert utf16_len(result) <= 20
    assert_valid_html(result)
    assert result.endswith(ELLIPSIS + "</b>")


def test_shorten_of_one_long_word_cuts_inside_it() -> None:
    assert shorten("x" * 50, 10) == "x" * 9 + ELLIPSIS


def test_caption_limit_constant_matches_telegram() -> None:
    assert CAPTION_LIMIT == 1024 and MESSAGE_LIMIT == 4096


# --- properties --------------------------------------------------------------------------

_words = st.lists(st.sampled_from([*"abcxyz<>&\"' 😀é", "\n", "\n\n", "word "]), max_size=30).map(
    "".join
)


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = draw(st.lists(st.integers(0, 3 if depth < 3 else 0), min_size=1, max_size=6))
    out = []
    for choice in pieces:
        if choice == 0:
            out.append(html.escape(draw(_words), quote=False))
        else:
            tag = ("b", "i", "code")[choice - 1]
            out.append(f"<{tag}>{draw(html_fragments(depth + 1))}</{tag}>")
    return "".join(out)


@pytest.mark.slow  # 200 generated documents: a fuzz test
@settings(max_examples=200, deadline=None)
@given(html_fragments(), st.integers(min_value=50, max_value=150))
def test_every_part_fits_is_valid_and_the_visible_text_is_preserved(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    for part in parts:
        assert utf16_len(part) <= limit
        assert_valid_html(part)
        assert visible_text(part).strip()
    # Only the newlines at cut points may be dropped.
    assert squash("".join(visible_text(p) for p in parts)) == squash(visible_text(text))


@pytest.mark.slow  # 200 generated documents: a fuzz test
@settings(max_examples=200, deadline=None)
@given(html_fragments(), st.integers(min_value=50, max_value=150))
def test_shortened_text_fits_is_valid_and_is_a_prefix_of_the_visible_text(
    text: str, limit: int
) -> None:
    result = shorten(text, limit)
    assert utf16_len(result) <= limit
    assert_valid_html(result)
    shown = visible_text(result)
    if result == text:
        return
    assert shown.endswith(ELLIPSIS)
    assert visible_text(text).startswith(shown[: -len(ELLIPSIS)])
