"""Comment themes in the reports: each theme's NPS, impact and change, as Telegram HTML.

Pure: the caller aggregates per theme (the answers carrying it, in a period and the one
before) and all answers; :func:`theme_rows` computes, :func:`theme_lines` words it (the
digest's "Themes" section and ``/themes``), :func:`theme_json` gives the ops API's form.

* A theme's NPS is that of the answers whose comment carries it, with n and the 95 %
  interval (:func:`bot.core.nps.estimate`).
* Its **impact** is the NPS of all answers minus the NPS of the answers without the theme:
  how many points the theme moves the score (negative: it pulls the score down).
* Its change against the previous period says whether it is beyond the noise
  (:func:`bot.core.nps.compare`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.nps import Comparison, Counts, NpsEstimate, compare, estimate, nps
from bot.core.texts import admin_texts
from bot.reports.digest import format_estimate, format_points

__all__ = ["ThemeChartLabels", "ThemeRow", "theme_json", "theme_lines", "theme_rows", "top_themes"]

TOP_PER_CATEGORY = 3
MAX_ROWS = 8
EMERGING = "emerging"


@dataclass(frozen=True, slots=True)
class ThemeChartLabels:
    """The ``/themes`` chart's words (:mod:`bot.reports.theme_chart`), in the admin language."""

    title: str
    axis: str
    no_data: str


@dataclass(frozen=True, slots=True)
class ThemeRow:
    """One theme in a period: its answers, NPS, impact and change."""

    theme: str
    name: str
    kind: str  # "driver" or "emerging"
    counts: Counts
    previous: Counts
    estimate: NpsEstimate
    impact: float | None
    change: Comparison


def _without(total: Counts, part: Counts) -> Counts:
    return Counts(
        promoters=max(0, total.promoters - part.promoters),
        passives=max(0, total.passives - part.passives),
        detractors=max(0, total.detractors - part.detractors),
    )


def impact(total: Counts, theme: Counts) -> float | None:
    """NPS of all answers minus NPS of the answers without the theme (None: undefined)."""
    everyone, rest = nps(total), nps(_without(total, theme))
    if everyone is None or rest is None:
        return None
    return everyone - rest


def theme_rows(
    current: Mapping[str, Counts],
    previous: Mapping[str, Counts],
    total: Counts,
    names: Mapping[str, str],
    kinds: Mapping[str, str],
) -> list[ThemeRow]:
    """Every theme with answers in the period, the most answers first."""
    rows = []
    for theme, counts in current.items():
        if counts.n == 0:
            continue
        before = previous.get(theme, Counts())
        rows.append(
            ThemeRow(
                theme=theme,
                name=names.get(theme, theme),
                kind=kinds.get(theme, "driver"),
                counts=counts,
                previous=before,
                estimate=estimate(counts),
                impact=impact(total, counts),
                change=compare(counts, before),
            )
        )
    rows.sort(key=lambda r: (-r.counts.n, r.name))
    return rows


def top_themes(
    rows: Sequence[ThemeRow], category: str, limit: int = TOP_PER_CATEGORY
) -> list[tuple[ThemeRow, int]]:
    """The themes most mentioned by ``"detractors"`` or ``"promoters"``, with their counts."""
    counted = [(r, int(getattr(r.counts, category))) for r in rows]
    counted = [(r, n) for r, n in counted if n > 0]
    counted.sort(key=lambda rn: (-rn[1], rn[0].name))
    return counted[:limit]


def _esc(value: str) -> str:
    return html.escape(" ".join(value.split())[:64], quote=False)


def _name(row: ThemeRow, lang: str) -> str:
    name = _esc(row.name)
    if row.kind == EMERGING:
        return f"{name} <i>({admin_texts(lang).render('themes_new')})</i>"
    return name


def _change(row: ThemeRow, lang: str) -> str:
    w = admin_texts(lang).render
    if row.change.difference is None:
        return w("themes_no_previous")
    verdict = w("beyond" if row.change.significant else "within")
    return w("change", points=format_points(row.change.difference), verdict=verdict)


def theme_lines(
    rows: Sequence[ThemeRow], title: str, lang: str = "en", *, max_rows: int = MAX_ROWS
) -> list[str]:
    """The section: top themes of detractors and of promoters with counts, then each theme's
    NPS with its interval, impact and change (``title`` is already HTML)."""
    w = admin_texts(lang).render
    if not rows:
        return [title, w("themes_none")]
    lines = [title]
    for key, category in (("themes_detractors", "detractors"), ("themes_promoters", "promoters")):
        top = top_themes(rows, category)
        if top:
            listed = ", ".join(f"{_name(r, lang)} ({n})" for r, n in top)
            lines.append(w(key, listed=listed))
    for row in rows[:max_rows]:
        lines.append(
            "• "
            + w(
                "themes_row",
                name=_name(row, lang),
                estimate=format_estimate(row.estimate, lang),
                impact=format_points(row.impact) if row.impact is not None else "–",
                change=_change(row, lang),
            )
        )
    if len(rows) > max_rows:
        lines.append(w("and_more", n=len(rows) - max_rows))
    lines.append(w("themes_note"))
    return lines


def theme_json(rows: Sequence[ThemeRow]) -> list[dict[str, Any]]:
    """The rows as the ops API returns them."""
    out = []
    for r in rows:
        out.append(
            {
                "id": r.theme,
                "name": r.name,
                "kind": r.kind,
                "n": r.counts.n,
                "promoters": r.counts.promoters,
                "passives": r.counts.passives,
                "detractors": r.counts.detractors,
                "nps": r.estimate.score,
                "interval": (
                    [r.estimate.low, r.estimate.high] if r.estimate.low is not None else None
                ),
                "impact": r.impact,
                "previous": {"n": r.previous.n, "nps": nps(r.previous)},
                "change": r.change.difference,
                "significant": bool(r.change.significant),
            }
        )
    return out
