"""Helpers shared by every test tier: the fake clock and the in-process bot harness."""
