"""The ops side: the HTTP API, contact rules, CSV import, relationship cycles."""
