"""Driver themes and sentiment of comments, learned from the company's own answers.

Themes: one logistic regression per theme (one-vs-rest) over the tokeniser's words plus
keyword-hit features, trained on comments whose customer ticked drivers (their own labels,
in every language) and on seed examples made of the drivers' labels and keywords, so a
questionnaire without a drivers step still gets themes. A first model themes the unticked
comments it is sure of, and those teach the final model too (self-training). Each theme has
its own threshold, chosen by cross-validation on the ticked comments, so a comment gets zero,
one or several themes. English typos of known words are corrected before theming.

Sentiment: the score's category is a strong prior; a naive Bayes classifier learned from the
company's promoter (positive) and detractor (negative) comments supplies the evidence.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.themes.emerging import EmergingTheme, find_emerging
from bot.themes.text import CLAUSE_BREAK, Tokens, tokenize

__all__ = [
    "Comment",
    "CommentAnalysis",
    "DriverSpec",
    "Sentiment",
    "SentimentLabel",
    "ThemeHit",
    "ThemeModel",
    "ThemeSentiment",
    "theme_sentiment",
]

SentimentLabel = Literal["positive", "neutral", "negative"]
SENTIMENTS: tuple[SentimentLabel, ...] = ("positive", "neutral", "negative")
FORMAT_VERSION = 1

# P(sentiment | category). Strong on purpose: a 10 with "ok" is a happy customer; the text
# has to speak clearly to overturn the score.
CATEGORY_PRIOR: Mapping[str | None, tuple[float, float, float]] = {
    "promoter": (0.85, 0.12, 0.03),
    "passive": (0.25, 0.50, 0.25),
    "detractor": (0.03, 0.12, 0.85),
    None: (1 / 3, 1 / 3, 1 / 3),
}


def category_of(score: int | None) -> str | None:
    """The NPS category of a 0-10 score (standard cut-offs), ``None`` without a score."""
    if score is None:
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass(frozen=True, slots=True)
class Comment:
    """A customer's comment: its text, language if known, score and the drivers ticked."""

    id: str
    text: str
    language: str | None = None
    score: int | None = None
    drivers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.score is not None and not 0 <= self.score <= 10:
            raise ValueError(f"score must be 0..10, not {self.score}")


@dataclass(frozen=True, slots=True)
class DriverSpec:
    """A questionnaire driver: its labels and keywords per language.

    ``theme`` groups drivers into one theme (the questionnaire's ``late`` counts toward
    ``speed``); by default a driver is its own theme.
    """

    id: str
    labels: Mapping[str, str] = field(default_factory=dict)
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict)
    theme: str | None = None

    @property
    def theme_id(self) -> str:
        """The theme this driver counts toward."""
        return self.theme or self.id


@dataclass(frozen=True, slots=True)
class ThemeHit:
    """A theme found in a comment, with the model's probability for it."""

    theme_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Sentiment:
    """A comment's sentiment: the most probable label and each label's probability."""

    label: SentimentLabel
    probability: float
    probabilities: Mapping[SentimentLabel, float]


@dataclass(frozen=True, slots=True)
class CommentAnalysis:
    """Everything the model says about one comment."""

    comment_id: str
    themes: tuple[ThemeHit, ...]
    sentiment: Sentiment


@dataclass(frozen=True, slots=True)
class ThemeSentiment:
    """A theme's sentiment: its comments counted by label and their mean probabilities."""

    theme_id: str
    comments: int
    counts: Mapping[SentimentLabel, int]
    mean: Mapping[SentimentLabel, float]


@dataclass(frozen=True, slots=True)
class _Example:
    features: tuple[str, ...]
    # Per theme: the 1.0 / 0.0 target and its weight (0.0: the example says nothing of it).
    targets: tuple[float, ...]
    weights: tuple[float, ...]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


_ALL_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
KEYWORD_FEATURE = "§kw:"
_MODIFIERS = frozenset("太很真超挺好巨特别非常有点不没了啊呀的得更最好")
_MIN_UPDATES = 3000
PHRASE_FEATURE = "§p:"


