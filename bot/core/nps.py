"""Net Promoter Score maths: categories, the score, its uncertainty and comparisons.

Everything here is pure and deterministic. Scores are in *points* (−100..+100),
shares are fractions (0..1). See the project's NPS primer for the domain rules.

Statistical choices (documented here because reports depend on them):

* ``standard_error`` is the plain (Wald) formula from the primer,
  ``sqrt((p + d − (p − d)²) / n) × 100``. It is exact maths but collapses to zero for
  samples that are all promoters or all detractors, which would claim certainty from a
  handful of answers.
* ``estimate`` therefore builds the 95 % interval with the adjusted-Wald method
  (Sauro & Lewis, MeasuringU): add 0.75 promoter, 0.75 detractor and 1.5 passive,
  i.e. 3 to ``n``: ``p' = (P + 0.75) / (n + 3)``, ``d' = (D + 0.75) / (n + 3)``, and
  ``SE' = sqrt((p' + d' − (p' − d')²) / (n + 3))``. We use ``n + 3`` (the adjusted sample
  size) in the denominator, consistently with the adjusted shares.
* The interval is centred on the *adjusted* estimate ``(p' − d') × 100``, as the method
  prescribes; centring the adjusted width on the raw score would give intervals that are
  too optimistic at the extremes. Consequence: for tiny samples the raw score may lie
  just outside the interval (one promoter: score +100, interval about −49..+99). That is
  the honest message — one answer says almost nothing — and the effect vanishes as n grows.
* ``compare`` uses the same adjustment on both sides so that two tiny samples are never
  "significantly" different merely because their plain standard errors are zero.
* A report that makes several comparisons at once (the digest: the day before, 7 and 30
  days) tests them together with Holm–Bonferroni (:func:`holm`) on their two-sided
  p-values, so the chance that *any* of them calls noise a change stays at ``ALPHA``
  (the family-wise error rate), not about three times that.
* Below ``DEFAULT_MIN_SAMPLE`` answers (a setting in reports) a score is shown without an
  interval: "+100 (n = 1, −49 to +99)" is correct maths but reads as nonsense.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ALPHA",
    "DEFAULT_MIN_SAMPLE",
    "STANDARD_CUTOFFS",
    "Category",
    "Comparison",
    "Counts",
    "Cutoffs",
    "NpsEstimate",
    "categorize",
    "compare",
    "estimate",
    "holm",
    "nps",
    "standard_error",
    "two_sided_p",
]

MIN_SCORE = 0
MAX_SCORE = 10
#: Two-sided 95 % normal quantile, the default everywhere in reports.
Z_95 = 1.96
#: The significance level that matches ``Z_95``: the stated false-alarm rate of a report.
ALPHA = 0.05
#: Fewer answers than this: a score is shown without an interval (reports' default).
DEFAULT_MIN_SAMPLE = 10

# Adjusted-Wald pseudo-counts: 3/4 of a promoter, 3/4 of a detractor, 3 answers in all.
_ADJ_EACH = 0.75
_ADJ_N = 3.0


class Category(StrEnum):
    """The three NPS categories of a 0–10 answer."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Category boundaries: ``score >= promoter_min`` is a promoter,
    ``passive_min <= score < promoter_min`` a passive, anything lower a detractor.

    The default is the standard 9–10 / 7–8 / 0–6 convention.
    """

    promoter_min: int = 9
    passive_min: int = 7

    def __post_init__(self) -> None:
        for name in ("promoter_min", "passive_min"):
            value = getattr(self, name)
            # bool is an int subclass; True as a cut-off is always a configuration bug.
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        # passive_min == promoter_min would leave no passives; passive_min == 0 would leave
        # no detractors, which is allowed (a deliberate, if odd, calibration), but promoters
        # must always exist, hence promoter_min <= 10.
        if not (MIN_SCORE <= self.passive_min < self.promoter_min <= MAX_SCORE):
            raise ValueError(
                "cut-offs must satisfy 0 <= passive_min < promoter_min <= 10, got "
                f"passive_min={self.passive_min}, promoter_min={self.promoter_min}"
            )

    @property
    def is_standard(self) -> bool:
        """True for the standard 9–10 / 7–8 / 0–6 cut-offs."""
        return self.promoter_min == 9 and self.passive_min == 7

    def describe(self) -> str:
        """Human description, e.g. ``"promoters 9–10, passives 7–8, detractors 0–6"``."""
        passive_max = self.promoter_min - 1
        parts = [f"promoters {_span(self.promoter_min, MAX_SCORE)}"]
        parts.append(f"passives {_span(self.passive_min, passive_max)}")
        if self.passive_min > MIN_SCORE:
            parts.append(f"detractors {_span(MIN_SCORE, self.passive_min - 1)}")
        else:
            parts.append("no detractors")
        return ", ".join(parts)


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


STANDARD_CUTOFFS = Cutoffs()


def _check_score(score: object) -> int:
    if not isinstance(score, int) or isinstance(score, bool):
        raise ValueError(f"an NPS answer must be an integer 0..10, got {score!r}")
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"an NPS answer must be 0..10, got {score}")
    return score


def categorize(score: int, cutoffs: Cutoffs = STANDARD_CUTOFFS) -> Category:
    """Return the category of one 0–10 answer.

    Raises ``ValueError`` for anything that is not an ``int`` in 0..10 (``bool`` included).
    """
    value = _check_score(score)
    if value >= cutoffs.promoter_min:
        return Category.PROMOTER
    if value >= cutoffs.passive_min:
        return Category.PASSIVE
    return Category.DETRACTOR


@dataclass(frozen=True, slots=True)
class Counts:
    """How many answers fell in each category."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    def __post_init__(self) -> None:
        for name in ("promoters", "passives", "detractors"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")

    @property
    def n(self) -> int:
        """Total number of answers."""
        return self.promoters + self.passives + self.detractors

    @classmethod
    def from_scores(cls, scores: Iterable[int], cutoffs: Cutoffs = STANDARD_CUTOFFS) -> Counts:
        """Count 0–10 answers by category; raises ``ValueError`` on an invalid answer."""
        tally = {category: 0 for category in Category}
        for score in scores:
            tally[categorize(score, cutoffs)] += 1
        return cls(
            promoters=tally[Category.PROMOTER],
            passives=tally[Category.PASSIVE],
            detractors=tally[Category.DETRACTOR],
        )

    @classmethod
    def from_histogram(
        cls, histogram: Iterable[int], cutoffs: Cutoffs = STANDARD_CUTOFFS
    ) -> Counts:
        """Counts from an 11-bucket histogram (index = score 0..10)."""
        buckets = tuple(histogram)
        if len(buckets) != MAX_SCORE + 1:
            raise ValueError(f"a score histogram has 11 buckets, got {len(buckets)}")
        tally = {category: 0 for category in Category}
        for score, count in enumerate(buckets):
            tally[categorize(score, cutoffs)] += count
        return cls(tally[Category.PROMOTER], tally[Category.PASSIVE], tally[Category.DETRACTOR])

    def count(self, category: Category) -> int:
        """Number of answers in ``category``."""
        if category is Category.PROMOTER:
            return self.promoters
        if category is Category.PASSIVE:
            return self.passives
        return self.detractors

    def share(self, category: Category) -> float | None:
        """Fraction (0..1) of answers in ``category``; ``None`` when there are none."""
        if self.n == 0:
            return None
        return self.count(category) / self.n

    def __add__(self, other: object) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(
            self.promoters + other.promoters,
            self.passives + other.passives,
            self.detractors + other.detractors,
        )


def nps(counts: Counts) -> float | None:
    """NPS in points (−100..+100), or ``None`` when there are no answers."""
    n = counts.n
    if n == 0:
        return None
    return (counts.promoters - counts.detractors) / n * 100.0


def _wald_se_fraction(p: float, d: float, n: float) -> float:
    # max(…, 0) guards against tiny negative values from floating-point rounding.
    return math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


def standard_error(counts: Counts) -> float | None:
    """Plain (unadjusted) standard error of NPS in points, or ``None`` when n = 0.

    ``sqrt((p + d − (p − d)²) / n) × 100`` with p, d the promoter and detractor shares.
    Zero for unanimous samples; use :func:`estimate` for an honest interval.
    """
    n = counts.n
    if n == 0:
        return None
    return _wald_se_fraction(counts.promoters / n, counts.detractors / n, n) * 100.0


def _adjusted(counts: Counts) -> tuple[float, float]:
    """Adjusted centre and adjusted SE, both in points."""
    n_adj = counts.n + _ADJ_N
    p_adj = (counts.promoters + _ADJ_EACH) / n_adj
    d_adj = (counts.detractors + _ADJ_EACH) / n_adj
    return (p_adj - d_adj) * 100.0, _wald_se_fraction(p_adj, d_adj, n_adj) * 100.0


def _clamp(value: float) -> float:
    return max(-100.0, min(100.0, value))


@dataclass(frozen=True, slots=True)
class NpsEstimate:
    """An NPS with its uncertainty.

    ``score`` is the raw NPS (what reports headline); ``centre`` the adjusted-Wald centre;
    ``standard_error`` the adjusted SE in points; ``low``/``high`` the interval around
    ``centre`` clamped to [−100, 100]. All but ``counts``/``n`` are ``None`` when n = 0.
    """

    counts: Counts
    score: float | None
    centre: float | None
    standard_error: float | None
    low: float | None
    high: float | None
    n: int

    @property
    def has_data(self) -> bool:
        """True when at least one answer was counted."""
        return self.n > 0


def estimate(counts: Counts, z: float = Z_95) -> NpsEstimate:
    """NPS with an adjusted-Wald interval (95 % for the default ``z``).

    See the module docstring for why the interval is adjusted and centred on the adjusted
    estimate. With n = 0 every numeric field is ``None``.
    """
    if z <= 0 or not math.isfinite(z):
        raise ValueError(f"z must be a positive finite number, got {z!r}")
    if counts.n == 0:
        return NpsEstimate(counts, None, None, None, None, None, 0)
    centre, se = _adjusted(counts)
    return NpsEstimate(
        counts=counts,
        score=nps(counts),
        centre=centre,
        standard_error=se,
        low=_clamp(centre - z * se),
        high=_clamp(centre + z * se),
        n=counts.n,
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Change of NPS between two independent samples (``current`` minus ``previous``).

    ``difference`` is the change of the raw scores, in points (what a report shows).
    ``adjusted_difference``, ``standard_error`` and ``z`` come from the adjusted-Wald
    estimates; ``significant`` is ``|adjusted_difference| > z_critical × standard_error``
    (one comparison on its own); ``p_value`` is the two-sided p-value of ``z``, for
    corrections across several comparisons (:func:`holm`).
    When either side has no answers, ``has_data`` is False and every number is ``None``.
    """

    current: NpsEstimate
    previous: NpsEstimate
    difference: float | None
    adjusted_difference: float | None
    standard_error: float | None
    z: float | None
    significant: bool | None
    p_value: float | None = None

    @property
    def has_data(self) -> bool:
        """True when both sides have answers, so a comparison was possible."""
        return self.difference is not None


def compare(current: Counts, previous: Counts, z_critical: float = Z_95) -> Comparison:
    """Compare two periods' NPS, treating them as independent samples.

    ``se_diff = sqrt(se1² + se2²)`` with adjusted-Wald standard errors, and the test
    statistic is taken on the adjusted centres, so tiny or unanimous samples are not
    declared different on the strength of zero plain standard errors.
    """
    cur = estimate(current, z_critical)
    prev = estimate(previous, z_critical)
    if cur.score is None or prev.score is None:
        return Comparison(cur, prev, None, None, None, None, None, None)
    # Both sides have data, so centre and standard_error are set.
    assert cur.centre is not None and cur.standard_error is not None
    assert prev.centre is not None and prev.standard_error is not None
    adjusted_difference = cur.centre - prev.centre
    se_diff = math.hypot(cur.standard_error, prev.standard_error)
    # The adjusted SE is strictly positive (the pseudo-counts make p' + d' < 1 and > 0).
    z = adjusted_difference / se_diff
    return Comparison(
        current=cur,
        previous=prev,
        difference=cur.score - prev.score,
        adjusted_difference=adjusted_difference,
        standard_error=se_diff,
        z=z,
        significant=abs(adjusted_difference) > z_critical * se_diff,
        p_value=two_sided_p(z),
    )


def two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic ``z``: ``P(|Z| >= |z|)``."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def holm(p_values: Sequence[float | None], alpha: float = ALPHA) -> list[bool | None]:
    """Holm–Bonferroni: which of several tests to call significant, keeping the chance of
    *any* false alarm among them at ``alpha``.

    The m p-values are taken smallest first; the k-th smallest (k = 1..m) is significant
    while ``p ≤ alpha / (m − k + 1)``, and testing stops at the first that is not. A
    ``None`` (a comparison without data) is not a test: it stays ``None`` and does not
    count in m. The result is in the input's order.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    result: list[bool | None] = [None if p is None else False for p in p_values]
    m = len(tested)
    for rank, (p, index) in enumerate(tested):
        if p > alpha / (m - rank):
            break
        result[index] = True
    return result
