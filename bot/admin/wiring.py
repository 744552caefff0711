"""Registration of the admin side's handlers."""

from __future__ import annotations

from telegram.ext import Application

# Admin handlers run in this group, before the customers' handlers (group 0); a handler
# that has dealt with an admin's update raises ApplicationHandlerStop so that the
# customers' handlers never see it.
ADMIN_GROUP = -1


def register_admin_handlers(app: Application) -> None:  # type: ignore[type-arg]
    """Register every admin handler on ``app``."""
