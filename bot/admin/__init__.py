"""The admin side: daily digest, detractor alerts, admin commands."""
