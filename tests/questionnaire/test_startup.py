"""The questionnaire settings and what start-up does with them (pure parts; the real bot
process is in tests/e2e/test_questionnaire*.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.questionnaire.loader import QuestionnaireError
from bot.core.questionnaire.startup import load_catalog, report_missing_translations
from bot.settings import Settings, SettingsError
from tests.unit.test_settings import env

EXAMPLE = Path(__file__).resolve().parents[2] / "questionnaire.example.toml"


def test_questionnaire_settings_default_to_the_built_in_one_in_english() -> None:
    settings = Settings.from_env(env())
    assert settings.questionnaire_path is None
    assert (settings.default_language, settings.admin_language) == ("en", "en")


def test_questionnaire_settings_are_parsed() -> None:
    settings = Settings.from_env(
        env(
            QUESTIONNAIRE=str(EXAMPLE),
            DEFAULT_LANGUAGE="ZH",
            ADMIN_LANGUAGE="zh",
        )
    )
    assert settings.questionnaire_path == str(EXAMPLE)
    assert (settings.default_language, settings.admin_language) == ("zh", "zh")


@pytest.mark.parametrize("name", ["DEFAULT_LANGUAGE", "ADMIN_LANGUAGE"])
def test_a_language_without_texts_is_refused_naming_the_setting(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^NPSBOT_{name} is invalid: expected one of en, zh"):
        Settings.from_env(env(**{name: "fr"}))


def test_without_a_file_the_default_language_setting_applies() -> None:
    catalog = load_catalog(None, "Acme", "zh")
    assert catalog.default_language == "zh" and catalog.languages == ("en", "zh")
    assert catalog.render("thanks_promoter", "fr").startswith("谢谢您")
    assert catalog.questionnaire.drivers == {}


def test_a_files_default_language_wins_over_the_setting() -> None:
    catalog = load_catalog(str(EXAMPLE), "Acme", "zh")
    assert catalog.default_language == "en"  # the file says so


def test_a_missing_file_is_a_questionnaire_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match=r"missing\.toml: cannot read the file"):
        load_catalog(str(tmp_path / "missing.toml"), "Acme")


def test_missing_translations_are_logged_once_as_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "q.toml"
    path.write_text(
        'languages = ["en", "de"]\nlanguage_names = { de = "Deutsch" }\n'
        '[texts.de]\nthanks_promoter = "Danke!"\n',
        encoding="utf-8",
    )
    catalog = load_catalog(str(path), "Acme")
    with caplog.at_level(logging.WARNING):
        missing = report_missing_translations(catalog)
    assert "de: greeting" in missing and "de: thanks_promoter" not in missing
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "de: greeting" in warnings[0].getMessage()
    assert catalog.render("greeting", "de") == catalog.render("greeting", "en")
    assert report_missing_translations(load_catalog(str(EXAMPLE), "Acme")) == []
