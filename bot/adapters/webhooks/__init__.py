"""Outbound webhooks over HTTP (aiohttp): signed deliveries of the webhook outbox."""
