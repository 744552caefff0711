"""The ops HTTP API (aiohttp): authenticated routes over the use cases, and its OpenAPI document."""
