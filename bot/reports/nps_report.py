"""The on-demand ``/nps`` report: a pure function from aggregated counts to Telegram HTML.

Same rules as the digest: n and the 95 % interval beside every NPS, a change against the
previous period of the same length that says whether it is beyond the noise, kinds never
mixed silently, non-standard cut-offs named, every outside string escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.domain.nps import STANDARD_CUTOFFS, Counts, Cutoffs, compare, estimate
from bot.reports.digest import format_estimate, format_points
from bot.reports.periods import Period
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


def _esc(value: str) -> str:
    return html.escape(" ".join(value.split())[:64], quote=False)


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def _rows(title: str, rows: Mapping[str, Counts]) -> list[str]:
    present = sorted(((k, c) for k, c in rows.items() if c.n), key=lambda kv: (-kv[1].n, kv[0]))
    if not present:
        return []
    lines = [f"<b>{title}</b>"]
    lines += [f"{_esc(name)}: {format_estimate(estimate(c))}" for name, c in present[:MAX_ROWS]]
    if len(present) > MAX_ROWS:
        lines.append(f"… and {len(present) - MAX_ROWS} more")
    return lines


def compose_nps_report(data: NpsReportData) -> list[str]:
    """The report as HTML messages, each within Telegram's 4,096 characters."""
    title = f"<b>NPS · {_esc(data.period.label)}</b>"
    if data.filter_label:
        title += f" · {_esc(data.filter_label)}"
    lines = [title, f"<i>Days in {_esc(data.tz_name)}; intervals are 95%.</i>", ""]
    est = estimate(data.current)
    counts = data.current
    if est.score is None:
        lines.append("No answers in this period.")
    else:
        lines.append(
            f"<b>NPS {format_points(est.score)}</b> (n = {est.n}, 95% interval "
            f"{format_points(est.low or 0.0)} to {format_points(est.high or 0.0)})"
        )
        lines.append(
            f"Promoters {counts.promoters} ({_share(counts.promoters, counts.n)}) · "
            f"Passives {counts.passives} ({_share(counts.passives, counts.n)}) · "
            f"Detractors {counts.detractors} ({_share(counts.detractors, counts.n)})"
        )
    result = compare(data.current, data.previous)
    previous = f"Previous {_esc(data.previous_period.label)}: {format_estimate(result.previous)}"
    if result.difference is None:
        lines.append(f"{previous}; no comparison possible.")
    else:
        verdict = "beyond the noise" if result.significant else "within the noise"
        lines.append(f"{previous}; change {format_points(result.difference)} points, {verdict}.")
    kinds = [k for k, c in data.by_kind.items() if c.n]
    if len(kinds) == 1:
        lines.append(f"<i>All answers are from {_esc(kinds[0])} surveys.</i>")
    elif len(kinds) > 1:
        lines += ["", *_rows("By survey kind", data.by_kind)]
    event_rows = _rows("By event type", data.by_event_type)
    if event_rows:
        lines += ["", *event_rows]
    if not data.cutoffs.is_standard:
        lines += [
            "",
            f"<i>Scores use non-standard cut-offs ({data.cutoffs.describe()}); "
            "they are not comparable with published NPS.</i>",
        ]
    return split_message("\n".join(lines), MESSAGE_LIMIT)
