"""Specification of the NPS maths (bot.core.nps)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.nps import (
    STANDARD_CUTOFFS,
    Category,
    Counts,
    Cutoffs,
    categorize,
    compare,
    estimate,
    nps,
    standard_error,
)

counts_strategy = st.builds(
    Counts,
    promoters=st.integers(0, 5000),
    passives=st.integers(0, 5000),
    detractors=st.integers(0, 5000),
)
nonempty_counts = counts_strategy.filter(lambda c: c.n > 0)


# --- categories and cut-offs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, Category.DETRACTOR),
        (6, Category.DETRACTOR),
        (7, Category.PASSIVE),
        (8, Category.PASSIVE),
        (9, Category.PROMOTER),
        (10, Category.PROMOTER),
    ],
)
def test_standard_cutoffs_put_9_10_as_promoters_7_8_passives_0_6_detractors(
    score: int, category: Category
) -> None:
    assert categorize(score) is category


@pytest.mark.parametrize("bad", [-1, 11, 100, 7.0, "9", None, True, False])
def test_categorize_rejects_anything_but_an_int_from_0_to_10(bad: object) -> None:
    with pytest.raises(ValueError):
        categorize(bad)  # type: ignore[arg-type]


def test_category_values_are_stable_strings() -> None:
    assert [c.value for c in Category] == ["promoter", "passive", "detractor"]
    assert Category("detractor") is Category.DETRACTOR


def test_standard_cutoffs_are_reported_as_standard() -> None:
    assert Cutoffs(9, 7) == STANDARD_CUTOFFS
    assert STANDARD_CUTOFFS.is_standard
    assert not Cutoffs(promoter_min=8, passive_min=6).is_standard


@pytest.mark.parametrize(
    ("promoter_min", "passive_min"),
    [(7, 7), (6, 7), (11, 7), (9, -1), (0, 0), (10, 10)],
)
def test_cutoffs_must_satisfy_0_le_passive_lt_promoter_le_10(
    promoter_min: int, passive_min: int
) -> None:
    with pytest.raises(ValueError):
        Cutoffs(promoter_min=promoter_min, passive_min=passive_min)


def test_cutoffs_reject_non_integers() -> None:
    with pytest.raises(ValueError):
        Cutoffs(promoter_min=9.0, passive_min=7)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Cutoffs(promoter_min=True, passive_min=0)


def test_extreme_but_valid_cutoffs_are_accepted() -> None:
    assert Cutoffs(promoter_min=10, passive_min=9).promoter_min == 10
    assert Cutoffs(promoter_min=1, passive_min=0).passive_min == 0


def test_non_standard_cutoffs_change_the_category() -> None:
    lenient = Cutoffs(promoter_min=8, passive_min=6)
    assert categorize(8, lenient) is Category.PROMOTER
    assert categorize(6, lenient) is Category.PASSIVE
    assert categorize(5, lenient) is Category.DETRACTOR
    assert categorize(8) is Category.PASSIVE


def test_cutoffs_describe_their_ranges() -> None:
    assert STANDARD_CUTOFFS.describe() == "promoters 9–10, passives 7–8, detractors 0–6"
    assert Cutoffs(10, 8).describe() == "promoters 10, passives 8–9, detractors 0–7"
    assert Cutoffs(1, 0).describe() == "promoters 1–10, passives 0, no detractors"


# --- counts ------------------------------------------------------------------------------


def test_counts_from_scores_tallies_each_category() -> None:
    counts = Counts.from_scores([10, 9, 8, 7, 6, 0, 10])
    assert counts == Counts(promoters=3, passives=2, detractors=2)
    assert counts.n == 7


def test_counts_from_scores_respects_the_given_cutoffs() -> None:
    assert Counts.from_scores([8, 6, 5], Cutoffs(8, 6)) == Counts(1, 1, 1)


def test_counts_from_scores_rejects_an_invalid_answer() -> None:
    with pytest.raises(ValueError):
        Counts.from_scores([9, 11])


def test_counts_from_histogram_uses_the_index_as_the_score() -> None:
    histogram = (1, 0, 0, 0, 0, 0, 2, 3, 0, 4, 5)
    assert Counts.from_histogram(histogram) == Counts(promoters=9, passives=3, detractors=3)
    with pytest.raises(ValueError):
        Counts.from_histogram((1, 2, 3))


def test_counts_add_up_category_by_category() -> None:
    assert Counts(1, 2, 3) + Counts(10, 20, 30) == Counts(11, 22, 33)


def test_counts_reject_negative_numbers() -> None:
    with pytest.raises(ValueError):
        Counts(promoters=-1)


def test_shares_are_none_without_answers() -> None:
    assert Counts().share(Category.PROMOTER) is None
    assert Counts(1, 1, 2).share(Category.DETRACTOR) == 0.5


# --- the score: the primer's worked examples ---------------------------------------------


def test_primer_example_ten_people_7_promoters_1_passive_2_detractors_is_plus_50() -> None:
    assert nps(Counts(promoters=7, passives=1, detractors=2)) == pytest.approx(50.0)


def test_primer_example_shares_38_36_26_is_plus_12() -> None:
    assert nps(Counts(promoters=38, passives=36, detractors=26)) == pytest.approx(12.0)


def test_nps_can_be_negative() -> None:
    assert nps(Counts(promoters=1, passives=1, detractors=3)) == pytest.approx(-40.0)


def test_nps_of_no_answers_is_none_not_zero() -> None:
    assert nps(Counts()) is None
    assert standard_error(Counts()) is None
    empty = estimate(Counts())
    assert empty.n == 0 and not empty.has_data
    assert (empty.score, empty.low, empty.high, empty.standard_error) == (None,) * 4


def test_all_promoters_is_plus_100_and_all_detractors_is_minus_100() -> None:
    assert nps(Counts(promoters=25)) == 100.0
    assert nps(Counts(detractors=25)) == -100.0


# --- standard error and interval ---------------------------------------------------------


def test_plain_standard_error_follows_the_primer_formula() -> None:
    # p = 0.7, d = 0.2, n = 10: sqrt((0.9 - 0.25) / 10) = 0.25495...
    assert standard_error(Counts(7, 1, 2)) == pytest.approx(math.sqrt(0.065) * 100)


def test_plain_standard_error_is_zero_for_a_unanimous_sample() -> None:
    assert standard_error(Counts(promoters=40)) == 0.0


def test_estimate_uses_adjusted_wald_shares_and_n_plus_3() -> None:
    est = estimate(Counts(promoters=7, passives=1, detractors=2))
    p_adj, d_adj = 7.75 / 13, 2.75 / 13
    se_adj = math.sqrt((p_adj + d_adj - (p_adj - d_adj) ** 2) / 13) * 100
    assert est.score == pytest.approx(50.0)
    assert est.centre == pytest.approx((p_adj - d_adj) * 100)
    assert est.standard_error == pytest.approx(se_adj)
    assert est.centre is not None
    assert est.low == pytest.approx(est.centre - 1.96 * se_adj)
    assert est.high == pytest.approx(est.centre + 1.96 * se_adj)
    assert est.n == 10


def test_all_promoters_interval_is_not_zero_width_and_stays_within_bounds() -> None:
    est = estimate(Counts(promoters=20))
    assert est.score == 100.0
    assert est.low is not None and est.high is not None
    assert -100.0 <= est.low < est.high <= 100.0
    assert est.high - est.low > 10  # 20 answers cannot pin NPS to a point
    assert est.low > 50  # ...but they do say it is clearly high


def test_all_detractors_mirror_all_promoters() -> None:
    good, bad = estimate(Counts(promoters=20)), estimate(Counts(detractors=20))
    assert bad.score == -100.0
    assert bad.low == pytest.approx(-good.high)  # type: ignore[operator]
    assert bad.high == pytest.approx(-good.low)  # type: ignore[operator]


def test_a_single_answer_gives_a_very_wide_interval() -> None:
    est = estimate(Counts(promoters=1))
    assert est.score == 100.0 and est.n == 1
    assert est.low is not None and est.high is not None
    # Documented consequence of centring on the adjusted estimate: one promoter says
    # little, the interval spans most of the scale.
    assert est.high - est.low > 100
    assert est.low < 0 < est.high


def test_interval_narrows_as_the_sample_grows() -> None:
    small = estimate(Counts(7, 1, 2))
    large = estimate(Counts(700, 100, 200))
    assert small.high - small.low > 3 * (large.high - large.low)  # type: ignore[operator]


def test_wider_z_gives_a_wider_interval_and_bad_z_is_rejected() -> None:
    counts = Counts(30, 30, 30)
    e95, e99 = estimate(counts), estimate(counts, z=2.576)
    assert e99.low < e95.low and e99.high > e95.high  # type: ignore[operator]
    with pytest.raises(ValueError):
        estimate(counts, z=0)


@given(counts_strategy)
def test_nps_is_always_between_minus_100_and_100(counts: Counts) -> None:
    score = nps(counts)
    if counts.n == 0:
        assert score is None
    else:
        assert score is not None and -100.0 <= score <= 100.0


@given(nonempty_counts)
def test_interval_is_ordered_clamped_and_contains_the_adjusted_centre(counts: Counts) -> None:
    est = estimate(counts)
    assert est.low is not None and est.high is not None and est.centre is not None
    assert -100.0 <= est.low <= est.centre <= est.high <= 100.0
    assert est.low < est.high
    assert est.standard_error is not None and est.standard_error > 0


@given(nonempty_counts.filter(lambda c: c.n >= 30))
def test_with_30_or_more_answers_the_raw_score_lies_inside_the_interval(counts: Counts) -> None:
    est = estimate(counts)
    assert est.low <= est.score <= est.high  # type: ignore[operator]


@given(counts_strategy)
def test_swapping_promoters_and_detractors_negates_the_score_and_mirrors_the_interval(
    counts: Counts,
) -> None:
    mirrored = Counts(counts.detractors, counts.passives, counts.promoters)
    a, b = estimate(counts), estimate(mirrored)
    if counts.n == 0:
        assert a.score is None and b.score is None
        return
    assert b.score == pytest.approx(-a.score)  # type: ignore[operator]
    assert b.low == pytest.approx(-a.high, abs=1e-9)  # type: ignore[operator]
    assert b.high == pytest.approx(-a.low, abs=1e-9)  # type: ignore[operator]
    assert b.standard_error == pytest.approx(a.standard_error)
    assert standard_error(mirrored) == pytest.approx(standard_error(counts))


# --- comparing two periods ---------------------------------------------------------------


def test_a_large_change_on_large_samples_is_beyond_the_noise() -> None:
    result = compare(Counts(120, 60, 20), Counts(60, 80, 60))  # +50 vs 0, n = 200 each
    assert result.has_data
    assert result.difference == pytest.approx(50.0)
    assert result.significant is True
    assert result.z is not None and result.z > 1.96


def test_a_small_change_on_small_samples_is_within_the_noise() -> None:
    result = compare(Counts(8, 6, 6), Counts(7, 6, 7))  # +10 vs 0, n = 20 each
    assert result.difference == pytest.approx(10.0)
    assert result.significant is False


def test_a_drop_is_a_negative_difference() -> None:
    result = compare(Counts(60, 80, 60), Counts(120, 60, 20))
    assert result.difference == pytest.approx(-50.0)
    assert result.z is not None and result.z < 0
    assert result.significant is True


def test_two_single_opposite_answers_are_not_beyond_the_noise() -> None:
    # The plain SE of each side is 0; the adjustment keeps this from looking certain.
    result = compare(Counts(promoters=1), Counts(detractors=1))
    assert result.difference == pytest.approx(200.0)
    assert result.significant is False


def test_comparison_standard_error_combines_both_sides_as_independent_samples() -> None:
    current, previous = Counts(50, 30, 20), Counts(30, 30, 40)
    result = compare(current, previous)
    se1, se2 = estimate(current).standard_error, estimate(previous).standard_error
    assert result.standard_error == pytest.approx(math.sqrt(se1**2 + se2**2))  # type: ignore[operator]
    assert result.z == pytest.approx(result.adjusted_difference / result.standard_error)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("current", "previous"),
    [(Counts(), Counts(5, 0, 0)), (Counts(5, 0, 0), Counts()), (Counts(), Counts())],
)
def test_comparison_without_data_on_either_side_has_no_verdict(
    current: Counts, previous: Counts
) -> None:
    result = compare(current, previous)
    assert not result.has_data
    assert result.difference is None and result.significant is None and result.z is None
