"""The on-demand ``/nps`` report: a pure function from aggregated counts to Telegram HTML.

Same rules as the digest: n and the 95 % interval beside every NPS, a change against the
previous period of the same length that says whether it is beyond the noise (one
comparison, so no correction is needed), no interval below ``min_sample`` answers, kinds never
mixed silently, non-standard cut-offs named, every outside string escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.nps import (
    DEFAULT_MIN_SAMPLE,
    STANDARD_CUTOFFS,
    Category,
    Counts,
    Cutoffs,
    compare,
    estimate,
)
from bot.core.periods import Period, period_label
from bot.core.texts import AdminTexts, admin_texts
from bot.reports.digest import (
    NO_VALUE,
    describe_cutoffs,
    driver_lines,
    format_estimate,
    format_points,
)
from bot.reports.telegram_text import MESSAGE_LIMIT, split_message

__all__ = ["NpsReportData", "compose_nps_report"]

MAX_ROWS = 10


@dataclass(frozen=True)
class NpsReportData:
    """What ``/nps`` shows, aggregated by the caller."""

    period: Period
    previous_period: Period
    current: Counts
    previous: Counts
    filter_label: str = ""
    tz_name: str = "UTC"
    cutoffs: Cutoffs = STANDARD_CUTOFFS
    by_kind: Mapping[str, Counts] = field(default_factory=dict)
    by_event_type: Mapping[str, Counts] = field(default_factory=dict)
    min_sample: int = DEFAULT_MIN_SAMPLE
    #: Per category, (driver label, answers that picked it), most picked first.
    drivers: Mapping[Category, Sequence[tuple[str, int]]] = field(default_factory=dict)


def _esc(value: str) -> str:
    return html.escape(" ".join(value.split())[:64], quote=False)


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _rows(
    title: str,
    rows: Mapping[str, Counts],
    texts: AdminTexts,
    min_sample: int,
    names: Callable[[str], str] = str,
) -> list[str]:
    present = sorted(((k, c) for k, c in rows.items() if c.n), key=lambda kv: (-kv[1].n, kv[0]))
    if not present:
        return []
    lines = [f"<b>{title}</b>"]
    for name, c in present[:MAX_ROWS]:
        shown = texts.render("no_value") if name == NO_VALUE else names(name)
        lines.append(f"{_esc(shown)}: {format_estimate(estimate(c), texts.lang, min_sample)}")
    if len(present) > MAX_ROWS:
        lines.append(texts.render("and_more", n=len(present) - MAX_ROWS))
    return lines


def compose_nps_report(data: NpsReportData, lang: str = "en") -> list[str]:
    """The report as HTML messages in the admin language ``lang``, each within Telegram's
    4,096 characters."""
    t = admin_texts(lang)
    title = t.render("nps_title", period=_esc(period_label(data.period, t)))
    if data.filter_label:
        title += f" · {_esc(data.filter_label)}"
    lines = [title, t.render("days_in", tz=_esc(data.tz_name)), ""]
    est = estimate(data.current)
    counts = data.current
    if est.score is None:
        lines.append(t.render("nps_no_answers"))
    elif est.n < data.min_sample:
        lines.append(t.render("nps_headline_few", score=format_points(est.score), n=est.n))
    else:
        lines.append(
            t.render(
                "nps_headline",
                score=format_points(est.score),
                n=est.n,
                low=format_points(est.low or 0.0),
                high=format_points(est.high or 0.0),
            )
        )
        lines.append(
            t.render(
                "shares",
                p=counts.promoters,
                pp=_share(counts.promoters, counts.n),
                s=counts.passives,
                sp=_share(counts.passives, counts.n),
                d=counts.detractors,
                dp=_share(counts.detractors, counts.n),
            )
        )
    result = compare(data.current, data.previous)
    previous = t.render(
        "nps_previous",
        period=_esc(period_label(data.previous_period, t)),
        estimate=format_estimate(result.previous, t.lang, data.min_sample),
    )
    if result.difference is None:
        lines.append(t.render("nps_no_comparison", previous=previous))
    else:
        verdict = t.render("beyond" if result.significant else "within")
        lines.append(
            t.render(
                "nps_change",
                previous=previous,
                points=format_points(result.difference),
                verdict=verdict,
            )
        )
    kinds = [k for k, c in data.by_kind.items() if c.n]
    if len(kinds) == 1:
        lines.append(t.render("one_kind", kind=_esc(t.kind(kinds[0]))))
    elif len(kinds) > 1:
        lines += ["", *_rows(t.render("by_kind"), data.by_kind, t, data.min_sample, t.kind)]
    event_rows = _rows(t.render("by_event_type"), data.by_event_type, t, data.min_sample)
    if event_rows:
        lines += ["", *event_rows]
    drivers = driver_lines(data.drivers, t.lang)
    if drivers:
        lines += ["", *drivers]
    if not data.cutoffs.is_standard:
        lines += ["", t.render("cutoffs", cutoffs=describe_cutoffs(data.cutoffs, t.lang))]
    return split_message("\n".join(lines), MESSAGE_LIMIT)
