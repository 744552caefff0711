"""All SQL of comment themes: the work list, assignments, the stored model, the registry of
emerging themes, and the per-theme aggregations the reports read (schema v007)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.records import from_db_time_req, to_db_time
from storage.db import Tx
from storage.reports import HISTOGRAM_BUCKETS, NO_FILTER, AnswerFilter, Histogram

DRIVER = "driver"
EMERGING = "emerging"


@dataclass(frozen=True, slots=True)
class CommentRow:
    """An answer's reason with what theming reads: score and drivers ticked."""

    survey_id: int
    text: str
    score: int
    drivers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One theme found in one answer."""

    theme: str
    kind: str  # DRIVER or EMERGING
    score: float


@dataclass(frozen=True, slots=True)
class StoredModel:
    """The model in use: its row id, when it was trained, on how many comments, its JSON."""

    id: int
    trained_at: datetime
    comments: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RegisteredTheme:
    """An emerging theme as registered: stable id and name, key words, dates, size."""

    id: str
    name: str
    keywords: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    comments: int


def _comment(row: Any) -> CommentRow:
    raw = json.loads(row[3]) if row[3] else []
    drivers = tuple(str(d) for d in raw) if isinstance(raw, list) else ()
    return CommentRow(int(row[0]), str(row[1]), int(row[2]), drivers)


async def pending_comments(tx: Tx, limit: int) -> list[CommentRow]:
    """Reasons not themed yet, oldest first (the partial index ``answers_to_theme``)."""
    return [
        _comment(r)
        for r in await tx.fetchall(
            """
        SELECT survey_id, reason, score, drivers FROM answers
        WHERE reason IS NOT NULL AND themed_at IS NULL AND reason <> ''
        ORDER BY id LIMIT ?
        """,
            (limit,),
        )
    ]


async def training_comments(tx: Tx, limit: int) -> list[CommentRow]:
    """The newest ``limit`` reasons (what a model is trained on), oldest first."""
    return [
        _comment(r)
        for r in await tx.fetchall(
            """
        SELECT survey_id, reason, score, drivers FROM (
            SELECT id, survey_id, reason, score, drivers FROM answers
            WHERE reason IS NOT NULL AND reason <> '' ORDER BY id DESC LIMIT ?
        ) AS newest ORDER BY id
        """,
            (limit,),
        )
    ]


async def comment_count(tx: Tx) -> int:
    """How many answers have a reason."""
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM answers WHERE reason IS NOT NULL AND reason <> ''"
    )
    return int(row[0]) if row else 0


async def assign(tx: Tx, survey_id: int, assignments: Iterable[Assignment], now: datetime) -> bool:
    """Replace an answer's themes and mark it themed; True the first time it is themed
    (False if it was themed before, or has no reason any more: nothing is written then)."""
    row = await tx.fetchone(
        "SELECT themed_at, reason FROM answers WHERE survey_id = ?", (survey_id,)
    )
    if row is None or row[1] is None:
        return False  # no answer, or its words were erased or anonymised meanwhile
    first = row[0] is None
    at = to_db_time(now)
    await tx.execute("DELETE FROM answer_themes WHERE survey_id = ?", (survey_id,))
    await tx.executemany(
        "INSERT INTO answer_themes (survey_id, theme, kind, score, themed_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (survey_id, theme) DO UPDATE SET "
        "kind = excluded.kind, score = excluded.score, themed_at = excluded.themed_at",
        [(survey_id, a.theme, a.kind, a.score, at) for a in assignments],
    )
    await tx.execute("UPDATE answers SET themed_at = ? WHERE survey_id = ?", (at, survey_id))
    return first


async def themes_of(tx: Tx, survey_ids: Sequence[int]) -> dict[int, list[str]]:
    """The themes of each of these surveys' answers, most probable first."""
    out: dict[int, list[str]] = {}
    for i in range(0, len(survey_ids), 500):
        chunk = list(survey_ids[i : i + 500])
        marks = ", ".join("?" for _ in chunk)
        rows = await tx.fetchall(
            f"SELECT survey_id, theme FROM answer_themes WHERE survey_id IN ({marks}) "
            "ORDER BY survey_id, score DESC, theme",
            chunk,
        )
        for survey_id, theme in rows:
            out.setdefault(int(survey_id), []).append(str(theme))
    return out


async def save_model(tx: Tx, data: dict[str, Any], comments: int, now: datetime) -> int:
    """Store a newly trained model as the one in use; older ones are deleted."""
    model_id = int(
        await tx.fetchval(
            "INSERT INTO theme_models (trained_at, comments, model) VALUES (?, ?, ?) RETURNING id",
            (to_db_time(now), comments, json.dumps(data, ensure_ascii=False)),
        )
    )
    await tx.execute("DELETE FROM theme_models WHERE id < ?", (model_id,))
    return model_id


async def latest_model(tx: Tx) -> StoredModel | None:
    """The model in use, if one was trained."""
    row = await tx.fetchone(
        "SELECT id, trained_at, comments, model FROM theme_models ORDER BY id DESC LIMIT 1"
    )
    if row is None:
        return None
    return StoredModel(int(row[0]), from_db_time_req(row[1]), int(row[2]), json.loads(row[3]))


async def registry(tx: Tx) -> list[RegisteredTheme]:
    """Every emerging theme ever registered, most recently seen first."""
    rows = await tx.fetchall(
        "SELECT id, name, keywords, first_seen, last_seen, comments FROM theme_registry "
        "ORDER BY last_seen DESC, comments DESC, id"
    )
    return [
        RegisteredTheme(
            str(r[0]),
            str(r[1]),
            tuple(str(k) for k in json.loads(r[2])),
            from_db_time_req(r[3]),
            from_db_time_req(r[4]),
            int(r[5]),
        )
        for r in rows
    ]


async def register(
    tx: Tx, theme_id: str, name: str, keywords: Sequence[str], comments: int, now: datetime
) -> None:
    """Record an emerging theme seen now (new, or an existing id seen again)."""
    at = to_db_time(now)
    await tx.execute(
        """
        INSERT INTO theme_registry (id, name, keywords, first_seen, last_seen, comments)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            keywords = excluded.keywords, last_seen = excluded.last_seen,
            comments = excluded.comments
        """,
        (theme_id, name, json.dumps(list(keywords), ensure_ascii=False), at, at, comments),
    )


async def histograms_by_theme(
    tx: Tx, start: datetime, end: datetime, flt: AnswerFilter = NO_FILTER
) -> dict[str, Histogram]:
    """Score histograms in ``[start, end)`` of the answers carrying each theme."""
    where, params = flt.where(tx.dialect)
    join = "JOIN surveys s ON s.id = a.survey_id" if flt.needs_surveys else ""
    sql = f"""
        SELECT t.theme, a.score, COUNT(*) FROM answers a
        JOIN answer_themes t ON t.survey_id = a.survey_id
        {join}
        WHERE a.scored_at >= ? AND a.scored_at < ? {where}
        GROUP BY t.theme, a.score
        """
    groups: dict[str, list[int]] = {}
    for theme, score, count in await tx.fetchall(
        sql, [to_db_time(start), to_db_time(end), *params]
    ):
        groups.setdefault(str(theme), [0] * HISTOGRAM_BUCKETS)[int(score)] += int(count)
    return {k: tuple(v) for k, v in groups.items()}


async def theme_kinds(tx: Tx) -> dict[str, str]:
    """Each assigned theme's kind (driver or emerging)."""
    return {
        str(t): str(k)
        for t, k in await tx.fetchall("SELECT DISTINCT theme, kind FROM answer_themes")
    }
