"""Questionnaire files: what is accepted, and the error each mistake gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.nps import Category
from bot.core.questionnaire.loader import (
    QuestionnaireError,
    load_questionnaire,
    parse_questionnaire,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "questionnaire.example.toml"


def test_the_shipped_example_is_valid_and_has_drivers_and_two_languages() -> None:
    q = load_questionnaire(EXAMPLE)
    assert q.languages == ("en", "zh")
    assert [d.id for d in q.drivers_for(Category.DETRACTOR)][:2] == ["late", "damaged"]
    assert q.event_types["delivery"].properties == ("order_id",)
    assert q.company == {"en": "Acme Delivery", "zh": "Acme 快递"}


def test_an_empty_file_is_the_built_in_questionnaire() -> None:
    q = parse_questionnaire({}, "q.toml")
    assert (q.languages, q.default_language, q.drivers) == (("en", "zh"), "en", {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"colour": "red"}, "q.toml: colour: unknown key"),
        ({"languages": []}, "q.toml: languages: expected a non-empty list"),
        ({"languages": ["english"]}, "q.toml: languages[0]: expected a 2-3 letter"),
        ({"languages": ["en", "en"]}, "q.toml: languages[1]: 'en' listed twice"),
        ({"default_language": "fr"}, "q.toml: default_language: 'fr' is not in languages"),
        ({"languages": ["en", "fr"]}, "q.toml: language_names: give a display name for ['fr']"),
        ({"texts": {"en": {"followup_promoter": ""}}}, "texts.en.followup_promoter: expected non"),
        ({"texts": {"en": {"no_such_key": "x"}}}, "texts.en.no_such_key: unknown text key"),
        ({"texts": {"fr": {"thanks_promoter": "x"}}}, "texts.fr: language not listed"),
        (
            {"texts": {"en": {"thanks_promoter": "Hi {name}"}}},
            "texts.en.thanks_promoter: unknown placeholder(s) ['name']",
        ),
        (
            {"texts": {"en": {"thanks_promoter": "Hi {company.__class__}"}}},
            "must be a plain {name}",
        ),
        (
            {"texts": {"en": {"question_transactional": "Order {order_id}?"}}},
            "unknown placeholder(s) ['order_id']",
        ),
        ({"texts": {"en": {"thanks_promoter": "x" * 4000}}}, "longer than 3500 characters"),
        ({"drivers": {"promoter": []}}, "drivers.promoter: expected a list of 1 to 12"),
        ({"drivers": {"promoter": ["Speed!"]}}, "drivers.promoter[0]: driver ids use a-z"),
        ({"drivers": {"promoter": ["speed"]}}, "drivers.labels.en.speed: missing label"),
        ({"drivers": {"fans": ["x"]}}, "drivers.fans: unknown key"),
        ({"promoter_link": "http://example.com"}, "promoter_link: expected an https:// URL"),
        ({"event_types": {"bad name": {}}}, "event_types.bad name: event type names use"),
        ({"event_types": {"d": {"properties": ["company"]}}}, "event_types.d.properties"),
        ({"event_types": {"d": {"colour": 1}}}, "event_types.d.colour: unknown key"),
        (
            {"event_types": {"d": {"texts": {"en": {"question_transactional": "{ref}?"}}}}},
            "event_types.d.texts.en.question_transactional: unknown placeholder(s) ['ref']",
        ),
    ],
)
def test_each_mistake_is_named_with_its_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(QuestionnaireError) as error:
        parse_questionnaire(data, "q.toml")
    assert message in str(error.value)


def test_event_properties_may_be_used_in_that_events_question() -> None:
    q = parse_questionnaire(
        {
            "event_types": {
                "delivery": {
                    "properties": ["order_id"],
                    "texts": {"en": {"question_transactional": "Order {order_id}: {company}?"}},
                }
            }
        },
        "q.toml",
    )
    assert q.event_types["delivery"].texts["en"]["question_transactional"].startswith("Order")


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text('languages = ["en"\n[texts.en]\n', encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"q\.toml: .*line"):
        load_questionnaire(path)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="cannot read the file"):
        load_questionnaire(tmp_path / "nope.toml")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_bytes(b'languages = ["\xff"]')
    with pytest.raises(QuestionnaireError, match="not UTF-8"):
        load_questionnaire(path)
