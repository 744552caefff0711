"""Stage timings of the answer path, for diagnosing latency (``NPSBOT_TIMING_LOG=on``).

One DEBUG line per update handled and per outbox call made, on the ``bot.timing`` logger,
with internal numbers only (update, chat and outbox ids) and milliseconds. ``start`` is the
monotonic clock (``time.monotonic``, the same in every process of the host), so a
benchmark can line the bot's stages up with the moments its stand-in saw. Off, each stage
costs one ``isEnabledFor`` check.
"""

from __future__ import annotations

import logging

TIMING_LOGGER = "bot.timing"
timing_log = logging.getLogger(TIMING_LOGGER)


def timing_on() -> bool:
    """Whether stage timings are being logged."""
    return timing_log.isEnabledFor(logging.DEBUG)


def log_update(
    update_id: int,
    chat_id: int,
    kind: str,
    start: float,
    lock: float,
    body: float,
    commit: float,
    answer: float,
) -> None:
    """An update's stages: waiting for the write lock (and the claim), the handler's
    body, the outbox write and commit, answering the press (seconds in, ms out)."""
    timing_log.debug(
        "update %d chat %d %s: start %.6f lock %.3f body %.3f commit %.3f answer %.3f",
        update_id,
        chat_id,
        kind,
        start,
        lock * 1000,
        body * 1000,
        commit * 1000,
        answer * 1000,
    )


def log_call(item_id: int, chat_id: int, method: str, start: float, call: float) -> None:
    """One outbox call: when it started (after its turn in the chat's flush and the rate
    limiter) and how long the Bot API took to answer."""
    timing_log.debug(
        "outbox %d chat %d %s: start %.6f call %.3f",
        item_id,
        chat_id,
        method,
        start,
        call * 1000,
    )
