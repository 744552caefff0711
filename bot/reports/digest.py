"""The daily digest: a pure function from already-aggregated numbers to Telegram HTML.

The caller (the scheduler, with storage) gathers :class:`DigestData`; :func:`compose_digest`
turns it into the message text (``parse_mode=HTML``), the messages to send (split under
Telegram's 4,096-character limit) and a caption for the chart photo (under 1,024).

Rules the text follows, from the NPS primer:
* every NPS is shown with its n and its 95 % interval (adjusted-Wald, see ``bot.domain.nps``);
* every change between two periods says whether it is beyond or within the noise;
* a score computed with non-standard cut-offs says so;
* every string that came from a customer or an admin is HTML-escaped; only ``<b>``, ``<i>``
  and ``<code>`` tags are produced.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.domain.nps import (
    STANDARD_CUTOFFS,
    Category,
    Counts,
    Cutoffs,
    NpsEstimate,
    compare,
    estimate,
)
from bot.reports.telegram_text import CAPTION_LIMIT, MESSAGE_LIMIT, shorten, split_message

__all__ = [
    "DayStats",
    "Digest",
    "DigestData",
    "Verbatim",
    "compose_digest",
    "format_estimate",
    "format_points",
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
    in the headline and several are listed.
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


@dataclass(frozen=True, slots=True)
class Digest:
    """The composed digest.

    ``text`` is the whole HTML text; ``messages`` the same text split into parts that each
    fit one Telegram message; ``caption`` a short summary for the chart photo.
    """

    text: str
    messages: tuple[str, ...]
    caption: str


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


def format_estimate(est: NpsEstimate) -> str:
    """``+50 (n = 10, -12 to +79)``, or ``no answers`` when n = 0."""
    if est.score is None or est.low is None or est.high is None:
        return "no answers"
    return (
        f"{format_points(est.score)} (n = {est.n}, "
        f"{format_points(est.low)} to {format_points(est.high)})"
    )


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _change(current: Counts, previous: Counts, missing_previous: str) -> str:
    result = compare(current, previous)
    if result.difference is None:
        missing = "in this period" if current.n == 0 else missing_previous
        return f"no comparison (no answers {missing})"
    verdict = "beyond the noise" if result.significant else "within the noise"
    return f"{format_points(result.difference)} points, {verdict}"


def _headline(data: DigestData) -> list[str]:
    day = data.day.isoformat()
    est = estimate(data.today)
    if est.score is None:
        return [f"No answers on {day}."]
    counts = data.today
    return [
        f"<b>NPS {format_points(est.score)}</b> on {day} "
        f"(n = {est.n}, 95% interval {format_points(est.low or 0.0)} "
        f"to {format_points(est.high or 0.0)})",
        f"Promoters {counts.promoters} ({_percent(counts.promoters, counts.n)}) · "
        f"Passives {counts.passives} ({_percent(counts.passives, counts.n)}) · "
        f"Detractors {counts.detractors} ({_percent(counts.detractors, counts.n)})",
    ]


def _trends(data: DigestData) -> list[str]:
    lines = ["<b>Trend</b>"]
    if data.today.n:
        lines.append(
            f"vs the day before, {format_estimate(estimate(data.yesterday))}: "
            f"{_change(data.today, data.yesterday, 'on the day before')}"
        )
    for days, current, previous in ((7, data.last7, data.prev7), (30, data.last30, data.prev30)):
        window = f"in the previous {days} days"
        lines.append(
            f"Last {days} days {format_estimate(estimate(current))} vs "
            f"{format_estimate(estimate(previous))}: {_change(current, previous, window)}"
        )
    return lines


def _responses(data: DigestData) -> list[str]:
    if data.sent == 0 and data.answered == 0:
        line = "No surveys sent."
    else:
        line = (
            f"Answered {data.answered} of {data.sent} sent "
            f"({_percent(data.answered, data.sent)} response rate)"
        )
    return [
        "<b>Responses</b>",
        f"{line} · {data.expired} expired · {data.failed} failed",
    ]


def _kinds(data: DigestData) -> list[str]:
    present = sorted(kind for kind, counts in data.by_kind.items() if counts.n > 0)
    if len(present) == 1:
        return [f"<i>All answers are from {_esc(present[0])} surveys.</i>"]
    return _split("By survey kind", data.by_kind)


def _split(title: str, rows: Mapping[str, Counts]) -> list[str]:
    present = [(name, counts) for name, counts in rows.items() if counts.n > 0]
    if not present:
        return []
    # Largest groups first: they matter most and have the narrowest intervals.
    present.sort(key=lambda item: (-item[1].n, item[0]))
    lines = [f"<b>{title}</b>"]
    for name, counts in present[:MAX_SPLIT_ROWS]:
        lines.append(f"{_esc(name)}: {format_estimate(estimate(counts))}")
    if len(present) > MAX_SPLIT_ROWS:
        lines.append(f"… and {len(present) - MAX_SPLIT_ROWS} more")
    return lines


def _drivers(data: DigestData) -> list[str]:
    lines: list[str] = []
    for category, label in (
        (Category.DETRACTOR, "Detractors"),
        (Category.PASSIVE, "Passives"),
        (Category.PROMOTER, "Promoters"),
    ):
        entries = [(d, c) for d, c in data.drivers.get(category, ()) if c > 0]
        if entries:
            listed = ", ".join(
                f"{_esc(driver)} ({count})" for driver, count in entries[:DRIVERS_PER_CATEGORY]
            )
            lines.append(f"{label}: {listed}")
    return ["<b>Drivers</b>", *lines] if lines else []


def _verbatims(data: DigestData) -> list[str]:
    lines: list[str] = []
    # Detractors first: they are the ones somebody should act on.
    for category, label in (
        (Category.DETRACTOR, "Detractors"),
        (Category.PASSIVE, "Passives"),
        (Category.PROMOTER, "Promoters"),
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
    return ["<b>Latest comments</b>", *lines] if lines else []


def _follow_up(data: DigestData) -> list[str]:
    return [
        f"<b>Follow-up:</b> {_plural(data.detractors_total, 'detractor')}, "
        f"{data.detractors_followed_up} followed up"
    ]


def _cutoffs_note(cutoffs: Cutoffs) -> list[str]:
    if cutoffs.is_standard:
        return []
    return [
        f"<i>Scores use non-standard cut-offs ({cutoffs.describe()}); "
        "they are not comparable with published NPS.</i>"
    ]


def compose_digest(data: DigestData) -> Digest:
    """Compose the daily digest text, its Telegram-sized messages and the chart caption."""
    header = [
        f"<b>NPS digest · {_esc(data.company)} · {data.day.isoformat()}</b>",
        f"<i>Days in {_esc(data.tz_name)}; intervals are 95%.</i>",
    ]
    attribute_title = (
        f"By {_esc(data.by_attribute_name)}" if data.by_attribute_name else "By attribute"
    )
    sections = [
        header,
        _headline(data),
        _kinds(data),
        _trends(data),
        _responses(data),
        _split("By event type", data.by_event_type),
        _split(attribute_title, data.by_attribute),
        _drivers(data),
        _verbatims(data),
        _follow_up(data),
        _cutoffs_note(data.cutoffs),
    ]
    text = "\n\n".join("\n".join(lines) for lines in sections if lines)
    return Digest(
        text=text,
        messages=tuple(split_message(text, MESSAGE_LIMIT)),
        caption=_caption(data),
    )


def _caption(data: DigestData) -> str:
    today = estimate(data.today)
    lines = [
        f"<b>{_esc(data.company)}</b> · {data.day.isoformat()}",
        f"Day: {format_estimate(today)}",
        f"7 days: {format_estimate(estimate(data.last7))}",
        f"30 days: {format_estimate(estimate(data.last30))}",
    ]
    if not data.cutoffs.is_standard:
        lines.append("<i>Non-standard cut-offs.</i>")
    return shorten("\n".join(lines), CAPTION_LIMIT)
