"""ops_api."""
