"""Properties of the text checks (HTML parsing, MarkdownV2, callback data)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from standin.errors import ApiError
from standin.validation import check_reply_markup, parse_html, parse_markdown_v2, utf16_len


@given(st.text(min_size=1, max_size=50), st.text(max_size=20))
def test_escaped_text_round_trips_through_html(inner: str, before: str) -> None:
    visible, entities = parse_html(
        html.escape(before, quote=False) + "<b>" + html.escape(inner, quote=False) + "</b>"
    )
    assert visible == before + inner
    assert entities == [{"type": "bold", "offset": utf16_len(before), "length": utf16_len(inner)}]


# Telegram text is valid UTF-8, so lone surrogates (category Cs) never arrive.
@given(
    st.text(
        alphabet=st.characters(blacklist_characters="<>&", blacklist_categories=("Cs",)),
        max_size=40,
    )
)
def test_plain_text_is_unchanged_by_html(text: str) -> None:
    assert parse_html(text) == (text, [])


def test_markdown_v2_links_and_escapes() -> None:
    assert parse_markdown_v2(r"See [site](https://x.y/a-b) now\!") == "See site now!"
    with pytest.raises(ApiError, match=re.escape("Character '.' is reserved")):
        parse_markdown_v2("v1.2")


@given(st.text(min_size=1, max_size=64).filter(lambda s: len(s.encode()) <= 64))
def test_callback_data_up_to_64_bytes_is_accepted(data: str) -> None:
    markup = {"inline_keyboard": [[{"text": "b", "callback_data": data}]]}
    assert check_reply_markup(markup) == markup


@given(st.text(min_size=17, max_size=40).filter(lambda s: len(s.encode()) > 64))
def test_callback_data_over_64_bytes_is_rejected(data: str) -> None:
    with pytest.raises(ApiError, match="BUTTON_DATA_INVALID"):
        check_reply_markup({"inline_keyboard": [[{"text": "b", "callback_data": data}]]})
