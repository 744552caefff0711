"""Tokenisation: Chinese into words, English into stems, negation kept for sentiment only."""

from __future__ import annotations

from bot.themes import detect_language, tokenize
from bot.themes.text import stem


def test_chinese_is_segmented_into_words_not_characters() -> None:
    words = tokenize("快递员态度很好，物流信息更新及时").words
    assert "态度" in words
    assert "物流" in words or "物流信息" in words
    assert any(len(w) >= 2 for w in words)
    # Not one feature per character: "态" and "度" never appear alone.
    assert "态" not in words and "度" not in words


def test_chinese_stopwords_and_punctuation_are_dropped() -> None:
    words = tokenize("我的包裹，了！").words
    assert words == ("包裹",)


def test_english_forms_of_a_word_share_one_key() -> None:
    assert stem("delayed") == stem("delays") == stem("delaying") == stem("delay")
    assert stem("damaged") == stem("damage")
    assert stem("speedy") == stem("speed") == "speed"
    assert stem("early") == "early"


def test_english_stopwords_are_dropped_and_case_ignored() -> None:
    assert tokenize("The Courier was VERY polite").words == ("courier", stem("polite"))


def test_negation_marks_the_sentiment_features_but_not_the_theme_words() -> None:
    tokens = tokenize("The parcel was not late at all. Great driver")
    assert "late" in tokens.words
    assert "!late" in tokens.polar
    # A negation stops at the end of its clause.
    assert "great" in tokens.polar and "!great" not in tokens.polar


def test_chinese_negation_marks_the_following_word() -> None:
    tokens = tokenize("一点都没有迟到")
    assert "迟到" in tokens.words
    assert "!迟到" in tokens.polar


def test_mixed_language_comment_gets_features_of_both() -> None:
    words = tokenize("The tracking 物流信息 never updated").words
    assert "track" in words
    assert any("物流" in w for w in words)


def test_language_is_detected_from_the_script() -> None:
    assert detect_language("送货很快") == "zh"
    assert detect_language("Fast delivery") == "en"
    assert detect_language("APP上六天都显示运输中") == "zh"
