"""The ``/themes`` chart: each theme's NPS with its 95 % interval, as horizontal bars.

Same approach as :mod:`bot.reports.chart` (a bare ``Figure`` on the Agg canvas, thread-safe,
CJK font fallback), in a module of its own so the digest chart stays as it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.reports.theme_report import ThemeChartLabels, ThemeRow

__all__ = ["ThemeChartLabels", "render_theme_chart"]

_FONT_FAMILIES = [
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
]
_POSITIVE, _NEGATIVE = "#2e7d32", "#c62828"
_MAX_BARS = 12
_NAME_CHARS = 28


def render_theme_chart(rows: Sequence[ThemeRow], labels: ThemeChartLabels) -> bytes:
    """PNG bytes (800 px wide): one bar per theme (most answers first, at most 12), the NPS
    with its interval as an error bar and ``n`` beside it."""
    shown = [r for r in rows if r.estimate.score is not None][:_MAX_BARS]
    height = 2.0 + 0.45 * max(1, len(shown))
    with rc_context({"font.family": _FONT_FAMILIES, "axes.unicode_minus": False}):
        fig = Figure(figsize=(8.0, height), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title(labels.title)
        ax.set_xlim(-100, 100)
        ax.axvline(0, color="#616161", linewidth=0.8)
        ax.set_xlabel(labels.axis)
        if not shown:
            ax.text(0, 0.5, labels.no_data, ha="center", va="center")
            ax.set_yticks([])
        else:
            ys = list(range(len(shown)))[::-1]
            scores = [float(r.estimate.score or 0.0) for r in shown]
            low = [s - float(r.estimate.low or 0.0) for s, r in zip(scores, shown, strict=True)]
            high = [float(r.estimate.high or 0.0) - s for s, r in zip(scores, shown, strict=True)]
            colours = [_POSITIVE if s >= 0 else _NEGATIVE for s in scores]
            ax.barh(ys, scores, color=colours, alpha=0.8)
            ax.errorbar(
                scores,
                ys,
                xerr=[[max(0.0, v) for v in low], [max(0.0, v) for v in high]],
                fmt="none",
                ecolor="#212121",
                capsize=3,
            )
            names = [
                r.name if len(r.name) <= _NAME_CHARS else r.name[: _NAME_CHARS - 1] + "…"
                for r in shown
            ]
            ax.set_yticks(
                ys, [f"{name} (n={r.counts.n})" for name, r in zip(names, shown, strict=True)]
            )
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
    return out.getvalue()
