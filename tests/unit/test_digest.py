"""Specification of the daily digest text (bot.reports.digest)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from bot.core.nps import Category, Counts, Cutoffs, estimate
from bot.reports.digest import (
    DayStats,
    DigestData,
    Verbatim,
    compose_digest,
    format_estimate,
    format_points,
)
from bot.reports.telegram_text import utf16_len, visible_text

DAY = date(2026, 11, 23)
ALLOWED_TAGS = {"b", "i", "code"}
_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)[^<>]*>")


def fixed_data() -> DigestData:
    return DigestData(
        day=DAY,
        company="Acme & Sons",
        tz_name="Europe/Berlin",
        today=Counts(7, 1, 2),
        yesterday=Counts(3, 3, 4),
        last7=Counts(120, 60, 20),
        prev7=Counts(60, 80, 60),
        last30=Counts(300, 150, 150),
        prev30=Counts(290, 160, 150),
        sent=40,
        answered=10,
        expired=5,
        failed=1,
        by_event_type={
            "delivery": Counts(5, 0, 1),
            "support": Counts(2, 1, 1),
            "unused": Counts(),
        },
        by_attribute_name="plan",
        by_attribute={"pro": Counts(4, 1, 0), "free": Counts(3, 0, 2)},
        drivers={
            Category.DETRACTOR: [("speed", 2), ("price", 1)],
            Category.PROMOTER: [("staff", 5)],
        },
        verbatims={
            Category.DETRACTOR: [Verbatim(3, "Courier was late\nagain", "cust-17", "delivery")],
            Category.PROMOTER: [Verbatim(10, "Lovely <b>staff</b>", "cust-2")],
        },
        detractors_total=2,
        detractors_followed_up=1,
    )


GOLDEN_TEXT = """\
<b>NPS digest · Acme &amp; Sons · 2026-11-23</b>
<i>Days in Europe/Berlin; intervals are 95%.</i>

<b>NPS +50</b> on 2026-11-23 (n = 10, 95% interval -6 to +83)
Promoters 7 (70%) · Passives 1 (10%) · Detractors 2 (20%)

<b>Trend</b>
vs the day before, -10 (n = 10, -51 to +36): +60 points, within the noise
Last 7 days +50 (n = 200, +40 to +59) vs 0 (n = 200, -11 to +11): +50 points, beyond the noise
Last 30 days +25 (n = 600, +18 to +31) vs +23 (n = 600, +17 to +30): +2 points, within the noise

<b>Responses</b>
Answered 10 of 40 sent (25% response rate) · 5 expired · 1 failed

<b>By event type</b>
delivery: +67 (n = 6, too few answers for an interval)
support: +25 (n = 4, too few answers for an interval)

<b>By plan</b>
free: +20 (n = 5, too few answers for an interval)
pro: +80 (n = 5, too few answers for an interval)

<b>Drivers</b>
Detractors: speed (2), price (1)
Promoters: staff (5)

<b>Latest comments</b>
Detractors:
• 3 · <i>Courier was late again</i> — cust-17, delivery
Promoters:
• 10 · <i>Lovely &lt;b&gt;staff&lt;/b&gt;</i> — cust-2

