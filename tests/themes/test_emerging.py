"""Emerging themes: clusters of unexplained comments, named by key words, stable across runs."""

from __future__ import annotations

from bot.themes import Comment, DriverSpec, EmergingTheme, ThemeModel, find_emerging, match_emerging

APP = [
    "The app crashes when I open it",
    "App keeps crashing on my phone",
    "Your app crashed twice today",
    "app crash on login, please fix",
]
LOCKERS = [
    "Please add a parcel locker near the station",
    "A parcel locker in my building would be great",
    "Parcel locker option would help",
]
NOISE = ["ok", "thanks", "fine", "good job", "my cat likes boxes"]


def pairs(texts: list[str], prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}{i}", t) for i, t in enumerate(texts)]


def test_unexplained_comments_cluster_into_themes_named_by_their_key_words() -> None:
    themes = find_emerging([*pairs(APP, "a"), *pairs(LOCKERS, "l"), *pairs(NOISE, "n")])
    app = next(t for t in themes if "app" in t.keywords)
    assert set(app.comment_ids) == {"a0", "a1", "a2", "a3"}
    assert app.keywords[:2] in {("app", "crash"), ("crash", "app")}
    # Named as customers wrote the words, not by their stems.
    assert "app" in app.name and "crash" in app.name
    lockers = next(t for t in themes if "locker" in t.keywords)
    assert set(lockers.comment_ids) == {"l0", "l1", "l2"}


def test_chinese_comments_cluster_by_words() -> None:
    texts = [
        "APP总是闪退",
        "手机上APP闪退",
        "APP一打开就闪退",
        "希望多建快递柜",
        "小区没有快递柜",
        "快递柜不够用",
    ]
    themes = find_emerging(pairs(texts, "z"))
    groups = {frozenset(t.comment_ids): t for t in themes}
    crashes = groups[frozenset({"z0", "z1", "z2"})]
    lockers = groups[frozenset({"z3", "z4", "z5"})]
    assert "闪退" in crashes.keywords
    assert "柜" in lockers.name


def test_too_few_comments_make_no_theme() -> None:
    assert find_emerging(pairs(["app crash", "app crash again"], "x")) == []


def test_a_theme_keeps_its_id_and_name_across_runs() -> None:
    first = find_emerging([*pairs(APP, "a"), *pairs(LOCKERS, "l")])
    later_texts = [*APP[1:], "app crashes all the time", "crash in the app again"]
    second = find_emerging([*pairs(later_texts, "b"), *pairs(LOCKERS, "m")])
    matched = match_emerging(first, second)
    old_app = next(t for t in first if "app" in t.keywords)
    new_app = next(t for t in matched if "app" in t.keywords)
    assert (new_app.id, new_app.name) == (old_app.id, old_app.name)
    assert set(new_app.comment_ids) == {f"b{i}" for i in range(len(later_texts))}


def test_a_new_theme_gets_a_new_id_and_old_ones_are_not_reused() -> None:
    previous = [EmergingTheme("emerging-1", "app / crash", ("app", "crash"), ("a",))]
    current = [
        EmergingTheme("emerging-1", "locker / parcel", ("locker", "parcel"), ("b",)),
        EmergingTheme("emerging-2", "app / crash / login", ("app", "crash", "login"), ("c",)),
    ]
    matched = match_emerging(previous, current)
    assert matched[1].id == "emerging-1" and matched[1].name == "app / crash"
    assert matched[0].id != "emerging-1"
    assert matched[0].name == "locker / parcel"


def test_overlap_below_the_threshold_is_a_different_theme() -> None:
    previous = [EmergingTheme("e-old", "app / crash", ("app", "crash", "login"), ())]
    current = [EmergingTheme("e-new", "app / locker", ("app", "locker", "parcel"), ())]
    assert match_emerging(previous, current, threshold=0.3)[0].id == "e-new"


def test_emerging_theme_round_trips_through_a_dict() -> None:
    theme = EmergingTheme("e1", "app / crash", ("app", "crash"), ("a", "b"))
    assert EmergingTheme.from_dict(theme.to_dict()) == theme


def test_model_looks_for_emerging_themes_only_where_no_driver_theme_applies() -> None:
    drivers = [DriverSpec("courier", {"en": "The courier"}, {"en": ["driver", "rude"]})]
    model = ThemeModel.train([], drivers)
    comments = [Comment(f"a{i}", t, "en", 5) for i, t in enumerate(APP)]
    comments += [Comment(f"d{i}", f"rude driver, app {i}", "en", 2) for i in range(4)]
    themes = model.emerging(comments)
    assert len(themes) == 1
    assert set(themes[0].comment_ids) == {"a0", "a1", "a2", "a3"}
