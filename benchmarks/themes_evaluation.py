"""The labelled evaluation set and its measures: precision, recall, F1, sentiment accuracy.

The set lives in ``tests/data/themes``: one JSON object a line per comment (``text``,
``language``, ``score``, gold ``themes`` and ``sentiment``, the drivers the customer
``ticked``, and ``split``: ``train`` or ``heldout``), plus ``drivers.json``. The model learns
from the train split only; the held-out comments are themed with their ticks hidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.themes.model import Comment, DriverSpec, ThemeModel

__all__ = [
    "DATA_DIR",
    "Evaluation",
    "LabelledComment",
    "Scores",
    "drivers_from_dicts",
    "evaluate",
    "load_drivers",
    "load_labelled",
    "theme_scores",
    "train_on_split",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "themes"


@dataclass(frozen=True, slots=True)
class LabelledComment:
    """A comment of the evaluation set with its gold labels."""

    comment: Comment
    themes: frozenset[str]
    sentiment: str
    split: str

    def hidden(self) -> Comment:
        """The comment as the model sees it at evaluation: no ticked drivers."""
        c = self.comment
        return Comment(c.id, c.text, c.language, c.score, ())


@dataclass(frozen=True, slots=True)
class Scores:
    """Precision, recall and F1 with the counts they come from."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Rounded figures for a results file."""
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


def load_labelled(path: Path) -> list[LabelledComment]:
    """The labelled comments of one JSON-lines file."""
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            comment = Comment(
                str(row["id"]),
                str(row["text"]),
                row.get("language"),
                int(row["score"]),
                tuple(str(d) for d in row.get("ticked", ())),
            )
            out.append(
                LabelledComment(
                    comment, frozenset(row["themes"]), str(row["sentiment"]), str(row["split"])
                )
            )
    return out


def drivers_from_dicts(rows: Iterable[Mapping[str, Any]]) -> list[DriverSpec]:
    """DriverSpecs from plain dicts (``id``, ``labels``, ``keywords``, optional ``theme``)."""
    return [
        DriverSpec(
            str(r["id"]),
            {str(k): str(v) for k, v in dict(r.get("labels", {})).items()},
            {str(k): tuple(str(w) for w in v) for k, v in dict(r.get("keywords", {})).items()},
            r.get("theme"),
        )
        for r in rows
    ]


def load_drivers(path: Path | None = None) -> list[DriverSpec]:
    """The demo questionnaire's drivers with their seed keywords."""
    data = json.loads((path or DATA_DIR / "drivers.json").read_text(encoding="utf-8"))
    return drivers_from_dicts(data["drivers"])


def theme_scores(
    gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], themes: Iterable[str]
) -> tuple[Scores, dict[str, Scores]]:
    """Micro-averaged scores and per-theme scores of predicted theme sets against gold."""
    per: dict[str, Scores] = {}
    for theme in themes:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if theme in g and theme in p)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if theme not in g and theme in p)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if theme in g and theme not in p)
        per[theme] = Scores(tp, fp, fn)
    micro = Scores(
        sum(s.tp for s in per.values()),
        sum(s.fp for s in per.values()),
        sum(s.fn for s in per.values()),
    )
    return micro, per


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The held-out figures of one language."""

    language: str
    comments: int
    micro: Scores
    per_theme: Mapping[str, Scores]
    sentiment_accuracy: float
    none_accuracy: float


def evaluate(model: ThemeModel, labelled: Sequence[LabelledComment], language: str) -> Evaluation:
    """Theme and sentiment figures of ``model`` on the held-out comments of ``language``."""
    held = [lc for lc in labelled if lc.split == "heldout" and lc.comment.language == language]
    analyses = [model.analyse(lc.hidden()) for lc in held]
    gold = [lc.themes for lc in held]
    predicted = [frozenset(h.theme_id for h in a.themes) for a in analyses]
    micro, per = theme_scores(gold, predicted, model.themes)
    right = sum(
        1 for lc, a in zip(held, analyses, strict=True) if a.sentiment.label == lc.sentiment
    )
    nones = [(g, p) for g, p in zip(gold, predicted, strict=True) if not g]
    return Evaluation(
        language,
        len(held),
        micro,
        per,
        right / len(held) if held else 0.0,
        sum(1 for _, p in nones if not p) / len(nones) if nones else 1.0,
    )


def train_on_split(
    labelled: Sequence[LabelledComment], drivers: Sequence[DriverSpec]
) -> ThemeModel:
    """The model of the evaluation: the train split (ticks included) plus seed keywords."""
    return ThemeModel.train([lc.comment for lc in labelled if lc.split == "train"], drivers)
