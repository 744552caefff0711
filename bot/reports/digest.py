"""The daily digest: a pure function from already-aggregated numbers to Telegram HTML.

The caller (the scheduler, with storage) gathers :class:`DigestData`; :func:`compose_digest`
turns it into the message text (``parse_mode=HTML``), the messages to send (split under
Telegram's 4,096-character limit) and a caption for the chart photo (under 1,024).

Rules the text follows, from the NPS primer:
* every NPS is shown with its n and its 95 % interval (adjusted-Wald, see ``bot.core.nps``),
  or, below ``min_sample`` answers, with "too few answers for an interval";
* every change between two periods says whether it is beyond or within the noise; the
  digest's three comparisons (the day before, 7 and 30 days) are judged together with
  Holm–Bonferroni, so the chance that a digest flags noise as a change stays at 5 %;
* a score computed with non-standard cut-offs says so;
* every string that came from a customer or an admin is HTML-escaped; only ``<b>``, ``<i>``
  and ``<code>`` tags are produced.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.core.nps import (
    ALPHA,
    DEFAULT_MIN_SAMPLE,
    STANDARD_CUTOFFS,
    Category,
    Comparison,
    Counts,
    Cutoffs,
    NpsEstimate,
    compare,
    estimate,
    holm,
)
from bot.core.texts import admin_texts
from bot.reports.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, shorten, split_message

__all__ = [
    "ChartLabels",
    "DayStats",
    "Digest",
    "DigestData",
    "Verbatim",
    "chart_labels",
    "compose_digest",
    "describe_cutoffs",
    "format_estimate",
    "format_points",
    "trend_comparisons",
]

#: Verbatims longer than this many characters are cut (before escaping) with an ellipsis.
VERBATIM_MAX_CHARS = 200
VERBATIMS_PER_CATEGORY = 3
DRIVERS_PER_CATEGORY = 5
#: Splits beyond this many rows are summarised as "… and N more" to bound the length.
MAX_SPLIT_ROWS = 10
_LABEL_MAX_CHARS = 64
_WHITESPACE_RE = re.compile(r"\s+")
_HISTOGRAM_BUCKETS = 11
#: The group storage puts answers without a value in (``storage.reports.NO_VALUE``); shown
#: in the admin language.
NO_VALUE = "(none)"
#: Shared immutable "no answers" default for the optional windows of DigestData.
NO_ANSWERS = Counts()


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local day's answers: category counts and the 0–10 score histogram."""

    day: date
    counts: Counts
    score_histogram: tuple[int, ...] = (0,) * _HISTOGRAM_BUCKETS

    def __post_init__(self) -> None:
        if len(self.score_histogram) != _HISTOGRAM_BUCKETS:
            raise ValueError("score_histogram must have 11 buckets (scores 0..10)")


@dataclass(frozen=True, slots=True)
class Verbatim:
    """A customer's own words, with the score they gave."""

    score: int
    text: str
    customer_ref: str
    event_type: str | None = None


