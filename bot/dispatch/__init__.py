"""Sending queued surveys."""
