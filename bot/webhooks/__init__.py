"""Signed outbound webhooks: answers flow out to the company's systems."""