@dataclass(frozen=True)
class DigestData:
    """Everything the digest shows, aggregated by the caller.

    ``today`` is the digest's day and ``yesterday`` the day before it; ``last7``/``last30``
    are the windows ending on ``day`` and ``prev7``/``prev30`` the windows just before them.
    ``drivers`` lists (driver, count) most frequent first; ``verbatims`` newest first.
    ``trend`` (30 days) and ``histogram`` feed the chart, not the text. ``by_kind`` splits
    the day's answers by survey kind: reports never mix kinds silently, so one kind is named
    in the headline and several are listed. Scores from fewer than ``min_sample`` answers
    are shown without an interval.
    """

    day: date
    company: str
    tz_name: str
    today: Counts
    cutoffs: Cutoffs = STANDARD_CUTOFFS
    yesterday: Counts = NO_ANSWERS
    last7: Counts = NO_ANSWERS
    prev7: Counts = NO_ANSWERS
    last30: Counts = NO_ANSWERS
    prev30: Counts = NO_ANSWERS
    sent: int = 0
    answered: int = 0
    expired: int = 0
    failed: int = 0
    by_event_type: Mapping[str, Counts] = field(default_factory=dict)
    by_kind: Mapping[str, Counts] = field(default_factory=dict)
    by_attribute_name: str | None = None
    by_attribute: Mapping[str, Counts] = field(default_factory=dict)
    drivers: Mapping[Category, Sequence[tuple[str, int]]] = field(default_factory=dict)
    verbatims: Mapping[Category, Sequence[Verbatim]] = field(default_factory=dict)
    detractors_total: int = 0
    detractors_followed_up: int = 0
    trend: Sequence[DayStats] = ()
    histogram: tuple[int, ...] = (0,) * _HISTOGRAM_BUCKETS
    min_sample: int = DEFAULT_MIN_SAMPLE
    #: The "Themes" section, already worded (HTML lines from
    #: :func:`bot.reports.theme_report.theme_lines`); empty when theming is off.
    themes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The digest chart's words (:func:`bot.reports.chart.render_chart` has none of its
    own), from :func:`chart_labels`."""

    title: str
    daily_nps: str
    no_answers_in_period: str
    interval: str
    nps: str
    score: str
    answers: str
    no_answers: str
    rolling_nps: str = "7-day NPS"
    shares: str = "Share of answers"
    promoters: str = "Promoters"
    passives: str = "Passives"
    detractors: str = "Detractors"
    no_answers_yet: str = "No answers yet"


def chart_labels(company: str, day: date, lang: str = "en") -> ChartLabels:
    """The chart's title and labels in the admin language ``lang``."""
    return ChartLabels(
        title=_w(lang, "chart_title", company=company, day=day.isoformat()),
        daily_nps=_w(lang, "chart_daily_nps"),
        no_answers_in_period=_w(lang, "chart_no_answers_period"),
        interval=_w(lang, "chart_interval"),
        nps=_w(lang, "chart_nps"),
        score=_w(lang, "chart_score"),
        answers=_w(lang, "chart_answers"),
        no_answers=_w(lang, "chart_no_answers"),
        rolling_nps=_w(lang, "chart_rolling_nps"),
        shares=_w(lang, "chart_shares"),
        promoters=_w(lang, "promoters"),
        passives=_w(lang, "passives"),
        detractors=_w(lang, "detractors"),
        no_answers_yet=_w(lang, "chart_no_answers_yet"),
    )


@dataclass(frozen=True, slots=True)
class Digest:
    """The composed digest.

    ``text`` is the whole HTML text; ``messages`` the same text split into parts that each
    fit one Telegram message; ``caption`` a short summary for the chart photo.
    """

    text: str
    messages: tuple[str, ...]
    caption: str


def _w(lang: str, key: str, **params: object) -> str:
    """A report text from the catalog in the admin language ``lang``."""
    return admin_texts(lang).render(key, **params)


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def describe_cutoffs(cutoffs: Cutoffs, lang: str = "en") -> str:
    """``promoters 9–10, passives 7–8, detractors 0–6`` in the admin language."""
    parts = [
        _w(lang, "cutoffs_promoters", span=_span(cutoffs.promoter_min, 10)),
        _w(lang, "cutoffs_passives", span=_span(cutoffs.passive_min, cutoffs.promoter_min - 1)),
    ]
    if cutoffs.passive_min > 0:
        parts.append(_w(lang, "cutoffs_detractors", span=_span(0, cutoffs.passive_min - 1)))
    else:
        parts.append(_w(lang, "cutoffs_no_detractors"))
    return ", ".join(parts)


def _esc(value: str, max_chars: int = _LABEL_MAX_CHARS) -> str:
    """Escape user-supplied text for HTML after flattening whitespace and capping length."""
    flat = _WHITESPACE_RE.sub(" ", value).strip()
    if len(flat) > max_chars:
        flat = flat[: max_chars - 1].rstrip() + "…"
    return html.escape(flat, quote=False)


def format_points(value: float) -> str:
    """Signed whole points: ``+50``, ``-12``, ``0`` (halves rounded away from zero)."""
    rounded = int(math.copysign(math.floor(abs(value) + 0.5), value))
    return "0" if rounded == 0 else f"{rounded:+d}"


def format_estimate(
    est: NpsEstimate, lang: str = "en", min_sample: int = DEFAULT_MIN_SAMPLE
) -> str:
    """``+50 (n = 10, -12 to +79)``, ``no answers`` when n = 0, or
    ``+100 (n = 1, too few answers for an interval)`` below ``min_sample`` answers."""
    if est.score is None or est.low is None or est.high is None:
        return _w(lang, "no_answers")
    if est.n < min_sample:
        return _w(lang, "estimate_few", score=format_points(est.score), n=est.n)
    return _w(
        lang,
        "estimate",
        score=format_points(est.score),
        n=est.n,
        low=format_points(est.low),
        high=format_points(est.high),
    )


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _change(result: Comparison, significant: bool | None, missing_previous: str, lang: str) -> str:
    if result.difference is None:
        missing = _w(lang, "in_this_period") if result.current.n == 0 else missing_previous
        return _w(lang, "no_comparison", missing=missing)
    verdict = _w(lang, "beyond" if significant else "within")
    return _w(lang, "change", points=format_points(result.difference), verdict=verdict)


