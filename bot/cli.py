"""The ``npsbot`` command: run the bot, queue surveys, print deep links, run the demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import timedelta
from typing import NoReturn

from bot.config import SettingsError, load_settings
from bot.linking import deep_link, validate_customer_id
from bot.logging_setup import setup_logging

_DURATION = re.compile(r"^(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``3d``."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 90s, 15m, 2h or 3d: {text!r}"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _customer_id(text: str) -> str:
    try:
        return validate_customer_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"npsbot: {message}", file=sys.stderr)
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="npsbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (settings from the environment / .env)")
    link = sub.add_parser("link", help="print the deep link that links a chat to a customer")
    link.add_argument("customer_id", type=_customer_id)
    survey = sub.add_parser("survey", help="queue a survey for a customer")
    survey.add_argument("customer_id", type=_customer_id)
    survey.add_argument(
        "--kind", choices=["transactional", "relationship", "episode"], default="transactional"
    )
    survey.add_argument("--event-type", default=None)
    survey.add_argument("--event-id", default=None, help="idempotency key of the event")
    survey.add_argument("--delay", type=parse_duration, default=None, help="e.g. 2h")
    demo = sub.add_parser("demo", help="offline demo on the local Telegram stand-in")
    demo.add_argument("--customers", type=int, default=40)
    demo.add_argument("--seed", type=int, default=7)
    return parser


async def _queue(args: argparse.Namespace) -> dict[str, object]:
    from bot.dispatch.queueing import queue_survey
    from bot.telegram.services import utc_now
    from storage import Database
    from storage.records import SurveyKind

    settings = load_settings()
    db = await Database.open(settings.database_path)
    try:
        now = utc_now()
        result = await queue_survey(
            db,
            args.customer_id,
            now,
            kind=SurveyKind(args.kind),
            send_at=now + args.delay if args.delay else None,
            event_type=args.event_type,
            event_id=args.event_id,
        )
    finally:
        await db.close()
    return {
        "survey_id": result.survey_id,
        "status": result.status.value,
        "reason": result.reason,
        "duplicate": result.duplicate,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``npsbot`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from standin.demo import run_demo

        raise SystemExit(asyncio.run(run_demo(customers=args.customers, seed=args.seed)))
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(f"configuration error: {exc}")
    if args.command == "link":
        if not settings.bot_username:
            _fail("configuration error: NPSBOT_BOT_USERNAME is required to print deep links")
        print(deep_link(settings.bot_username, settings.link_secret, args.customer_id))
        return
    if args.command == "survey":
        print(json.dumps(asyncio.run(_queue(args))))
        return
    setup_logging(settings.log_level, secrets=(settings.token, settings.link_secret))
    from bot.runtime import StartupError, serve
    from storage import SchemaTooNewError

    try:
        asyncio.run(serve(settings))
    except (StartupError, SchemaTooNewError) as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
