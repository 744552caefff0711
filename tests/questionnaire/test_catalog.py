"""Rendering texts: languages, fallbacks, event wording and placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.nps import Category
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.language import normalize_tag, resolve_language
from bot.core.questionnaire.loader import load_questionnaire, parse_questionnaire
from bot.core.questionnaire.model import Questionnaire

EXAMPLE = Path(__file__).resolve().parents[2] / "questionnaire.example.toml"


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(load_questionnaire(EXAMPLE), company="Settings Co")


def test_every_built_in_text_has_a_chinese_translation() -> None:
    assert Catalog(Questionnaire(), "Acme").missing_translations() == []


def test_english_and_chinese_follow_ups_per_category(catalog: Catalog) -> None:
    assert catalog.render("followup_passive", "en") == "Thanks! What would make it a 10 for you?"
    assert catalog.render("followup_passive", "zh") == "谢谢！我们怎样做才能让您打10分？"
    assert catalog.render("followup_promoter", "zh") == "谢谢！您最欣赏Acme 快递的哪一点？"


def test_questionnaire_overrides_win_over_built_in_texts(catalog: Catalog) -> None:
    assert catalog.render("followup_detractor", "en").startswith("We're sorry. What went")
    assert catalog.render("followup_detractor", "zh").startswith("非常抱歉")


def test_an_unknown_language_falls_back_to_the_default(catalog: Catalog) -> None:
    assert catalog.render("thanks_promoter", "fr") == catalog.render("thanks_promoter", "en")


def test_a_missing_translation_falls_back_and_is_reported() -> None:
    q = parse_questionnaire(
        {
            "languages": ["en", "de"],
            "language_names": {"de": "Deutsch"},
            "texts": {"de": {"thanks_promoter": "Danke!"}},
        },
        "q.toml",
    )
    c = Catalog(q, "Acme")
    assert c.render("thanks_promoter", "de") == "Danke!"
    assert c.render("thanks_passive", "de") == c.render("thanks_passive", "en")
    missing = c.missing_translations()
    assert "de: thanks_passive" in missing and "de: thanks_promoter" not in missing


def test_company_name_comes_from_the_questionnaire_else_the_settings() -> None:
    assert "Settings Co" in Catalog(Questionnaire(), "Settings Co").render("linked", "en")


def test_the_event_question_uses_its_properties(catalog: Catalog) -> None:
    text = catalog.question("transactional", "en", "delivery", {"order_id": "A-17"})
    assert text.startswith("Your order A-17 has been delivered.")
    zh = catalog.question("transactional", "zh", "delivery", {"order_id": "A-17"})
    assert zh.startswith("您的订单 A-17 已送达")


def test_a_missing_event_property_falls_back_to_the_general_question(catalog: Catalog) -> None:
    text = catalog.question("transactional", "en", "delivery", {})
    assert "{" not in text and "based on your recent delivery" in text
    assert catalog.missing_properties("delivery", {}) == ["order_id"]
    assert catalog.missing_properties("delivery", {"order_id": " "}) == ["order_id"]
    assert catalog.missing_properties("delivery", {"order_id": 5}) == []


def test_property_values_are_not_interpreted_as_templates(catalog: Catalog) -> None:
    text = catalog.question("transactional", "en", "delivery", {"order_id": "{company}"})
    assert text.startswith("Your order {company} has been delivered.")


def test_questions_per_kind_differ(catalog: Catalog) -> None:
    rel = catalog.question("relationship", "en")
    ep = catalog.question("episode", "en")
    tr = catalog.question("transactional", "en", "support_ticket")
    assert len({rel, ep, tr}) == 3
    assert "support request" in tr


def test_driver_labels_per_language(catalog: Catalog) -> None:
    late = catalog.drivers(Category.DETRACTOR)[0]
    assert catalog.driver_label(late, "en") == "Late delivery"
    assert catalog.driver_label(late, "zh") == "配送延误"
    assert catalog.driver_label(late, "fr") == "Late delivery"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-Hans", "zh"),
        ("zh_CN", "zh"),
        ("EN-us", "en"),
        ("en", "en"),
        ("", None),
        (None, None),
        ("not a tag!", None),
        ("x" * 40, None),
    ],
)
def test_language_tags_are_normalised(tag: str | None, expected: str | None) -> None:
    assert normalize_tag(tag) == expected


def test_language_resolution_order() -> None:
    available = ("en", "zh")
    assert resolve_language("zh", "en-US", available, "en") == "zh"  # stored choice first
    assert resolve_language(None, "zh-hans", available, "en") == "zh"  # then Telegram's
    assert resolve_language("fr", "de", available, "en") == "en"  # then the default