def _headline(data: DigestData, lang: str) -> list[str]:
    day = data.day.isoformat()
    est = estimate(data.today)
    if est.score is None:
        return [_w(lang, "no_answers_on", day=day)]
    counts = data.today
    if est.n < data.min_sample:
        headline = _w(lang, "headline_few", score=format_points(est.score), day=day, n=est.n)
    else:
        headline = _w(
            lang,
            "headline",
            score=format_points(est.score),
            day=day,
            n=est.n,
            low=format_points(est.low or 0.0),
            high=format_points(est.high or 0.0),
        )
    return [
        headline,
        _w(
            lang,
            "shares",
            p=counts.promoters,
            pp=_percent(counts.promoters, counts.n),
            s=counts.passives,
            sp=_percent(counts.passives, counts.n),
            d=counts.detractors,
            dp=_percent(counts.detractors, counts.n),
        ),
    ]


def trend_comparisons(data: DigestData) -> tuple[list[Comparison], list[bool | None]]:
    """The digest's comparisons (the day before, if there are answers today; 7 days; 30
    days) and which are beyond the noise, judged together with Holm–Bonferroni at
    ``ALPHA`` so that the digest as a whole calls noise a change at most 5 % of the time."""
    pairs = [(data.last7, data.prev7), (data.last30, data.prev30)]
    if data.today.n:
        pairs.insert(0, (data.today, data.yesterday))
    results = [compare(current, previous) for current, previous in pairs]
    return results, holm([result.p_value for result in results], ALPHA)


def _trends(data: DigestData, lang: str) -> list[str]:
    lines = [_w(lang, "trend")]
    results, significant = trend_comparisons(data)

    def fmt(counts: Counts) -> str:
        return format_estimate(estimate(counts), lang, data.min_sample)

    if data.today.n:
        day_result, day_significant = results.pop(0), significant.pop(0)
        change = _change(day_result, day_significant, _w(lang, "on_the_day_before"), lang)
        lines.append(_w(lang, "vs_day_before", estimate=fmt(data.yesterday), change=change))
    windows = ((7, data.last7, data.prev7), (30, data.last30, data.prev30))
    for (days, current, previous), result, flagged in zip(
        windows, results, significant, strict=True
    ):
        window = _w(lang, "in_the_previous", days=days)
        lines.append(
            _w(
                lang,
                "last_days",
                days=days,
                current=fmt(current),
                previous=fmt(previous),
                change=_change(result, flagged, window, lang),
            )
        )
    return lines


def _responses(data: DigestData, lang: str) -> list[str]:
    if data.sent == 0 and data.answered == 0:
        line = _w(lang, "no_surveys")
    else:
        line = _w(
            lang,
            "answered_of",
            answered=data.answered,
            sent=data.sent,
            rate=_percent(data.answered, data.sent),
        )
    return [
        _w(lang, "responses"),
        _w(lang, "responses_line", line=line, expired=data.expired, failed=data.failed),
    ]


def _kinds(data: DigestData, lang: str) -> list[str]:
    present = sorted(kind for kind, counts in data.by_kind.items() if counts.n > 0)
    if len(present) == 1:
        return [_w(lang, "one_kind", kind=_esc(admin_texts(lang).kind(present[0])))]
    names = admin_texts(lang).kind
    return _split(_w(lang, "by_kind"), data.by_kind, lang, data.min_sample, names)


def _split(
    title: str,
    rows: Mapping[str, Counts],
    lang: str,
    min_sample: int,
    names: Callable[[str], str] = str,
) -> list[str]:
    present = [(name, counts) for name, counts in rows.items() if counts.n > 0]
    if not present:
        return []
    # Largest groups first: they matter most and have the narrowest intervals.
    present.sort(key=lambda item: (-item[1].n, item[0]))
    lines = [f"<b>{title}</b>"]
    for name, counts in present[:MAX_SPLIT_ROWS]:
        shown = _w(lang, "no_value") if name == NO_VALUE else names(name)
        lines.append(f"{_esc(shown)}: {format_estimate(estimate(counts), lang, min_sample)}")
    if len(present) > MAX_SPLIT_ROWS:
        lines.append(_w(lang, "and_more", n=len(present) - MAX_SPLIT_ROWS))
    return lines


