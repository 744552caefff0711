"""The labelled set and the held-out quality guard (below the 0.8 target, above a broken model)."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.themes_evaluation import LabelledComment, evaluate, theme_scores
from bot.themes import ThemeModel

THEMES = {"speed", "courier", "tracking", "price", "support", "damaged"}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_labelled_set_has_enough_varied_comments(
    labelled: list[LabelledComment], language: str
) -> None:
    rows = [lc for lc in labelled if lc.comment.language == language]
    assert len(rows) >= 200
    assert all(lc.themes <= THEMES for lc in rows)
    counts = Counter(t for lc in rows for t in lc.themes)
    assert set(counts) == THEMES and min(counts.values()) >= 15
    assert sum(1 for lc in rows if not lc.themes) >= 30
    held = [lc for lc in rows if lc.split == "heldout"]
    assert 0.25 <= len(held) / len(rows) <= 0.35
    ticked = [lc for lc in rows if lc.split == "train" and lc.comment.drivers]
    assert 0.3 <= len(ticked) / (len(rows) - len(held)) <= 0.6


@pytest.mark.parametrize("language", ["en", "zh"])
def test_held_out_f1_per_language_stays_above_the_guard(
    trained: ThemeModel, labelled: list[LabelledComment], language: str
) -> None:
    result = evaluate(trained, labelled, language)
    assert result.micro.f1 >= 0.75, result.micro.as_dict()
    assert result.sentiment_accuracy >= 0.8


def test_scores_count_each_theme_of_each_comment() -> None:
    gold = [frozenset({"a"}), frozenset({"a", "b"}), frozenset()]
    predicted = [frozenset({"a"}), frozenset({"b"}), frozenset({"a"})]
    micro, per = theme_scores(gold, predicted, ["a", "b"])
    assert (per["a"].tp, per["a"].fp, per["a"].fn) == (1, 1, 1)
    assert (micro.tp, micro.fp, micro.fn) == (2, 1, 1)
    assert micro.precision == pytest.approx(2 / 3)
    assert micro.f1 == pytest.approx(2 / 3)
