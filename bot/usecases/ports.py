"""What the use cases need from the edge, as protocols the adapters implement."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.delivery import CallResult, Urgency

if TYPE_CHECKING:
    from bot.usecases.exporting import ExportFile, ExportRequest


class Pacing(Protocol):
    """The send rate now and as configured (it drops after a 429 and creeps back)."""

    @property
    def rate(self) -> float: ...

    @property
    def configured_rate(self) -> float: ...


class Outbound(Protocol):
    """Bot API calls as the use cases make them: the Telegram adapter's
    :class:`~bot.adapters.telegram.sender.Sender` paces, retries and records them."""

    @property
    def last_success(self) -> datetime | None: ...

    @property
    def rate_limited(self) -> int: ...

    @property
    def limiter(self) -> Pacing: ...

    async def call(
        self,
        chat_id: int,
        method: str,
        params: dict[str, Any],
        *,
        urgency: Urgency = Urgency.REPLY,
    ) -> CallResult:
        """Make one call, paced (``urgency``: whether a person waits for it, or it is bulk
        work that lets replies pass); never raises for Telegram's errors."""
        ...

    async def flush_chat(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        """Send what the outbox holds for ``chat_id``, in order."""
        ...

    def schedule_flush(self, chat_id: int, urgency: Urgency = Urgency.REPLY) -> None:
        """Flush ``chat_id`` in the background."""
        ...


class ExportBuilder(Protocol):
    """Builds ``/export``'s file: the composition root's child process
    (:class:`~bot.composition.exports.ChildExports`), or in the bot's process
    (:class:`~bot.usecases.exporting.InlineExports`)."""

    async def build(self, request: ExportRequest) -> ExportFile:
        """The file of ``request``; raises
        :class:`~bot.usecases.exporting.ExportFailed` (a reason safe to log) when it could
        not be built."""
        ...
