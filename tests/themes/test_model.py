"""Driver themes and sentiment: what the model learns and from what."""

from __future__ import annotations

import json

import pytest

from benchmarks.themes_evaluation import LabelledComment
from bot.themes import Comment, DriverSpec, ThemeModel, theme_sentiment

SEED_DRIVERS = [
    DriverSpec(
        "courier",
        {"en": "The courier", "zh": "快递员"},
        {"en": ["driver", "rude", "polite"], "zh": ["送货员", "态度"]},
    ),
    DriverSpec(
        "tracking",
        {"en": "Tracking", "zh": "物流跟踪"},
        {"en": ["tracking number", "status"], "zh": ["物流信息", "单号"]},
    ),
    DriverSpec(
        "price", {"en": "Price", "zh": "价格"}, {"en": ["expensive", "cheap"], "zh": ["贵"]}
    ),
]


def themes_of(model: ThemeModel, text: str, score: int | None = None) -> set[str]:
    return {h.theme_id for h in model.assign(Comment("c", text, None, score))}


def test_seed_keywords_alone_give_themes_without_any_ticked_comment() -> None:
    model = ThemeModel.train([], SEED_DRIVERS)
    assert themes_of(model, "The driver was rude to me") == {"courier"}
    assert themes_of(model, "The tracking number never worked") == {"tracking"}
    assert themes_of(model, "物流信息一直不更新") == {"tracking"}
    assert themes_of(model, "太贵了") == {"price"}


def test_a_comment_about_none_of_the_drivers_gets_no_theme() -> None:
    model = ThemeModel.train([], SEED_DRIVERS)
    assert themes_of(model, "ok") == set()
    assert themes_of(model, "my cat likes boxes") == set()
    assert themes_of(model, "") == set()


def test_a_comment_can_have_several_themes() -> None:
    model = ThemeModel.train([], SEED_DRIVERS)
    assert themes_of(model, "Rude driver and so expensive") == {"courier", "price"}


def test_ticked_comments_teach_words_no_keyword_mentions() -> None:
    lockers = DriverSpec("lockers", {"en": "Parcel lockers"}, {})
    drivers = [*SEED_DRIVERS, lockers]
    ticked = [
        Comment(f"t{i}", text, "en", 9, ("lockers",))
        for i, text in enumerate(
            [
                "Picked it up at the pickup point near the station",
                "The pickup point closes too early",
                "Love the pickup point in my supermarket",
                "Pickup point was full, had to wait",
                "Handy pickup point, open late",
                "pickup point code worked first time",
            ]
        )
    ]
    others = [
        Comment("o1", "The driver was polite", "en", 10, ("courier",)),
        Comment("o2", "Too expensive", "en", 3, ("price",)),
        Comment("o3", "Status never changed", "en", 4, ("tracking",)),
    ]
    without = ThemeModel.train(others, drivers)
    model = ThemeModel.train([*ticked, *others], drivers)
    unticked = "Is there a pickup point in the north of town?"
    assert "lockers" not in themes_of(without, unticked)
    assert "lockers" in themes_of(model, unticked)


def test_drivers_grouped_into_one_theme_count_toward_it() -> None:
    drivers = [
        DriverSpec("speed", {"en": "Delivery speed"}, {"en": ["fast", "slow"]}),
        DriverSpec("late", {"en": "Late delivery"}, {"en": ["late", "delayed"]}, theme="speed"),
    ]
    model = ThemeModel.train([Comment("a", "two days behind", "en", 2, ("late",))], drivers)
    assert model.themes == ("speed",)
    assert model.driver_themes == {"speed": "speed", "late": "speed"}
    assert themes_of(model, "It was delayed again") == {"speed"}


def test_score_category_is_a_strong_sentiment_prior() -> None:
    model = ThemeModel.train([], SEED_DRIVERS)
    assert model.sentiment(Comment("a", "ok", None, 10)).label == "positive"
    assert model.sentiment(Comment("b", "ok", None, 8)).label == "neutral"
    assert model.sentiment(Comment("c", "ok", None, 2)).label == "negative"
    unknown = model.sentiment(Comment("d", "ok", None, None))
    assert unknown.probabilities["positive"] == pytest.approx(1 / 3, abs=1e-3)


def test_sentiment_evidence_is_learned_from_promoters_and_detractors() -> None:
    promoters = [Comment(f"p{i}", "wonderful, loved it, 太好了", "en", 10) for i in range(15)]
    detractors = [Comment(f"d{i}", "awful, hated it, 太差了", "en", 1) for i in range(15)]
    model = ThemeModel.train([*promoters, *detractors], SEED_DRIVERS)
    # A passive's words decide between the labels the prior leaves open.
    assert model.sentiment(Comment("a", "awful, hated it", None, 7)).label == "negative"
    assert model.sentiment(Comment("b", "wonderful, loved it", None, 8)).label == "positive"
    assert model.sentiment(Comment("c", "太差了", None, 7)).label == "negative"
    # Weak evidence does not overturn a promoter's score.
    assert model.sentiment(Comment("d", "hated the colour", None, 10)).label == "positive"
    probs = model.sentiment(Comment("e", "awful", None, 7)).probabilities
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3)


def test_sentiment_of_a_theme_aggregates_its_comments(trained: ThemeModel) -> None:
    analyses = trained.analyse_many(
        [
            Comment("1", "The courier was rude", "en", 1),
            Comment("2", "The driver threw my parcel", "en", 2),
            Comment("3", "Lovely polite driver", "en", 10),
            Comment("4", "ok", "en", 9),
        ]
    )
    by_theme = {t.theme_id: t for t in theme_sentiment(analyses)}
    courier = by_theme["courier"]
    assert courier.comments == 3
    assert courier.counts == {"positive": 1, "neutral": 0, "negative": 2}
    assert courier.mean["negative"] > courier.mean["positive"]


def test_model_round_trips_through_json(
    trained: ThemeModel, labelled: list[LabelledComment]
) -> None:
    stored = json.loads(json.dumps(trained.to_dict(), ensure_ascii=False))
    restored = ThemeModel.from_dict(stored)
    comments = [lc.hidden() for lc in labelled if lc.split == "heldout"]
    assert restored.analyse_many(comments) == trained.analyse_many(comments)
    assert restored.themes == trained.themes
    assert restored.thresholds == trained.thresholds


def test_unknown_stored_format_is_refused(trained: ThemeModel) -> None:
    stored = trained.to_dict() | {"format": 999}
    with pytest.raises(ValueError, match="format"):
        ThemeModel.from_dict(stored)


def test_score_outside_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.10"):
        Comment("x", "hi", None, 11)


def test_a_typo_of_a_known_word_counts_as_the_word() -> None:
    model = ThemeModel.train([], SEED_DRIVERS)
    assert themes_of(model, "the curier was late") == {"courier"}
    assert themes_of(model, "so expnsive") == {"price"}
    assert model.tokenize("the drver").words == ("driver",)
    # Short words are left alone: too many words are one letter apart.
    assert model.tokenize("so rdue").words == ("rdue",)