<b>Follow-up:</b> 2 detractors, 1 followed up"""

GOLDEN_CAPTION = """\
<b>Acme &amp; Sons</b> · 2026-11-23
Day: +50 (n = 10, -6 to +83)
7 days: +50 (n = 200, +40 to +59)
30 days: +25 (n = 600, +18 to +31)"""


def tags_in(text: str) -> set[str]:
    return {match.group(1).lower() for match in _TAG_RE.finditer(text)}


def test_golden_digest_for_a_fixed_data_set() -> None:
    digest = compose_digest(fixed_data())
    assert digest.text == GOLDEN_TEXT
    assert digest.messages == (GOLDEN_TEXT,)


def test_golden_caption_for_a_fixed_data_set() -> None:
    assert compose_digest(fixed_data()).caption == GOLDEN_CAPTION


def test_a_day_without_answers_says_so_and_still_shows_rolling_windows() -> None:
    data = replace(fixed_data(), today=Counts(), answered=0)
    text = compose_digest(data).text
    assert "No answers on 2026-11-23." in text
    assert "<b>NPS" not in text.replace("<b>NPS digest", "")
    assert "vs the day before" not in text
    assert (
        "Last 7 days +50 (n = 200, +40 to +59) vs 0 (n = 200, -11 to +11): "
        "+50 points, beyond the noise"
    ) in text
    assert "Answered 0 of 40 sent (0% response rate)" in text


def test_an_entirely_empty_digest_is_plain_about_having_no_data() -> None:
    digest = compose_digest(DigestData(day=DAY, company="Acme", tz_name="UTC", today=Counts()))
    assert digest.text == (
        "<b>NPS digest · Acme · 2026-11-23</b>\n"
        "<i>Days in UTC; intervals are 95%.</i>\n\n"
        "No answers on 2026-11-23.\n\n"
        "<b>Trend</b>\n"
        "Last 7 days no answers vs no answers: no comparison (no answers in this period)\n"
        "Last 30 days no answers vs no answers: no comparison (no answers in this period)\n\n"
        "<b>Responses</b>\n"
        "No surveys sent. · 0 expired · 0 failed\n\n"
        "<b>Follow-up:</b> 0 detractors, 0 followed up"
    )
    assert "Day: no answers" in digest.caption


def test_a_window_compared_with_an_empty_previous_window_names_what_is_missing() -> None:
    text = compose_digest(replace(fixed_data(), prev30=Counts())).text
    assert "no comparison (no answers in the previous 30 days)" in text


def test_a_day_compared_with_a_silent_day_before_says_there_is_no_comparison() -> None:
    text = compose_digest(replace(fixed_data(), yesterday=Counts())).text
    assert "vs the day before, no answers: no comparison (no answers on the day before)" in text


def test_non_standard_cutoffs_are_noted_in_text_and_caption() -> None:
    data = replace(fixed_data(), cutoffs=Cutoffs(promoter_min=8, passive_min=6))
    digest = compose_digest(data)
    assert digest.text.endswith(
        "<i>Scores use non-standard cut-offs (promoters 8–10, passives 6–7, detractors 0–5); "
        "they are not comparable with published NPS.</i>"
    )
    assert "Non-standard cut-offs" in digest.caption


def test_standard_cutoffs_add_no_note() -> None:
    digest = compose_digest(fixed_data())
    assert "cut-offs" not in digest.text and "cut-offs" not in digest.caption


def test_hostile_strings_are_escaped_everywhere() -> None:
    evil = '<script>alert("x")</script> & <b>bold</b> &amp;'
    data = replace(
        fixed_data(),
        company=evil,
        tz_name=evil,
        by_event_type={evil: Counts(1, 0, 0)},
        by_attribute_name=evil,
        by_attribute={evil: Counts(0, 0, 1)},
        drivers={Category.DETRACTOR: [(evil, 3)]},
        verbatims={
            Category.DETRACTOR: [Verbatim(0, evil, evil, evil)],
            Category.PASSIVE: [Verbatim(7, "<i>unclosed", "<code>", None)],
        },
    )
    digest = compose_digest(data)
    for output in (digest.text, digest.caption, *digest.messages):
        assert "<script" not in output
        assert tags_in(output) <= ALLOWED_TAGS
        # Every '&' must start an entity we produced; a raw "&amp;" becomes "&amp;amp;".
        assert re.search(r"&(?!amp;|lt;|gt;)", output) is None
    assert "&lt;script&gt;" in digest.text
    assert "&amp;amp;" in digest.text
    assert "• 7 · <i>&lt;i&gt;unclosed</i> — &lt;code&gt;" in digest.text


def test_tags_in_the_text_are_balanced() -> None:
    text = compose_digest(fixed_data()).text
    for tag in ALLOWED_TAGS:
        assert text.count(f"<{tag}>") == text.count(f"</{tag}>")


def test_long_verbatims_are_cut_to_about_200_characters_and_flattened() -> None:
    long_text = "word " * 100 + "\n\nFAKE HEADER"
    data = replace(
        fixed_data(), verbatims={Category.DETRACTOR: [Verbatim(2, long_text, "c1", None)]}
    )
    text = compose_digest(data).text
    line = next(line for line in text.splitlines() if line.startswith("• 2"))
    shown = visible_text(line.split("<i>")[1].split("</i>")[0])
    assert len(shown) <= 200
    assert shown.endswith("…")
    assert "FAKE HEADER" not in text


def test_at_most_three_verbatims_per_category_are_shown_newest_first() -> None:
    items = [Verbatim(10, f"comment {i}", f"c{i}", None) for i in range(5)]
    text = compose_digest(replace(fixed_data(), verbatims={Category.PROMOTER: items})).text
    assert "comment 0" in text and "comment 2" in text
    assert "comment 3" not in text and "comment 4" not in text


def test_many_split_rows_are_summarised() -> None:
    rows = {f"type{i:02d}": Counts(i + 1, 0, 0) for i in range(15)}
    text = compose_digest(replace(fixed_data(), by_event_type=rows)).text
    assert "type14: +100" in text  # the largest group comes first
    assert "type04" not in text
    assert "… and 5 more" in text


def test_an_attribute_split_without_a_name_gets_a_generic_title() -> None:
    text = compose_digest(replace(fixed_data(), by_attribute_name=None)).text
    assert "<b>By attribute</b>" in text


def test_empty_sections_are_left_out() -> None:
    data = replace(fixed_data(), by_event_type={}, by_attribute={}, drivers={}, verbatims={})
    text = compose_digest(data).text
    for title in ("By event type", "By plan", "Drivers", "Latest comments"):
        assert title not in text


def test_one_detractor_is_singular() -> None:
    data = replace(fixed_data(), detractors_total=1, detractors_followed_up=0)
    assert "<b>Follow-up:</b> 1 detractor, 0 followed up" in compose_digest(data).text


def test_a_huge_digest_is_split_into_messages_within_telegram_limits() -> None:
    long_name = "Ω" * 300
    verbatims = {
        category: [Verbatim(5, "😀<&> " * 100, "ref" * 40, "evt" * 40)] * 3 for category in Category
    }
    data = replace(
        fixed_data(),
        company=long_name,
        by_event_type={f"{long_name}{i}": Counts(i + 1, 1, 1) for i in range(10)},
        by_attribute={f"{long_name}{i}": Counts(1, i + 1, 1) for i in range(10)},
        drivers={c: [(long_name + str(i), i + 1) for i in range(5)] for c in Category},
        verbatims=verbatims,
    )
    digest = compose_digest(data)
    assert utf16_len(digest.text) > 4096
    assert len(digest.messages) >= 2
    for message in digest.messages:
        assert utf16_len(message) <= 4096
        for tag in ALLOWED_TAGS:
            assert message.count(f"<{tag}>") == message.count(f"</{tag}>")
    assert utf16_len(digest.caption) <= 1024
    assert digest.messages[0].startswith("<b>NPS digest")
    assert "Follow-up:" in digest.messages[-1]


def test_format_points_rounds_halves_away_from_zero_and_signs_the_result() -> None:
    assert [format_points(v) for v in (50, 12.5, -12.5, 0.4, -0.4, -100)] == [
        "+50",
        "+13",
        "-13",
        "0",
        "0",
        "-100",
    ]


def test_format_estimate_shows_n_and_interval_or_no_answers() -> None:
    assert format_estimate(estimate(Counts(7, 1, 2))) == "+50 (n = 10, -6 to +83)"
    assert format_estimate(estimate(Counts())) == "no answers"


def test_day_stats_require_an_11_bucket_histogram() -> None:
    assert DayStats(DAY, Counts()).score_histogram == (0,) * 11
    with pytest.raises(ValueError):
        DayStats(DAY, Counts(), (1, 2, 3))


GOLDEN_TEXT_ZH = """\
<b>NPS 日报 · Acme &amp; Sons · 2026-11-23</b>
<i>日期按 Europe/Berlin 计算；区间为 95%。</i>

