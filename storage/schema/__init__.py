"""One module per schema version, each a list of SQL statements."""
