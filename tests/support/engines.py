"""Narrowing a bot test to one engine, with the reason written where it is used.

Bot harness tests run on every engine of ``tests.conftest.ENGINES`` (the ``bot_engine``
fixture); a test, or a module as ``pytestmark``, that is about one engine, or whose cost on
the second one buys nothing, says so with one of these. The test id keeps the engine.
"""

from __future__ import annotations

import pytest


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Run on SQLite only; ``reason`` says why (it is for the reader: pytest shows nothing)."""
    assert reason, "say why the test runs on SQLite only"
    return pytest.mark.parametrize("bot_engine", ["sqlite"], indirect=True)


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    """Run on PostgreSQL only; ``reason`` says why."""
    assert reason, "say why the test runs on PostgreSQL only"
    return pytest.mark.parametrize("bot_engine", ["postgresql"], indirect=True)
