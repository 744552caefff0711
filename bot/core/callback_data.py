"""Every inline button's callback data, defined once.

Callback data is client-controlled: anyone can send any string to the bot. Each button kind
below says, in one place, its prefix, its fields and their strict shape; :meth:`Kind.encode`
builds the data the keyboards carry, :meth:`Kind.parse` reads a press (None for anything
that is not exactly of the kind's form), and :attr:`Kind.pattern` is the regex the wiring
gives ``CallbackQueryHandler``. Data is ASCII and at most :data:`MAX_BYTES` long: Telegram
rejects a longer button (``BUTTON_DATA_INVALID``) and python-telegram-bot does not check.

The module imports only the standard library, so keyboards and pure logic can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_BYTES = 64  # Telegram's limit for callback_data
#: SQLite's largest rowid: larger ids cannot even be queried.
MAX_ID = 2**63 - 1
# ASCII digits (\d would match any Unicode digit), no leading zero, at most 19 of them.
_ID = r"([1-9][0-9]{0,18})"


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of button: ``<prefix>:<field>:<field>...``.

    ``shape`` matches everything after ``<prefix>:`` (one group per field); ``read`` turns
    the groups into a press (None if a value is out of range); ``fields`` gives a press's
    fields back, in order, for :meth:`encode`.
    """

    prefix: str
    shape: re.Pattern[str]
    read: Callable[[Sequence[str]], T | None]
    fields: Callable[[T], Sequence[object]]

    @property
    def pattern(self) -> str:
        """The ``CallbackQueryHandler`` pattern: data that claims to be of this kind."""
        return f"^{re.escape(self.prefix)}:"

    def encode(self, press: T) -> str:
        """The callback data of ``press``; ValueError if it would not parse back or is too long."""
        data = ":".join([self.prefix, *(str(field) for field in self.fields(press))])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data[:80]!r}")
        if self.parse(data) != press:
            raise ValueError(f"invalid {self.prefix} button: {press!r}")
        return data

    def parse(self, data: str | None) -> T | None:
        """The press ``data`` encodes, or None if it is not exactly of this kind."""
        if data is None or not data.isascii() or len(data) > MAX_BYTES:
            return None
        prefix, colon, rest = data.partition(":")
        if prefix != self.prefix or not colon:
            return None
        match = self.shape.fullmatch(rest)
        if match is None:
            return None
        return self.read(match.groups())


def _id(text: str) -> int | None:
    value = int(text)
    return value if value <= MAX_ID else None


# --- the 0–10 question ------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePress:
    """A press on a score button: which survey, which score."""

    survey_id: int
    score: int


def _read_score(groups: Sequence[str]) -> ScorePress | None:
    survey_id = _id(groups[0])
    return None if survey_id is None else ScorePress(survey_id, int(groups[1]))


#: ``nps:<survey id>:<score>``
SCORE: Kind[ScorePress] = Kind(
    "nps",
    re.compile(_ID + r":(10|[0-9])", re.ASCII),
    _read_score,
    lambda p: (p.survey_id, p.score),
)


# --- the drivers step -------------------------------------------------------------------


@dataclass(frozen=True)
class DriverPress:
    """A press on the drivers keyboard: toggle ``index``, or Done when it is None."""

    survey_id: int
    index: int | None


_DONE = "done"


def _read_driver(groups: Sequence[str]) -> DriverPress | None:
    survey_id = _id(groups[0])
    if survey_id is None:
        return None
    return DriverPress(survey_id, None if groups[1] == _DONE else int(groups[1]))


#: ``drv:<survey id>:<index>`` (toggle a driver, index 0–19) or ``drv:<survey id>:done``
DRIVER: Kind[DriverPress] = Kind(
    "drv",
    re.compile(_ID + r":(done|[0-9]|1[0-9])", re.ASCII),
    _read_driver,
    lambda p: (p.survey_id, _DONE if p.index is None else p.index),
)


# --- /language --------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguagePress:
    """A press on the /language keyboard (whether it is offered is the handler's check)."""

    code: str


#: ``lang:<code>`` with a 2–3 letter lowercase code
LANGUAGE: Kind[LanguagePress] = Kind(
    "lang",
    re.compile(r"([a-z]{2,3})", re.ASCII),
    lambda groups: LanguagePress(groups[0]),
    lambda p: (p.code,),
)


# --- detractor alerts -------------------------------------------------------------------

ALERT_REPLY = "r"
ALERT_RESOLVE = "x"


@dataclass(frozen=True)
class AlertPress:
    """Reply (``r``) or Mark resolved (``x``) on an alert."""

    action: str
    alert_id: int


#: ``al:<r|x>:<alert id>`` (at most 16 digits)
ALERT: Kind[AlertPress] = Kind(
    "al",
    re.compile(r"([rx]):([1-9][0-9]{0,15})", re.ASCII),
    lambda groups: AlertPress(groups[0], int(groups[1])),
    lambda p: (p.action, p.alert_id),
)


# --- erasure confirmation (/delete_me) --------------------------------------------------

ERASE_YES = "y"
ERASE_NO = "n"


@dataclass(frozen=True)
class ErasurePress:
    """A press on the erasure prompt, parsed but not verified
    (see :mod:`bot.core.erasure_confirmation`)."""

    action: str
    customer_id: int
    expires: int  # Unix seconds
    mac: str  # base64url, 96 bits

    @property
    def erase(self) -> bool:
        """Yes (erase) rather than No."""
        return self.action == ERASE_YES

    def expired(self, now: datetime) -> bool:
        """The prompt is older than its lifetime."""
        return now.timestamp() > self.expires


def _read_erasure(groups: Sequence[str]) -> ErasurePress | None:
    customer_id = _id(groups[1])
    if customer_id is None:
        return None
    return ErasurePress(groups[0], customer_id, int(groups[2]), groups[3])


#: ``pd:<y|n>:<customer id>:<expires, 10–11 digits>:<16 base64url MAC characters>``
ERASURE: Kind[ErasurePress] = Kind(
    "pd",
    re.compile(_ID.join([r"([yn]):", r":([1-9][0-9]{9,10}):([A-Za-z0-9_-]{16})"]), re.ASCII),
    _read_erasure,
    lambda p: (p.action, p.customer_id, p.expires, p.mac),
)

#: Every kind, for the wiring and for the tests that check the prefixes are distinct.
KINDS: tuple[Kind[Any], ...] = (SCORE, DRIVER, LANGUAGE, ALERT, ERASURE)
