"""Themes benchmark: quality on the labelled held-out comments, then speed and memory.

- trains the theme model on the train split of tests/data/themes (ticked comments plus the
  drivers' labels and keywords) and reports precision, recall and F1 of theme assignment
  (micro and per theme) and sentiment accuracy on the held-out comments, ticks hidden, per
  language (target F1 >= 0.8);
- themes 100,000 comments, half English and half Chinese, made by recombining the clauses of
  the evaluation comments (target < 30 s, peak memory of this process < 500 MB);
- themes new comments one at a time, as the bot will when a comment arrives (p50 / p99,
  target < 50 ms), jieba's dictionary being loaded once per process beforehand (its start-up
  is reported on its own).

    python -m benchmarks.themes --comments 100000
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.common import percentile, print_table, write_result
from benchmarks.themes_evaluation import (
    DATA_DIR,
    LabelledComment,
    evaluate,
    load_drivers,
    load_labelled,
    train_on_split,
)
from bot.themes import Comment, DriverSpec, ThemeModel, warm_up

LANGUAGES = ("en", "zh")
_CLAUSES = {
    "en": re.compile(r"[^.!?,;]+[.!?,;]*"),
    "zh": re.compile(r"[^，。！？；]+[，。！？；]*"),
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_comments(
    labelled: Sequence[LabelledComment], count: int, seed: int = 15
) -> list[Comment]:
    """``count`` comments, half per language, each one to three clauses of evaluation comments.

    Recombined clauses make texts the model has not seen whole, with the vocabulary and
    length of real comments; scores are drawn like an NPS survey's (skewed positive).
    """
    rng = random.Random(seed)
    clauses: dict[str, list[str]] = {}
    for lc in labelled:
        lang = lc.comment.language or "en"
        clauses.setdefault(lang, []).extend(
            c.strip() for c in _CLAUSES[lang].findall(lc.comment.text) if c.strip()
        )
    weights = [2, 1, 1, 2, 2, 3, 4, 8, 10, 12, 14]
    out = []
    for i in range(count):
        lang = LANGUAGES[i % 2]
        parts = rng.sample(clauses[lang], rng.choice((1, 1, 2, 2, 3)))
        text = (" " if lang == "en" else "").join(parts)
        out.append(Comment(f"s{i}", text, lang, rng.choices(range(11), weights)[0]))
    return out


def quality(model: ThemeModel, labelled: Sequence[LabelledComment]) -> dict[str, Any]:
    """Held-out figures per language."""
    figures: dict[str, Any] = {}
    for lang in LANGUAGES:
        ev = evaluate(model, labelled, lang)
        figures[lang] = {
            "heldout_comments": ev.comments,
            "micro": ev.micro.as_dict(),
            "per_theme": {t: s.as_dict() for t, s in ev.per_theme.items()},
            "sentiment_accuracy": round(ev.sentiment_accuracy, 3),
            "none_kept_none": round(ev.none_accuracy, 3),
        }
    return figures


def ablation(labelled: Sequence[LabelledComment]) -> dict[str, Any]:
    """Micro F1 per language of two partial models: what keywords and ticks each bring.

    ``keywords_only``: the drivers' labels and keywords, no comment (a questionnaire without
    a drivers step); ``labels_and_ticks``: ticked comments and the drivers' labels, no keyword.
    """
    drivers = load_drivers()
    bare = [DriverSpec(d.id, d.labels, {}, d.theme) for d in drivers]
    train = [lc.comment for lc in labelled if lc.split == "train"]
    models = {
        "keywords_only": ThemeModel.train([], drivers),
        "labels_and_ticks": ThemeModel.train(train, bare),
    }
    return {
        name: {lang: round(evaluate(m, labelled, lang).micro.f1, 3) for lang in LANGUAGES}
        for name, m in models.items()
    }


def throughput(model: ThemeModel, comments: Sequence[Comment]) -> dict[str, float]:
    """Theme and sentiment of every comment in one pass."""
    started = time.perf_counter()
    themed = 0
    for c in comments:
        if model.analyse(c).themes:
            themed += 1
    elapsed = time.perf_counter() - started
    return {
        "batch_s": round(elapsed, 2),
        "batch_per_s": round(len(comments) / elapsed),
        "batch_with_driver_theme": round(themed / len(comments), 3),
    }


def incremental(model: ThemeModel, comments: Sequence[Comment]) -> dict[str, float]:
    """One comment at a time: the latency of theming a comment as it arrives."""
    times = []
    for c in comments:
        t0 = time.perf_counter()
        model.analyse(c)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "one_p50_ms": round(percentile(times, 50), 3),
        "one_p99_ms": round(percentile(times, 99), 3),
        "one_max_ms": round(max(times), 3),
    }


def run(comments: int, singles: int) -> dict[str, Any]:
    """Every measure of the benchmark."""
    labelled = [x for lang in LANGUAGES for x in load_labelled(DATA_DIR / f"{lang}.jsonl")]
    drivers = load_drivers()
    t0 = time.perf_counter()
    warm_up()
    figures: dict[str, Any] = {"segmenter_start_s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    model = train_on_split(labelled, drivers)
    figures["train_s"] = round(time.perf_counter() - t0, 2)
    figures["quality"] = quality(model, labelled)
    figures["ablation_f1"] = ablation(labelled)
    # The model as the bot will use it: read back from its stored form.
    model = ThemeModel.from_dict(model.to_dict())
    batch = synthetic_comments(labelled, comments)
    figures["comments"] = comments
    figures.update(throughput(model, batch))
    fresh = synthetic_comments(labelled, singles, seed=16)
    figures.update(incremental(model, fresh))
    figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000, help="comments themed one by one")
    args = parser.parse_args(argv)
    figures = run(args.comments, args.singles)
    rows: list[tuple[str, str, str]] = []
    for lang in LANGUAGES:
        q = figures["quality"][lang]
        m = q["micro"]
        rows.append(
            (
                f"{lang}: themes P / R / F1 (held-out {q['heldout_comments']})",
                f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f}",
                "F1 >= 0.8",
            )
        )
        for theme, s in q["per_theme"].items():
            rows.append(
                (
                    f"{lang}:   {theme}",
                    f"{s['precision']:.2f} / {s['recall']:.2f} / {s['f1']:.2f}",
                    "",
                )
            )
        rows.append((f"{lang}: sentiment accuracy", f"{q['sentiment_accuracy']:.2f}", ""))
        rows.append((f"{lang}: no-theme comments left without", f"{q['none_kept_none']:.2f}", ""))
    for name, by_lang in figures["ablation_f1"].items():
        rows.append(
            (
                f"F1 {name.replace('_', ' ')} (en / zh)",
                f"{by_lang['en']:.2f} / {by_lang['zh']:.2f}",
                "",
            )
        )
    rows += [
        ("jieba start-up (once per process)", f"{figures['segmenter_start_s']:.2f} s", ""),
        ("training (train split)", f"{figures['train_s']:.2f} s", ""),
        (f"{args.comments:,} comments themed", f"{figures['batch_s']:.1f} s", "< 30 s"),
        ("peak memory (this process)", f"{figures['peak_rss_mb']:.0f} MB", "< 500 MB"),
        (
            "one new comment p50 / p99",
            f"{figures['one_p50_ms']:.2f} / {figures['one_p99_ms']:.2f} ms",
            "< 50 ms",
        ),
    ]
    print_table("Themes: quality on held-out comments, speed on synthetic ones", rows)
    print(f"(written to {write_result('themes', figures)})")
    return figures


if __name__ == "__main__":
    main()