def _drivers(data: DigestData, lang: str) -> list[str]:
    return driver_lines(data.drivers, lang)


def driver_lines(drivers: Mapping[Category, Sequence[tuple[str, int]]], lang: str) -> list[str]:
    """The drivers section: per category (detractors first) the most picked drivers with
    their counts; nothing when no driver was picked."""
    lines: list[str] = []
    for category, label in (
        (Category.DETRACTOR, _w(lang, "detractors")),
        (Category.PASSIVE, _w(lang, "passives")),
        (Category.PROMOTER, _w(lang, "promoters")),
    ):
        entries = [(d, c) for d, c in drivers.get(category, ()) if c > 0]
        if entries:
            listed = ", ".join(
                f"{_esc(driver)} ({count})" for driver, count in entries[:DRIVERS_PER_CATEGORY]
            )
            lines.append(f"{label}: {listed}")
    return [_w(lang, "drivers"), *lines] if lines else []


def _verbatims(data: DigestData, lang: str) -> list[str]:
    lines: list[str] = []
    # Detractors first: they are the ones somebody should act on.
    for category, label in (
        (Category.DETRACTOR, _w(lang, "detractors")),
        (Category.PASSIVE, _w(lang, "passives")),
        (Category.PROMOTER, _w(lang, "promoters")),
    ):
        items = list(data.verbatims.get(category, ()))[:VERBATIMS_PER_CATEGORY]
        if not items:
            continue
        lines.append(f"{label}:")
        for item in items:
            source = _esc(item.customer_ref)
            if item.event_type:
                source += f", {_esc(item.event_type)}"
            lines.append(
                f"• {item.score} · <i>{_esc(item.text, VERBATIM_MAX_CHARS)}</i> — {source}"
            )
    return [_w(lang, "comments"), *lines] if lines else []


def _follow_up(data: DigestData, lang: str) -> list[str]:
    n = data.detractors_total
    detractors = _w(lang, "detractor_one" if n == 1 else "detractor_many", n=n)
    return [_w(lang, "follow_up", detractors=detractors, followed=data.detractors_followed_up)]


def _cutoffs_note(cutoffs: Cutoffs, lang: str) -> list[str]:
    if cutoffs.is_standard:
        return []
    return [_w(lang, "cutoffs", cutoffs=describe_cutoffs(cutoffs, lang))]


def compose_digest(data: DigestData, lang: str = "en") -> Digest:
    """Compose the daily digest text, its Telegram-sized messages and the chart caption,
    worded in ``lang`` (the admin language; "en" or "zh")."""
    header = [
        _w(lang, "title", company=_esc(data.company), day=data.day.isoformat()),
        _w(lang, "days_in", tz=_esc(data.tz_name)),
    ]
    attribute_title = (
        _w(lang, "by_named", name=_esc(data.by_attribute_name))
        if data.by_attribute_name
        else _w(lang, "by_attribute")
    )
    sections = [
        header,
        _headline(data, lang),
        _kinds(data, lang),
        _trends(data, lang),
        _responses(data, lang),
        _split(_w(lang, "by_event_type"), data.by_event_type, lang, data.min_sample),
        _split(attribute_title, data.by_attribute, lang, data.min_sample),
        _drivers(data, lang),
        list(data.themes),
        _verbatims(data, lang),
        _follow_up(data, lang),
        _cutoffs_note(data.cutoffs, lang),
    ]
    text = "\n\n".join("\n".join(lines) for lines in sections if lines)
    return Digest(
        text=text,
        messages=tuple(split_message(text, MESSAGE_LIMIT)),
        caption=_caption(data, lang),
    )


def _caption(data: DigestData, lang: str) -> str:
    def fmt(counts: Counts) -> str:
        return format_estimate(estimate(counts), lang, data.min_sample)

    lines = [
        f"<b>{_esc(data.company)}</b> · {data.day.isoformat()}",
        _w(lang, "caption_day", estimate=fmt(data.today)),
        _w(lang, "caption_7", estimate=fmt(data.last7)),
        _w(lang, "caption_30", estimate=fmt(data.last30)),
    ]
    if not data.cutoffs.is_standard:
        lines.append(_w(lang, "caption_cutoffs"))
    return shorten("\n".join(lines), CAPTION_LIMIT)