class _KeywordMatcher:
    """Which seed keywords (driver labels and keywords) a comment contains.

    A one-word keyword is an ordinary word feature. A longer one ("on time", "customer
    service") is matched as a phrase, in order within a clause, and becomes its own feature
    (``§p:on time``), so its words alone ("time") learn nothing from it. Any hit also adds
    ``§kw:<theme>``, one feature shared by all of a theme's keywords: the classifier learns
    what a keyword hit is worth from all of them together, so a keyword no customer has used
    yet still counts.
    """

    def __init__(self, phrases: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self.phrases = {t: [list(p) for p in ps if p] for t, ps in phrases.items()}
        self._by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        # Chinese keywords of two characters or more are found in the text itself, so
        # "准时" counts in "没准时" whichever way jieba cut it; one character ("快") is too
        # ambiguous ("快递") and must be a word of its own.
        self._chinese: dict[str, list[tuple[str, str]]] = {}
        self._chinese_char: dict[str, list[str]] = {}
        for theme, ps in self.phrases.items():
            for phrase in ps:
                joined = "".join(phrase)
                if len(joined) >= 2 and _ALL_CJK.fullmatch(joined):
                    self._chinese.setdefault(joined, []).append(
                        (theme, self.phrase_feature(phrase))
                    )
                else:
                    if len(joined) == 1 and _ALL_CJK.fullmatch(joined):
                        self._chinese_char.setdefault(joined, []).append(theme)
                    self._by_first.setdefault(phrase[0], []).append((theme, tuple(phrase)))
        # Longest first: the alternation takes the first alternative that matches.
        alternatives = sorted(self._chinese, key=lambda k: (-len(k), k))
        self._chinese_re = (
            re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        )

    @staticmethod
    def phrase_feature(phrase: Sequence[str]) -> str:
        """The feature of a keyword: the word itself, or ``§p:`` and its words."""
        return phrase[0] if len(phrase) == 1 else PHRASE_FEATURE + " ".join(phrase)

    def features(self, tokens: Tokens) -> list[str]:
        """Phrase features and ``§kw:<theme>`` features of a comment."""
        found: dict[str, None] = {}
        themes: set[str] = set()
        if tokens.chinese and self._chinese_re is not None:
            for match in self._chinese_re.finditer(tokens.chinese):
                for theme, feature in self._chinese[match.group()]:
                    themes.add(theme)
                    found[feature] = None
        sequence = tokens.sequence
        if self._chinese_char:
            # jieba glues a degree word to a one-character keyword ("太贵", "不快"): the
            # keyword still counts when all that surrounds it is such modifiers.
            for token in sequence:
                if len(token) < 2:
                    continue
                for i, ch in enumerate(token):
                    hit = self._chinese_char.get(ch)
                    if hit and all(c in _MODIFIERS for j, c in enumerate(token) if j != i):
                        themes.update(hit)
                        found[ch] = None
        by_first = self._by_first
        for i, token in enumerate(sequence):
            for theme, phrase in by_first.get(token, ()):
                if tuple(sequence[i : i + len(phrase)]) == phrase:
                    themes.add(theme)
                    if len(phrase) > 1:
                        found[self.phrase_feature(phrase)] = None
        return [*found, *(KEYWORD_FEATURE + t for t in sorted(themes))]


class _Spelling:
    """Maps a misspelt English word to the one known word it is one edit away from.

    Symmetric deletion (as in SymSpell): a known word and a typo of it share a form with one
    letter deleted ("curier" is "courier" less an "o"; "delivry" and "deliver" both give
    "delivr"). Only words of five letters or more, and only when exactly one known word
    fits, so short words and ambiguous typos are left alone.
    """

    MIN_LENGTH = 5

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.known = frozenset(
            w for w in vocabulary if len(w) >= self.MIN_LENGTH and w.isascii() and w.isalpha()
        )
        deletes: dict[str, set[str]] = {}
        for word in self.known:
            for d in self._deletions(word):
                deletes.setdefault(d, set()).add(word)
        self._deletes = deletes

    @staticmethod
    def _deletions(word: str) -> set[str]:
        return {word[:i] + word[i + 1 :] for i in range(len(word))}

    def correct(self, word: str) -> str | None:
        """The known word ``word`` is a typo of, if there is exactly one."""
        if len(word) < self.MIN_LENGTH or word in self.known or not word.isascii():
            return None
        candidates = set(self._deletes.get(word, ()))  # a letter missing
        for d in self._deletions(word):
            if d in self.known:  # a letter too many
                candidates.add(d)
            candidates.update(self._deletes.get(d, ()))  # a letter wrong or swapped
        return candidates.pop() if len(candidates) == 1 else None


class _OneVsRest:
    """Logistic regressions sharing one feature index: feature -> weight per theme.

    Trained with AdaGrad on binary features and an L2 penalty; a handful of epochs over a few
    hundred short documents takes well under a second.
    """

    def __init__(self, themes: int) -> None:
        self.themes = themes
        self.weights: dict[str, list[float]] = {}
        self.bias = [0.0] * themes

    def logits(self, features: Iterable[str]) -> list[float]:
        z = list(self.bias)
        get = self.weights.get
        for f in features:
            w = get(f)
            if w is not None:
                for i in range(self.themes):
                    z[i] += w[i]
        return z

    def fit(
        self, examples: Sequence[_Example], *, epochs: int, rate: float, l2: float, seed: int
    ) -> None:
        t = self.themes
        # Few examples (a questionnaire's keywords and nothing else) still get enough updates.
        epochs = max(epochs, math.ceil(_MIN_UPDATES / max(1, len(examples))))
        grad_sq: dict[str, list[float]] = {}
        bias_sq = [1e-8] * t
        order = list(range(len(examples)))
        rng = random.Random(seed)
        for _ in range(epochs):
            rng.shuffle(order)
            for idx in order:
                ex = examples[idx]
                z = self.logits(ex.features)
                errs = [
                    (_sigmoid(z[i]) - target) * weight if weight else 0.0
                    for i, (target, weight) in enumerate(zip(ex.targets, ex.weights, strict=True))
                ]
                for i in range(t):
                    if errs[i]:
                        bias_sq[i] += errs[i] ** 2
                        self.bias[i] -= rate * errs[i] / math.sqrt(bias_sq[i])
                for f in ex.features:
                    w = self.weights.setdefault(f, [0.0] * t)
                    g2 = grad_sq.setdefault(f, [1e-8] * t)
                    for i in range(t):
                        if not ex.weights[i]:
                            continue
                        g = errs[i] + l2 * w[i]
                        g2[i] += g * g
                        w[i] -= rate * g / math.sqrt(g2[i])
        # Weights that stayed negligible only cost memory and time.
        self.weights = {
            f: [round(x, 5) for x in w] for f, w in self.weights.items() if max(map(abs, w)) > 1e-3
        }


class _NaiveBayesPolarity:
    """Log-likelihood ratios, positive over negative, of the sentiment features."""

    def __init__(self, ratios: dict[str, float] | None = None) -> None:
        self.ratios = ratios or {}

    @classmethod
    def fit(
        cls, positive: Sequence[Tokens], negative: Sequence[Tokens], *, alpha: float = 1.0
    ) -> _NaiveBayesPolarity:
        pos: dict[str, int] = {}
        neg: dict[str, int] = {}
        for docs, counts in ((positive, pos), (negative, neg)):
            for doc in docs:
                for f in set(doc.polar):
                    counts[f] = counts.get(f, 0) + 1
        vocab = set(pos) | set(neg)
        if not positive or not negative:
            return cls({})
        pos_total = sum(pos.values()) + alpha * len(vocab)
        neg_total = sum(neg.values()) + alpha * len(vocab)
        ratios = {
            f: round(
                math.log((pos.get(f, 0) + alpha) / pos_total)
                - math.log((neg.get(f, 0) + alpha) / neg_total),
                5,
            )
            for f in vocab
            # A word seen once says little and would only add noise.
            if pos.get(f, 0) + neg.get(f, 0) >= 2
        }
        return cls(ratios)

    def evidence(self, polar: Iterable[str]) -> float:
        get = self.ratios.get
        return sum(get(f, 0.0) for f in set(polar))


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """Knobs of :meth:`ThemeModel.train`; the defaults are what the evaluation uses."""

    epochs: int = 12
    rate: float = 0.3
    l2: float = 1e-3
    seed_weight: float = 1.0
    negative_weight: float = 0.6
    # Self-training: comments nobody ticked, themed confidently by a first model, teach the
    # final one (notably what comments about none of the drivers look like).
    pseudo_confidence: float = 0.85
    pseudo_weight: float = 0.5
    folds: int = 3
    threshold_grid: tuple[float, ...] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
    default_threshold: float = 0.5
    # NB is overconfident (it multiplies correlated words); its evidence is tempered.
    sentiment_temper: float = 0.5
    seed: int = 7


class ThemeModel:
    """Driver themes and sentiment for comments; see the module docstring."""

    def __init__(
        self,
        themes: Sequence[str],
        classifier: _OneVsRest,
        thresholds: Sequence[float],
        polarity: _NaiveBayesPolarity,
        keywords: _KeywordMatcher,
        *,
        sentiment_temper: float,
        driver_themes: Mapping[str, str],
        labels: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.themes = tuple(themes)
        self._classifier = classifier
        self.thresholds = tuple(thresholds)
        self._polarity = polarity
        self._keywords = keywords
        self._temper = sentiment_temper
        self.driver_themes = dict(driver_themes)
        self.labels = {k: dict(v) for k, v in labels.items()}
        # Built on first use, from the weights: cheap, and not part of the stored form.
        self._vocabulary_set: frozenset[str] = frozenset()
        self._spelling: _Spelling | None = None

    # -- training -------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        comments: Iterable[Comment],
        drivers: Sequence[DriverSpec],
        options: TrainingOptions | None = None,
    ) -> ThemeModel:
        """Learn themes from ticked comments plus the drivers' labels and keywords.

        Comments without ticked drivers still teach sentiment (through their score).
        """
        opts = options or TrainingOptions()
        themes = sorted({d.theme_id for d in drivers})
        index = {t: i for i, t in enumerate(themes)}
        driver_themes = {d.id: d.theme_id for d in drivers}
        labels: dict[str, dict[str, str]] = {}
        for d in drivers:
            labels.setdefault(d.theme_id, {})
            for lang, label in d.labels.items():
                labels[d.theme_id].setdefault(lang, label)

        phrases = cls._seed_phrases(drivers)
        keywords = _KeywordMatcher(phrases)
        seeds = cls._seed_examples(phrases, index, opts.seed_weight)
        seed_words: list[set[str]] = [set() for _ in themes]
        for ex in seeds:
            for i, target in enumerate(ex.targets):
                if target == 1.0:
                    seed_words[i].update(ex.features)

        ticked: list[_Example] = []
        unticked: list[tuple[str, ...]] = []
        positive: list[Tokens] = []
        negative: list[Tokens] = []
        for comment in comments:
            tokens = tokenize(comment.text)
            category = category_of(comment.score)
            if category == "promoter":
                positive.append(tokens)
            elif category == "detractor":
                negative.append(tokens)
            if not tokens.words:
                continue
            features = _features(tokens, keywords)
            ticks = {index[driver_themes[d]] for d in comment.drivers if d in driver_themes}
            if ticks:
                ticked.append(cls._ticked_example(features, ticks, seed_words, opts))
            else:
                unticked.append(features)

        thresholds = cls._thresholds(seeds, ticked, len(themes), opts)
        first = _OneVsRest(len(themes))
        first.fit([*seeds, *ticked], epochs=opts.epochs, rate=opts.rate, l2=opts.l2, seed=opts.seed)
        pseudo = cls._pseudo_examples(first, unticked, opts)
        classifier = _OneVsRest(len(themes))
        classifier.fit(
            [*seeds, *ticked, *pseudo],
            epochs=opts.epochs,
            rate=opts.rate,
            l2=opts.l2,
            seed=opts.seed,
        )
        polarity = _NaiveBayesPolarity.fit(positive, negative)
        return cls(
            themes,
            classifier,
            thresholds,
            polarity,
            keywords,
            sentiment_temper=opts.sentiment_temper,
            driver_themes=driver_themes,
            labels=labels,
        )

    @staticmethod
    def _seed_phrases(drivers: Sequence[DriverSpec]) -> dict[str, list[list[str]]]:
        """Each theme's labels and keywords, tokenised."""
        phrases: dict[str, list[list[str]]] = {}
        for d in drivers:
            texts = [*d.labels.values()]
            for words in d.keywords.values():
                texts.extend(words)
            for text in texts:
                # Stopwords stay in a phrase ("on time"); a lone stopword is no keyword.
                tokens = tokenize(text)
                sequence = [w for w in tokens.sequence if w != CLAUSE_BREAK]
                if len(sequence) == 1 and not tokens.words:
                    continue
                if sequence:
                    phrases.setdefault(d.theme_id, []).append(sequence)
        return phrases

    @staticmethod
    def _pseudo_examples(
        model: _OneVsRest, unticked: Sequence[tuple[str, ...]], opts: TrainingOptions
    ) -> list[_Example]:
        """Unticked comments labelled by ``model`` where it is confident either way."""
        out = []
        high, low = opts.pseudo_confidence, 1.0 - opts.pseudo_confidence
        for features in unticked:
            probs = [_sigmoid(z) for z in model.logits(features)]
            targets = tuple(1.0 if p >= high else 0.0 for p in probs)
            weights = tuple(opts.pseudo_weight if p >= high or p <= low else 0.0 for p in probs)
            if any(weights):
                out.append(_Example(features, targets, weights))
        return out

    @staticmethod
    def _seed_examples(
        phrases: Mapping[str, Sequence[Sequence[str]]],
        index: Mapping[str, int],
        weight: float,
    ) -> list[_Example]:
        """Per label and keyword: a positive example for its theme, and a featureless negative.

        The positive's features are those of a comment made of just that keyword. The
        negative, for every theme, teaches only that a theme is absent where nothing speaks
        for it; it says nothing against other themes' keywords, so "rude driver, too
        expensive" can have both themes.
        """
        out: list[_Example] = []
        themes = len(index)
        background = _Example((), (0.0,) * themes, (weight,) * themes)
        for theme, theme_phrases in phrases.items():
            i = index[theme]
            positive = tuple(1.0 if j == i else 0.0 for j in range(themes))
            only = tuple(weight if j == i else 0.0 for j in range(themes))
            for phrase in theme_phrases:
                features = (_KeywordMatcher.phrase_feature(phrase), KEYWORD_FEATURE + theme)
                out.append(_Example(features, positive, only))
                out.append(background)
        return out

    @staticmethod
    def _ticked_example(
        features: tuple[str, ...],
        ticks: set[int],
        seed_words: Sequence[set[str]],
        opts: TrainingOptions,
    ) -> _Example:
        """Ticked themes are positives. An unticked theme is a negative only when none of its
        seed words is in the text: customers tick some of what they write about, not all."""
        present = set(features)
        targets: list[float] = []
        weights: list[float] = []
        for i, words in enumerate(seed_words):
            if i in ticks:
                targets.append(1.0)
                weights.append(1.0)
            else:
                targets.append(0.0)
                # An absent tick is weaker evidence than a tick, and none at all against
                # the theme's own seed words.
                weights.append(0.0 if present & words else opts.negative_weight)
        return _Example(features, tuple(targets), tuple(weights))

    @staticmethod
    def _thresholds(
        seeds: Sequence[_Example], ticked: Sequence[_Example], themes: int, opts: TrainingOptions
    ) -> list[float]:
        """Per theme, the threshold that maximises F1 on held-out folds of the ticked comments.

        Themes with too few ticked comments to tell keep the default threshold.
        """
        thresholds = [opts.default_threshold] * themes
        if opts.folds < 2 or len(ticked) < opts.folds * 5:
            return thresholds
        scored: list[tuple[list[float], _Example]] = []
        for fold in range(opts.folds):
            train = [ex for i, ex in enumerate(ticked) if i % opts.folds != fold]
            held = [ex for i, ex in enumerate(ticked) if i % opts.folds == fold]
            model = _OneVsRest(themes)
            model.fit(
                [*seeds, *train], epochs=opts.epochs, rate=opts.rate, l2=opts.l2, seed=opts.seed
            )
            for ex in held:
                probs = [_sigmoid(z) for z in model.logits(ex.features)]
                scored.append((probs, ex))
        for i in range(themes):
            pairs = [(p[i], ex.targets[i]) for p, ex in scored if ex.weights[i]]
            if sum(1 for _, t in pairs if t == 1.0) < 5:
                continue
            best = (-1.0, opts.default_threshold)
            for th in opts.threshold_grid:
                tp = sum(1 for p, t in pairs if p >= th and t == 1.0)
                fp = sum(1 for p, t in pairs if p >= th and t == 0.0)
                fn = sum(1 for p, t in pairs if p < th and t == 1.0)
                f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
                # Ties go to the threshold nearest the default: no drift on no evidence.
                key = (f1, -abs(th - opts.default_threshold))
                if key > (best[0], -abs(best[1] - opts.default_threshold)):
                    best = (f1, th)
            thresholds[i] = best[1]
        return thresholds

    # -- use ------------------------------------------------------------------------------

    def assign(self, comment: Comment) -> list[ThemeHit]:
        """The driver themes of ``comment``, most probable first (often none)."""
        return self._themes(self.tokenize(comment.text))

    def sentiment(self, comment: Comment) -> Sentiment:
        """The comment's sentiment: its score's category as prior, its words as evidence."""
        return self._sentiment(self.tokenize(comment.text), comment.score)

    def tokenize(self, text: str) -> Tokens:
        """:func:`~bot.themes.text.tokenize`, with English typos of known words corrected."""
        tokens = tokenize(text)
        if self._spelling is None:
            self._spelling = _Spelling(self._vocabulary())
        fixes: dict[str, str] = {}
        for word in tokens.words:
            if word not in self._vocabulary_set:
                fixed = self._spelling.correct(word)
                if fixed is not None:
                    fixes[word] = fixed
        if not fixes:
            return tokens
        return Tokens(
            tuple(fixes.get(w, w) for w in tokens.words),
            tuple(
                ("!" + fixes.get(w[1:], w[1:])) if w[:1] == "!" else fixes.get(w, w)
                for w in tokens.polar
            ),
            tokens.surface,
            tuple(fixes.get(w, w) for w in tokens.sequence),
            tokens.chinese,
        )

    def _vocabulary(self) -> set[str]:
        """Every word the model knows: its features' words and its keywords' words."""
        if not self._vocabulary_set:
            words = {f for f in self._classifier.weights if not f.startswith("§")}
            words.update(f.lstrip("!") for f in self._polarity.ratios)
            for phrases in self._keywords.phrases.values():
                for phrase in phrases:
                    words.update(phrase)
            self._vocabulary_set = frozenset(words)
        return set(self._vocabulary_set)

    def analyse(self, comment: Comment) -> CommentAnalysis:
        """Themes and sentiment of one comment, tokenised once."""
        tokens = self.tokenize(comment.text)
        return CommentAnalysis(
            comment.id, tuple(self._themes(tokens)), self._sentiment(tokens, comment.score)
        )

    def analyse_many(self, comments: Iterable[Comment]) -> list[CommentAnalysis]:
        """:meth:`analyse` for each comment, in order."""
        return [self.analyse(c) for c in comments]

    def emerging(
        self, comments: Iterable[Comment], *, min_size: int = 3, max_themes: int = 8
    ) -> list[EmergingTheme]:
        """Emerging themes among the comments no driver theme explains.

        Pass the result to :func:`~bot.themes.emerging.match_emerging` with the previous
        run's themes to keep their ids and names.
        """
        unexplained = [(c.id, c.text) for c in comments if not self.assign(c)]
        return find_emerging(unexplained, min_size=min_size, max_themes=max_themes)

    def _themes(self, tokens: Tokens) -> list[ThemeHit]:
        if not tokens.words:
            return []
        z = self._classifier.logits(_features(tokens, self._keywords))
        hits = []
        for i, theme in enumerate(self.themes):
            p = _sigmoid(z[i])
            if p >= self.thresholds[i]:
                hits.append(ThemeHit(theme, round(p, 4)))
        hits.sort(key=lambda h: -h.score)
        return hits

    def _sentiment(self, tokens: Tokens, score: int | None) -> Sentiment:
        prior = CATEGORY_PRIOR[category_of(score)]
        evidence = self._polarity.evidence(tokens.polar) * self._temper
        # Neutral sits halfway between the two classes the classifier knows.
        evidence = max(-30.0, min(30.0, evidence))
        weights = (
            prior[0] * math.exp(evidence / 2),
            prior[1],
            prior[2] * math.exp(-evidence / 2),
        )
        total = sum(weights)
        probs = {label: w / total for label, w in zip(SENTIMENTS, weights, strict=True)}
        label = max(SENTIMENTS, key=lambda s: probs[s])
        return Sentiment(label, round(probs[label], 4), {k: round(v, 4) for k, v in probs.items()})

    # -- storage --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form of the model (for the database); :meth:`from_dict` reads it."""
        return {
            "format": FORMAT_VERSION,
            "themes": list(self.themes),
            "thresholds": list(self.thresholds),
            "bias": list(self._classifier.bias),
            "weights": self._classifier.weights,
            "polarity": self._polarity.ratios,
            "keywords": self._keywords.phrases,
            "sentiment_temper": self._temper,
            "driver_themes": self.driver_themes,
            "labels": self.labels,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThemeModel:
        """The model :meth:`to_dict` wrote."""
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown theme model format {data.get('format')!r}")
        themes = [str(t) for t in data["themes"]]
        classifier = _OneVsRest(len(themes))
        classifier.bias = [float(b) for b in data["bias"]]
        classifier.weights = {
            str(f): [float(x) for x in w] for f, w in dict(data["weights"]).items()
        }
        return cls(
            themes,
            classifier,
            [float(t) for t in data["thresholds"]],
            _NaiveBayesPolarity({str(k): float(v) for k, v in dict(data["polarity"]).items()}),
            _KeywordMatcher(
                {
                    str(t): [[str(w) for w in p] for p in ps]
                    for t, ps in dict(data["keywords"]).items()
                }
            ),
            sentiment_temper=float(data["sentiment_temper"]),
            driver_themes={str(k): str(v) for k, v in dict(data["driver_themes"]).items()},
            labels={str(k): dict(v) for k, v in dict(data["labels"]).items()},
        )


def _features(tokens: Tokens, keywords: _KeywordMatcher) -> tuple[str, ...]:
    """The classifier's features: the comment's distinct words and its keyword hits."""
    return tuple(dict.fromkeys((*tokens.words, *keywords.features(tokens))))


def theme_sentiment(analyses: Iterable[CommentAnalysis]) -> list[ThemeSentiment]:
    """Each theme's sentiment: its comments' labels counted and probabilities averaged."""
    counts: dict[str, dict[SentimentLabel, int]] = {}
    sums: dict[str, dict[SentimentLabel, float]] = {}
    for a in analyses:
        for hit in a.themes:
            c = counts.setdefault(hit.theme_id, dict.fromkeys(SENTIMENTS, 0))
            s = sums.setdefault(hit.theme_id, dict.fromkeys(SENTIMENTS, 0.0))
            c[a.sentiment.label] += 1
            for label in SENTIMENTS:
                s[label] += a.sentiment.probabilities[label]
    out = []
    for theme, c in counts.items():
        n = sum(c.values())
        out.append(
            ThemeSentiment(
                theme, n, c, {label: round(sums[theme][label] / n, 4) for label in SENTIMENTS}
            )
        )
    out.sort(key=lambda t: (-t.comments, t.theme_id))
    return out
