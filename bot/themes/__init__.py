"""Voice of the customer: themes and sentiment of comments, in English and Chinese, offline.

``ThemeModel.train(comments, drivers)`` learns driver themes from the comments whose customer
ticked drivers and from the drivers' labels and keywords; ``model.analyse(comment)`` gives a
comment's themes and sentiment; ``model.emerging(...)`` / :func:`find_emerging` cluster what
the drivers leave unexplained, and :func:`match_emerging` keeps those themes' ids from run to
run. Everything runs in-process with no download: jieba (Chinese words) ships its dictionary.
"""

from bot.themes.emerging import EmergingTheme, find_emerging, jaccard, match_emerging
from bot.themes.model import (
    Comment,
    CommentAnalysis,
    DriverSpec,
    Sentiment,
    SentimentLabel,
    ThemeHit,
    ThemeModel,
    ThemeSentiment,
    TrainingOptions,
    category_of,
    theme_sentiment,
)
from bot.themes.text import Tokens, detect_language, tokenize, warm_up

__all__ = [
    "Comment",
    "CommentAnalysis",
    "DriverSpec",
    "EmergingTheme",
    "Sentiment",
    "SentimentLabel",
    "ThemeHit",
    "ThemeModel",
    "ThemeSentiment",
    "Tokens",
    "TrainingOptions",
    "category_of",
    "detect_language",
    "find_emerging",
    "jaccard",
    "match_emerging",
    "theme_sentiment",
    "tokenize",
    "warm_up",
]
