"""Survey state transitions as pure decisions.

Handlers describe what arrived (:class:`Incoming`) and where the chat stands (:class:`Step`);
:func:`decide` says what to do. The database then applies the decision with guarded
updates, so a decision taken on stale state changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.core.scores import NotAScore, Score, parse_typed_score

MAX_REASON_CHARS = 4096


class Step(Enum):
    """Where a chat stands in its survey."""

    NO_SURVEY = "no_survey"
    AWAITING_SCORE = "awaiting_score"
    AWAITING_DRIVERS = "awaiting_drivers"
    AWAITING_REASON = "awaiting_reason"
    # Only for a press on a survey's own buttons: the survey pressed is past its score
    # (answered), or closed without one (expired, cancelled...).
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class TextIn:
    """A new text message."""

    text: str
    message_id: int


@dataclass(frozen=True)
class MediaIn:
    """A sticker, photo, voice note, document... anything that is not text."""

    kind: str


@dataclass(frozen=True)
class EditIn:
    """An edit of an earlier message."""

    text: str | None
    message_id: int


@dataclass(frozen=True)
class ScorePressIn:
    """A press on one of the 0–10 buttons (``step`` is where the pressed survey stands)."""

    score: int


Incoming = TextIn | MediaIn | EditIn | ScorePressIn


@dataclass(frozen=True)
class Reply:
    """Answer with a fixed text."""

    key: str


@dataclass(frozen=True)
class RecordScore:
    """Store this score (as if the button had been pressed)."""

    score: int


@dataclass(frozen=True)
class RecordReason:
    """Store this text as the reason and finish the conversation."""

    text: str
    truncated: bool


@dataclass(frozen=True)
class UpdateReason:
    """The edited message may be the stored reason: replace it if so."""

    text: str
    message_id: int


@dataclass(frozen=True)
class FinishDriversWithReason:
    """The customer wrote their reason while the drivers keyboard was out: end the drivers
    step with what they picked so far and store this text as the reason."""

    text: str
    truncated: bool


Decision = Reply | RecordScore | RecordReason | UpdateReason | FinishDriversWithReason

_NOT_A_SCORE_REPLY = {
    NotAScore.OUT_OF_RANGE: "score_out_of_range",
    NotAScore.NOT_WHOLE: "score_not_whole",
    NotAScore.NOT_A_NUMBER: "score_not_a_number",
}


def decide(step: Step, incoming: Incoming) -> Decision:
    """What to do with a customer's message or button press given where their survey stands.

    A typed score and a pressed one are recorded alike (:class:`RecordScore`); a press on a
    survey that no longer awaits its score only gets a short answer.
    """
    if isinstance(incoming, ScorePressIn):
        return _decide_score_press(step, incoming.score)
    if isinstance(incoming, EditIn):
        if incoming.text and incoming.text.strip():
            return UpdateReason(text=_clip(incoming.text)[0], message_id=incoming.message_id)
        return Reply("edit_ignored")
    if step in (Step.NO_SURVEY, Step.ANSWERED, Step.CLOSED):
        return Reply("no_open_survey")
    if step is Step.AWAITING_SCORE:
        if isinstance(incoming, MediaIn):
            return Reply("score_media")
        parsed = parse_typed_score(incoming.text)
        if isinstance(parsed, Score):
            return RecordScore(parsed.value)
        return Reply(_NOT_A_SCORE_REPLY[parsed])
    if step is Step.AWAITING_DRIVERS:
        # Typing skips the rest of the keyboard: the text is their reason (asking the
        # follow-up question after they already answered it would be absurd).
        if isinstance(incoming, MediaIn) or not incoming.text.strip():
            return Reply("drivers_pending")
        text, truncated = _clip(incoming.text)
        return FinishDriversWithReason(text=text, truncated=truncated)
    # Awaiting the reason: any non-empty text is the customer's own words.
    if isinstance(incoming, MediaIn) or not incoming.text.strip():
        return Reply("reason_media")
    text, truncated = _clip(incoming.text)
    return RecordReason(text=text, truncated=truncated)


def _decide_score_press(step: Step, score: int) -> Decision:
    if step is Step.NO_SURVEY:  # unknown, or another chat's survey: the data was forged
        return Reply("press_invalid")
    if step is Step.AWAITING_SCORE:
        return RecordScore(score)
    if step is Step.CLOSED:
        return Reply("press_closed")
    return Reply("press_already_answered")


# --- the drivers keyboard ------------------------------------------------------------


@dataclass(frozen=True)
class DriversState:
    """Where the survey named by a drivers button stands, as far as the press is concerned.

    ``owned``: the survey exists and belongs to the pressing chat. ``at_step``: its answer is
    at the drivers step. ``selected``: the indexes (into the category's drivers) picked so
    far. ``count``: how many drivers the category offers now.
    """

    owned: bool
    at_step: bool
    selected: tuple[int, ...] = ()
    count: int = 0


@dataclass(frozen=True)
class ToggleDrivers:
    """Store this selection and redraw the keyboard with its ticks."""

    selected: tuple[int, ...]


@dataclass(frozen=True)
class FinishDrivers:
    """Store this selection, end the step, show what was chosen, ask the follow-up."""

    selected: tuple[int, ...]


DriversDecision = Reply | ToggleDrivers | FinishDrivers


def decide_driver_press(state: DriversState, index: int | None) -> DriversDecision:
    """What a press on a drivers button does (``index`` None is Done).

    Callback data is client-controlled: a press naming another chat's survey, a survey not
    at the drivers step, or a driver the category does not offer changes nothing.
    """
    if not state.owned:
        return Reply("press_invalid")
    if not state.at_step:
        return Reply("press_closed")
    if index is None:
        return FinishDrivers(state.selected)
    if not 0 <= index < state.count:
        return Reply("press_invalid")
    chosen = set(state.selected) ^ {index}
    return ToggleDrivers(tuple(sorted(chosen)))


def _clip(text: str) -> tuple[str, bool]:
    text = text.strip()
    if len(text) <= MAX_REASON_CHARS:
        return text, False
    return text[:MAX_REASON_CHARS], True