2026-11-23 <b>NPS +50</b>（n = 10，95% 区间 -6 至 +83）
推荐者 7（70%）· 被动者 1（10%）· 贬损者 2（20%）

<b>趋势</b>
与前一天相比：+60 分，在噪声范围内（前一天 -10（n = 10，-51 至 +36））
最近 7 天 +50（n = 200，+40 至 +59），之前 0（n = 200，-11 至 +11）：+50 分，超出噪声范围
最近 30 天 +25（n = 600，+18 至 +31），之前 +23（n = 600，+17 至 +30）：+2 分，在噪声范围内

<b>回复</b>
已发送 40 份，回答 10 份（回复率 25%） · 过期 5 · 失败 1

<b>按事件类型</b>
delivery: +67（n = 6，回答太少，无法给出区间）
support: +25（n = 4，回答太少，无法给出区间）

<b>按 plan</b>
free: +20（n = 5，回答太少，无法给出区间）
pro: +80（n = 5，回答太少，无法给出区间）

<b>驱动因素</b>
贬损者: speed (2), price (1)
推荐者: staff (5)

<b>最新评论</b>
贬损者:
• 3 · <i>Courier was late again</i> — cust-17, delivery
推荐者:
• 10 · <i>Lovely &lt;b&gt;staff&lt;/b&gt;</i> — cust-2

<b>跟进：</b>2 位贬损者，已跟进 1 位"""

GOLDEN_CAPTION_ZH = """\
<b>Acme &amp; Sons</b> · 2026-11-23
当天：+50（n = 10，-6 至 +83）
7 天：+50（n = 200，+40 至 +59）
30 天：+25（n = 600，+18 至 +31）"""


def test_golden_digest_in_chinese_for_the_same_data() -> None:
    # NPSBOT_ADMIN_LANGUAGE=zh: the same numbers and escaping, Chinese wording.
    digest = compose_digest(fixed_data(), "zh")
    assert digest.text == GOLDEN_TEXT_ZH
    assert digest.caption == GOLDEN_CAPTION_ZH
    assert digest.messages == (GOLDEN_TEXT_ZH,)
    assert tags_in(digest.text) == tags_in(GOLDEN_TEXT)  # the same HTML, nothing new


def test_admin_texts_exist_in_chinese_under_every_english_name() -> None:
    from bot.core.texts import admin_texts, en, zh

    english = set(en.ADMIN)
    assert set(zh.ADMIN) == english
    t = admin_texts("zh")
    assert t.render("not_admin", company="Acme").startswith("抱歉")
    assert t.usage("nps").startswith("用法") and t.skip_reason("blocked") == "客户屏蔽了机器人"
    assert t.skip_reason("odd") == "odd"
    assert admin_texts("en").render("not_admin", company="Acme") == en.ADMIN["not_admin"].format(
        company="Acme"
    )
