"""Specification of the one text catalog (bot.core.texts): complete in every built-in language."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.core.periods import PeriodError, parse_period, parse_report_args, period_label
from bot.core.texts import (
    AUDIENCES,
    BUILTIN_LANGUAGES,
    LANGUAGE_NAMES,
    Audience,
    TextError,
    admin_texts,
    fields,
    table,
)
from bot.reports.digest import NO_VALUE
from storage.reports import NO_VALUE as STORAGE_NO_VALUE

TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")  # the tags Telegram HTML texts use
TODAY = date(2026, 11, 23)
TRANSLATIONS = [lang for lang in BUILTIN_LANGUAGES if lang != "en"]


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_every_key_exists_in_every_built_in_language(lang: str, audience: Audience) -> None:
    english, translated = table("en", audience), table(lang, audience)
    assert sorted(set(english) - set(translated)) == [], "missing translations"
    assert sorted(set(translated) - set(english)) == [], "keys English does not have"


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_placeholders_and_html_tags_match_english(lang: str, audience: Audience) -> None:
    english, translated = table("en", audience), table(lang, audience)
    for key, text in translated.items():
        assert fields(text) == fields(english[key]), f"{lang}: {key}: placeholders differ"
        assert sorted(TAG.findall(text)) == sorted(TAG.findall(english[key])), (
            f"{lang}: {key}: HTML tags differ"
        )


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("lang", BUILTIN_LANGUAGES)
def test_every_text_renders_with_its_own_placeholders(lang: str, audience: Audience) -> None:
    for key, text in table(lang, audience).items():
        assert text.strip(), f"{lang}: {key} is empty"
        text.format(**dict.fromkeys(fields(text), 1))


def test_the_check_catches_a_placeholder_mismatch() -> None:
    assert fields("{rows:,} answers · {period}{filters}") == {"rows", "period", "filters"}
    assert fields("{rows:,} 条回答 · {period}") != fields("{rows:,} answers · {period}{filters}")


def test_every_built_in_language_names_itself() -> None:
    assert set(LANGUAGE_NAMES) == set(BUILTIN_LANGUAGES)


def test_admin_texts_fall_back_to_english_for_an_unknown_language() -> None:
    assert admin_texts("fr").lang == "en"
    assert admin_texts("fr").usage("stats") == admin_texts("en").usage("stats")


def test_named_values_are_translated_and_unknown_ones_shown_as_stored() -> None:
    zh = admin_texts("zh")
    assert zh.kind("transactional") == "交易型" and zh.kind("custom_kind") == "custom_kind"
    assert zh.status("answered") == "已回答" and zh.media("sticker") == "贴纸"
    assert admin_texts("en").media("photo") == "photo"


def test_argument_errors_are_english_in_str_and_chinese_for_a_chinese_admin() -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period("soon", TODAY)
    assert str(caught.value).startswith("“soon” is not a period I understand. Use today")
    shown = admin_texts("zh").error(caught.value)
    assert shown.startswith("无法识别时间段“soon”。可用 today")
    assert admin_texts("zh").error(ValueError("plain")) == "plain"
    assert isinstance(caught.value, TextError)


def test_filter_errors_carry_their_help_line_in_the_admin_language() -> None:
    with pytest.raises(TextError) as caught:
        parse_report_args(["7d", "=pro"], TODAY)
    assert "e.g. event=delivery" in str(caught.value)
    assert "例如 event=delivery" in admin_texts("zh").error(caught.value)


def test_period_labels_are_worded_in_the_admin_language() -> None:
    zh, en = admin_texts("zh"), admin_texts("en")
    week = parse_period("7d", TODAY)
    assert period_label(week, en) == week.label == "last 7 days (2026-11-17 – 2026-11-23)"
    assert period_label(week, zh) == "最近 7 天（2026-11-17 – 2026-11-23）"
    assert period_label(parse_period("yesterday", TODAY), zh) == "昨天（2026-11-22）"
    assert period_label(parse_period("2026-11-01", TODAY), zh) == "2026-11-01"


def test_the_no_value_group_is_the_one_storage_uses() -> None:
    assert NO_VALUE == STORAGE_NO_VALUE
