"""The ops fixtures (database, clock) for the questionnaire's API tests."""

from tests.ops.conftest import clock, db

__all__ = ["clock", "db"]
