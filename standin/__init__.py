"""A local stand-in for the Telegram Bot API, with simulated users, for tests and demos."""

from standin.errors import ApiError
from standin.limits import FakeClock, Limits
from standin.models import BotMessage, CallbackAnswer, Stats
from standin.server import StandIn
from standin.users import SimGroup, SimUser

__all__ = [
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "FakeClock",
    "Limits",
    "SimGroup",
    "SimUser",
    "StandIn",
    "Stats",
]
