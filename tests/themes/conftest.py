"""Shared fixtures: the evaluation set and the model trained on its train split (once)."""

from __future__ import annotations

import pytest

from benchmarks.themes_evaluation import (
    DATA_DIR,
    LabelledComment,
    load_drivers,
    load_labelled,
    train_on_split,
)
from bot.themes import DriverSpec, ThemeModel


@pytest.fixture(scope="session")
def labelled() -> list[LabelledComment]:
    return [*load_labelled(DATA_DIR / "en.jsonl"), *load_labelled(DATA_DIR / "zh.jsonl")]


@pytest.fixture(scope="session")
def drivers() -> list[DriverSpec]:
    return load_drivers()


@pytest.fixture(scope="session")
def trained(labelled: list[LabelledComment], drivers: list[DriverSpec]) -> ThemeModel:
    return train_on_split(labelled, drivers)
