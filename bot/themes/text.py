"""Comment text to features: English words stemmed, Chinese segmented into words by jieba.

One tokeniser for every language: a comment is split into runs of CJK characters (segmented
with jieba, whose dictionary ships inside the package) and runs of Latin letters (lowercased,
stopwords dropped, lightly stemmed). Features of both kinds live in one space, so a model
trained on mixed-language comments needs no language switch.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "Tokens",
    "detect_language",
    "segment_chinese",
    "stem",
    "tokenize",
    "warm_up",
]

# CJK unified ideographs (basic + extension A) and compatibility ideographs.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-zA-Z]+(?:'[a-zA-Z]+)?|[0-9]+|[.!?;,，。！？；、…]")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_CLAUSE_END = frozenset(".!?;,，。！？；、…")
CLAUSE_BREAK = "|"


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text."""
    return frozenset(text.split())


EN_STOPWORDS = _words(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i i'm i've if in into is it
    it's its itself just me more most my myself now of off on once only or other our ours
    ourselves out over own same she should so some such than that that's the their theirs them
    themselves then there these they this those through to too under until up us very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves got get gets really quite bit lot lots one two still even ever again also im ive
    it’s i’m dont didnt wasnt isnt"""
)
# Negators flip the sentiment of the next few words ("not late at all"); they are not
# themselves theme words.
EN_NEGATORS = _words(
    "not no never nothing nobody none without neither nor don't didn't wasn't isn't aren't "
    "weren't won't can't couldn't hasn't haven't dont didnt wasnt isnt cant wont"
)
ZH_STOPWORDS = _words(
    """的 了 是 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 就 也 都 还 在 和 与 及 啊 吧 呢 吗
    嘛 呀 哦 哈 哈哈 着 过 把 被 给 让 对 从 到 又 再 很 挺 太 真 真的 非常 特别 比较 有点 有些
    一点 一下 一个 一次 一些 这次 上次 每次 所以 因为 但是 但 不过 而且 就是 然后 还是 可以 已经
    自己 什么 怎么 这么 那么 这样 那样 其实 感觉 觉得 个 次 些 等 之 而 并 或 或者 如果 虽然
    有 会 能 要 想 说 看 下 上 里 中 后 前 时候 时 下次 以后 之前 一直 总是 好像 可能 应该 确实
    东西 事情 问题"""
)
ZH_NEGATORS = _words("不 没 没有 别 未 无 不是 不会 不要 不用 从不 从来不 并不 毫不 绝不")
# How many following words a negator reaches, within its clause.
_NEGATION_SPAN = 3

_jieba: Any = None
_jieba_lock = threading.Lock()


def _segmenter() -> Any:
    """jieba, initialised once on first use, with its start-up chatter on stderr silenced."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba  # local: importing jieba is slow and only Chinese needs it

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than on the first Chinese comment."""
    _segmenter()


def segment_chinese(text: str) -> list[str]:
    """jieba's words of a run of Chinese text (precise mode, HMM on for unknown words)."""
    words: list[str] = _segmenter().lcut(text, HMM=True)
    return words


def detect_language(text: str) -> str:
    """``"zh"`` if a good share of the letters are Chinese characters, else ``"en"``."""
    cjk = len(_CJK_CHAR.findall(text))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if cjk and cjk * 2 >= latin * 0.5 else "en"


_DOUBLE_END = re.compile(r"([bdfgklmnprt])\1$")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix stripper: plural, -ing, -ed, -ly, final e.

    Not a linguistic stemmer: it only needs to map a word's common forms to one key
    ("delayed", "delays", "delaying" -> "delay"; "damaged", "damage" -> "damag").
    """
    w = word.replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # (suffix, shortest stem left): "early" keeps its "ly", "speedy" loses its "y".
    for suffix, keep in (("ingly", 3), ("edly", 3), ("ing", 3), ("ed", 3), ("ly", 4), ("y", 5)):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep and not w.endswith("eed"):
            w = w[: -len(suffix)]
            if _DOUBLE_END.search(w):
                w = w[:-1]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@dataclass(frozen=True, slots=True)
class Tokens:
    """The features of one comment.

    ``words`` are the theme features (what the comment is about, negation ignored: "not late"
    is still about lateness); ``polar`` are the sentiment features, where a word in a negator's
    reach carries a ``!`` prefix ("not late" -> ``!late``); ``surface`` maps each English stem
    back to a word as written, so emerging themes are named readably; ``sequence`` is every
    word in order, stopwords and negators included, with ``|`` between clauses, for matching
    multi-word keywords ("on time", "显示 签收") as phrases; ``chinese`` is the comment's
    Chinese text, runs joined by ``|``, for matching Chinese keywords whatever the segmentation.
    """

    words: tuple[str, ...]
    polar: tuple[str, ...]
    surface: tuple[tuple[str, str], ...]
    sequence: tuple[str, ...] = ()
    chinese: str = ""


def tokenize(text: str) -> Tokens:
    """Features of ``text`` in any mix of English and Chinese."""
    words: list[str] = []
    polar: list[str] = []
    surface: list[tuple[str, str]] = []
    sequence: list[str] = []
    chinese: list[str] = []
    negate = 0
    for match in _RUNS.finditer(text):
        run = match.group()
        if run[0] in _CLAUSE_END:
            negate = 0
            sequence.append(CLAUSE_BREAK)
            continue
        if _CJK_CHAR.match(run):
            chinese.append(run)
            for word in segment_chinese(run):
                sequence.append(word)
                if word in ZH_NEGATORS:
                    negate = _NEGATION_SPAN
                    continue
                if word in ZH_STOPWORDS or not _CJK_CHAR.match(word):
                    continue
                # Words only: character n-grams of words added more noise than evidence
                # ("没什么" -> "什么"); Chinese keywords are matched in the raw text instead.
                words.append(word)
                polar.append("!" + word if negate else word)
                negate = max(0, negate - 1)
            continue
        if run.isdigit():
            continue
        lower = run.lower()
        sequence.append(stem(lower))
        if lower in EN_NEGATORS or lower.endswith("n't"):
            negate = _NEGATION_SPAN
            continue
        if lower in EN_STOPWORDS or len(lower) < 2:
            continue
        key = stem(lower)
        words.append(key)
        polar.append("!" + key if negate else key)
        surface.append((key, lower))
        negate = max(0, negate - 1)
    return Tokens(
        tuple(words), tuple(polar), tuple(surface), tuple(sequence), CLAUSE_BREAK.join(chinese)
    )


def vocabulary(texts: Iterable[str]) -> set[str]:
    """Every theme feature of ``texts`` (for tests and diagnostics)."""
    found: set[str] = set()
    for text in texts:
        found.update(tokenize(text).words)
    return found
