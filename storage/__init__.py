"""Persistence: all SQL lives in this package. Callers see typed records from ``records``."""

from storage.db import Database, DatabaseUnavailableError, Tx
from storage.migrations import SCHEMA_VERSION, SchemaTooNewError

__all__ = ["SCHEMA_VERSION", "Database", "DatabaseUnavailableError", "SchemaTooNewError", "Tx"]
