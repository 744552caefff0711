"""Emerging themes: what the comments no driver explains are about, named by key words.

The comments are clustered (spherical k-means over TF-IDF vectors kept as dicts, seeded
deterministically), each cluster is named by its top key words, and :func:`match_emerging`
carries a theme's id and name over from the previous run when its key words overlap enough,
so a theme keeps its history from run to run.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.themes.text import tokenize

__all__ = ["EmergingTheme", "find_emerging", "jaccard", "match_emerging"]


@dataclass(frozen=True, slots=True)
class EmergingTheme:
    """A cluster of comments: a stable id, a readable name, its key words and comments.

    ``keywords`` are the tokeniser's keys (English stems, Chinese words), the best first;
    ``name`` joins the top ones as customers wrote them.
    """

    id: str
    name: str
    keywords: tuple[str, ...]
    comment_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "id": self.id,
            "name": self.name,
            "keywords": list(self.keywords),
            "comment_ids": list(self.comment_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmergingTheme:
        """The theme :meth:`to_dict` wrote."""
        return cls(
            str(data["id"]),
            str(data["name"]),
            tuple(str(k) for k in data["keywords"]),
            tuple(str(c) for c in data["comment_ids"]),
        )


def _norm(vec: Mapping[str, float]) -> dict[str, float]:
    length = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / length for k, v in vec.items()} if length else dict(vec)


def _dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _theme_id(keywords: Sequence[str]) -> str:
    digest = hashlib.sha1("|".join(sorted(keywords)).encode()).hexdigest()[:8]
    return f"emerging-{digest}"


def find_emerging(
    comments: Iterable[tuple[str, str]],
    *,
    min_size: int = 3,
    max_themes: int = 8,
    keywords_per_theme: int = 3,
    iterations: int = 10,
) -> list[EmergingTheme]:
    """Emerging themes among ``(comment_id, text)`` pairs, largest first.

    Words in fewer than two comments are no key words; a cluster
    needs ``min_size`` comments and key words shared by at least two of them.
    """
    docs: list[tuple[str, set[str]]] = []
    surface: dict[str, Counter[str]] = {}
    for cid, text in comments:
        tokens = tokenize(text)
        words = set(tokens.words)
        if words:
            docs.append((cid, words))
        for key, written in tokens.surface:
            surface.setdefault(key, Counter())[written] += 1
    if len(docs) < min_size:
        return []
    df: Counter[str] = Counter()
    for _, words in docs:
        df.update(words)
    n = len(docs)
    # A word in one comment only groups nothing; common words are merely weighted down.
    idf = {w: math.log(n / c) + 1.0 for w, c in df.items() if c >= 2}
    vectors: list[tuple[str, dict[str, float]]] = []
    for cid, words in docs:
        vec = _norm({w: idf[w] for w in words if w in idf})
        if vec:
            vectors.append((cid, vec))
    if len(vectors) < min_size:
        return []
    k = max(1, min(max_themes * 2, round(math.sqrt(len(vectors) / 2))))
    clusters = _kmeans([v for _, v in vectors], k, iterations)
    themes: list[EmergingTheme] = []
    for members in clusters:
        if len(members) < min_size:
            continue
        weight: dict[str, float] = {}
        support: Counter[str] = Counter()
        for m in members:
            for w, v in vectors[m][1].items():
                weight[w] = weight.get(w, 0.0) + v
                support[w] += 1
        keys = [
            w
            for w, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
            if support[w] >= max(2, len(members) // 3)
        ][:keywords_per_theme]
        if not keys:
            continue
        name = " / ".join(surface[k].most_common(1)[0][0] if k in surface else k for k in keys)
        ids = tuple(vectors[m][0] for m in members)
        themes.append(EmergingTheme(_theme_id(keys), name, tuple(keys), ids))
    themes.sort(key=lambda t: (-len(t.comment_ids), t.name))
    return themes[:max_themes]


def _kmeans(vectors: Sequence[dict[str, float]], k: int, iterations: int) -> list[list[int]]:
    """Spherical k-means, farthest-first seeding from the densest vector (deterministic)."""
    centroid_sum: Counter[str] = Counter()
    for v in vectors:
        centroid_sum.update(v)
    first = max(range(len(vectors)), key=lambda i: (_dot(vectors[i], centroid_sum), -i))
    centres = [vectors[first]]
    nearest = [_dot(v, centres[0]) for v in vectors]
    while len(centres) < k:
        far = min(range(len(vectors)), key=lambda i: (nearest[i], i))
        if nearest[far] >= 0.999:  # every vector already sits on a centre
            break
        centres.append(vectors[far])
        nearest = [max(nearest[i], _dot(v, vectors[far])) for i, v in enumerate(vectors)]
    assignment = [-1] * len(vectors)
    for _ in range(iterations):
        changed = False
        for i, v in enumerate(vectors):
            best = max(range(len(centres)), key=lambda c: (_dot(v, centres[c]), -c))
            if best != assignment[i]:
                assignment[i], changed = best, True
        if not changed:
            break
        sums: list[Counter[str]] = [Counter() for _ in centres]
        for i, c in enumerate(assignment):
            sums[c].update(vectors[i])
        centres = [_norm(s) if s else centres[c] for c, s in enumerate(sums)]
    groups: list[list[int]] = [[] for _ in centres]
    for i, c in enumerate(assignment):
        groups[c].append(i)
    return groups


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """|a ∩ b| / |a ∪ b| of two sets of key words (0 for two empty sets)."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return len(sa & sb) / len(union) if union else 0.0


def match_emerging(
    previous: Sequence[EmergingTheme], current: Sequence[EmergingTheme], threshold: float = 0.3
) -> list[EmergingTheme]:
    """``current`` with the id and name of the previous theme each one continues.

    Pairs are matched greedily, best key-word overlap first, each previous theme at most once;
    a current theme whose best overlap is below ``threshold`` is new and keeps its own id.
    """
    pairs = sorted(
        (
            (jaccard(p.keywords, c.keywords), pi, ci)
            for pi, p in enumerate(previous)
            for ci, c in enumerate(current)
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    taken_prev: set[int] = set()
    matched: dict[int, EmergingTheme] = {}
    for score, pi, ci in pairs:
        if score < threshold:
            break
        if pi in taken_prev or ci in matched:
            continue
        taken_prev.add(pi)
        matched[ci] = replace(current[ci], id=previous[pi].id, name=previous[pi].name)
    used_ids = {t.id for t in previous}
    out = []
    for ci, theme in enumerate(current):
        if ci in matched:
            out.append(matched[ci])
            continue
        # A new theme must not take the id of an older one it does not continue.
        fresh, n = theme.id, 1
        while fresh in used_ids:
            n += 1
            fresh = f"{theme.id}-{n}"
        used_ids.add(fresh)
        out.append(replace(theme, id=fresh))
    return out
