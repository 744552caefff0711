"""Honest trends: a digest's comparisons keep their combined false-alarm rate at 5 %.

A stable NPS (the same customers' mood every day) must not be reported as a change more
often than the stated level. Each simulated digest has 60 days of 30 answers drawn from one
fixed distribution; a digest "raises a false alarm" when any of its comparisons (the day
before, 7 and 30 days) says "beyond the noise". Seeded, so the figures are stable; they are
quoted in docs/admin.md.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest

from bot.core.nps import Counts, estimate, holm, two_sided_p
from bot.core.periods import Period
from bot.reports.digest import DigestData, compose_digest, format_estimate, trend_comparisons
from bot.reports.nps_report import NpsReportData, compose_nps_report

DIGESTS = 2_000
ANSWERS_PER_DAY = 30
DAYS = 60
#: A stable company: 45 % promoters, 30 % passives, 25 % detractors (NPS +20).
SHARES = (0.45, 0.30, 0.25)
SEED = 20_241_114


def _day(rng: random.Random) -> Counts:
    p = d = 0
    for _ in range(ANSWERS_PER_DAY):
        u = rng.random()
        if u < SHARES[0]:
            p += 1
        elif u >= SHARES[0] + SHARES[1]:
            d += 1
    return Counts(p, ANSWERS_PER_DAY - p - d, d)


def _digest(rng: random.Random) -> DigestData:
    days = [_day(rng) for _ in range(DAYS)]

    def total(items: list[Counts]) -> Counts:
        return sum(items, Counts())

    return DigestData(
        day=date(2026, 11, 23),
        company="Acme",
        tz_name="UTC",
        today=days[-1],
        yesterday=days[-2],
        last7=total(days[-7:]),
        prev7=total(days[-14:-7]),
        last30=total(days[-30:]),
        prev30=total(days[-60:-30]),
    )


@pytest.fixture(scope="module")
def digests() -> list[DigestData]:
    rng = random.Random(SEED)
    return [_digest(rng) for _ in range(DIGESTS)]


def test_family_wise_false_alarm_rate_stays_at_five_percent(digests: list[DigestData]) -> None:
    uncorrected = corrected = 0
    for data in digests:
        results, flagged = trend_comparisons(data)
        uncorrected += any(result.significant for result in results)
        corrected += any(flagged)
    before, after = uncorrected / DIGESTS, corrected / DIGESTS
    print(f"false-alarm digests: uncorrected {before:.1%}, Holm {after:.1%}")
    # Without the correction about one digest in five (a weekly false alarm at 30/day).
    assert before > 0.12
    # With Holm the family-wise rate is at the stated level (sampling error ~0.5 %).
    assert after <= 0.055
    assert after < before / 2


def test_the_digest_text_follows_the_corrected_verdicts(digests: list[DigestData]) -> None:
    # The rendered text says "beyond the noise" exactly as often as the corrected family.
    alarms = sum("beyond the noise" in compose_digest(data).text for data in digests[:400])
    expected = sum(any(trend_comparisons(data)[1]) for data in digests[:400])
    assert alarms == expected


def test_holm_steps_down_and_skips_missing_comparisons() -> None:
    # m = 3: 0.01 <= 0.05/3, 0.02 <= 0.05/2, 0.04 <= 0.05/1.
    assert holm([0.04, 0.01, 0.02]) == [True, True, True]
    # 0.03 > 0.05/2 stops the procedure: the larger p is not tested either.
    assert holm([0.01, 0.03, 0.04]) == [True, False, False]
    # Bonferroni would reject 0.016 (<= 0.05/3) but not 0.024 (> 0.05/3); Holm rejects both.
    assert holm([0.016, 0.024]) == [True, True]
    assert holm([0.02, None, 0.5]) == [True, None, False]
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([0.1], alpha=0)


def test_two_sided_p_matches_the_normal_quantiles() -> None:
    assert two_sided_p(1.96) == pytest.approx(0.05, abs=1e-4)
    assert two_sided_p(-1.96) == pytest.approx(0.05, abs=1e-4)
    assert two_sided_p(0.0) == 1.0


# --- Below the minimum sample: a score without an interval --------------------------------


def test_a_score_from_too_few_answers_has_no_interval() -> None:
    one = estimate(Counts(1, 0, 0))
    assert format_estimate(one) == "+100 (n = 1, too few answers for an interval)"
    assert format_estimate(one, "zh") == "+100（n = 1，回答太少，无法给出区间）"
    assert format_estimate(one, min_sample=1) == "+100 (n = 1, -49 to +99)"
    nine, ten = estimate(Counts(5, 2, 2)), estimate(Counts(5, 3, 2))
    assert "too few" in format_estimate(nine) and "too few" not in format_estimate(ten)


def test_digest_headline_and_nps_report_respect_the_minimum_sample() -> None:
    small = DigestData(day=date(2026, 11, 23), company="Acme", tz_name="UTC", today=Counts(3, 0, 1))
    text = compose_digest(small).text
    assert "<b>NPS +50</b> on 2026-11-23 (n = 4, too few answers for an interval)" in text
    assert "95% interval" in compose_digest(replace(small, min_sample=4)).text
    period = Period(date(2026, 11, 16), date(2026, 11, 22), "last 7 days")
    before = Period(date(2026, 11, 9), date(2026, 11, 15), "7 days before")
    [report] = compose_nps_report(NpsReportData(period, before, Counts(3, 0, 1), Counts(1, 0, 0)))
    assert "<b>NPS +50</b> (n = 4, too few answers for an interval)" in report
    assert "+100 (n = 1, too few answers for an interval)" in report
    [zh] = compose_nps_report(NpsReportData(period, before, Counts(3, 0, 1), Counts()), "zh")
    assert "回答太少，无法给出区间" in zh
    [wide] = compose_nps_report(
        NpsReportData(period, before, Counts(3, 0, 1), Counts(), min_sample=2)
    )
    assert "95% interval" in wide


def test_min_sample_setting() -> None:
    from bot.settings.admin import AdminSettings

    assert AdminSettings.model_validate({}).min_sample == 10
    assert AdminSettings.model_validate({"NPSBOT_MIN_SAMPLE": "30"}).min_sample == 30
    with pytest.raises(ValueError, match="NPSBOT_MIN_SAMPLE"):
        AdminSettings.model_validate({"NPSBOT_MIN_SAMPLE": "0"})
