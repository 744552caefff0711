"""The ``npsbot`` command: run the bot, check its configuration, report events, import
customers, queue surveys, print deep links, move to PostgreSQL, run the demo."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from bot.composition.logging_setup import setup_logging
from bot.core.linking import deep_link, validate_customer_id
from bot.settings import Settings, SettingsError, load_settings

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
    sub.add_parser(
        "check",
        help="reach the Bot API, the database, admin chats and webhook endpoints; say what "
        "is wrong and which defaults will surprise (exit code 0 when nothing is wrong)",
    )
    link = sub.add_parser("link", help="print the deep link that links a chat to a customer")
    link.add_argument("customer_id", type=_customer_id)
    relink = sub.add_parser(
        "relink",
        help="print the single-use link that moves a customer to another chat (a new phone); "
        "the chat they leave is told once it is used",
    )
    relink.add_argument("customer_id", type=_customer_id)
    survey = sub.add_parser("survey", help="queue a survey for a customer")
    survey.add_argument("customer_id", type=_customer_id)
    survey.add_argument(
        "--kind", choices=["transactional", "relationship", "episode"], default="transactional"
    )
    survey.add_argument("--event-type", default=None)
    survey.add_argument("--event-id", default=None, help="idempotency key of the event")
    survey.add_argument("--delay", type=parse_duration, default=None, help="e.g. 2h")
    event = sub.add_parser(
        "event", help="report a service event (as POST /v1/events): queue or skip its survey"
    )
    event.add_argument("customer_id", type=_customer_id)
    event.add_argument("--type", dest="event_type", required=True, help="e.g. delivery")
    event.add_argument("--event-id", required=True, help="idempotency key of the event")
    event.add_argument("--occurred-at", default=None, help="RFC 3339, default now")
    event.add_argument(
        "--property",
        dest="properties",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a customer property (repeatable), e.g. --property segment=smb",
    )
    event.add_argument(
        "--kind", choices=["transactional", "relationship", "episode"], default="transactional"
    )
    when = event.add_mutually_exclusive_group()
    when.add_argument("--delay", type=parse_duration, default=None, help="e.g. 2h")
    when.add_argument("--send-at", default=None, help="RFC 3339 send time")
    importer = sub.add_parser(
        "import-customers",
        help="create/update customers from a CSV file (customer_id + properties)",
    )
    importer.add_argument("csv_file", help="UTF-8 CSV with a header row; - reads stdin")
    erase = sub.add_parser(
        "erase",
        help="erase a customer's personal data (as DELETE /v1/customers/{id}); prints "
        "what was erased",
    )
    erase.add_argument("customer_id", type=_customer_id)
    rollup = sub.add_parser("rollups", help="the per-day rollups the reports read")
    rollup_sub = rollup.add_subparsers(dest="rollups_command", required=True)
    rebuild = rollup_sub.add_parser(
        "rebuild",
        help="recount the rollups from the answers (by local day of NPSBOT_TIMEZONE) and "
        "say how many rows differed",
    )
    rebuild.add_argument(
        "--check",
        action="store_true",
        help="only compare: change nothing, exit 1 when a row differs (or the rollups "
        "count another time zone's days)",
    )
    migrate = sub.add_parser(
        "migrate-to",
        help="copy the SQLite database (NPSBOT_DATABASE) into an empty PostgreSQL database, "
        "ids kept, and print the rows per table on both sides (stop the bot first)",
    )
    migrate.add_argument("url", help="postgresql://user:password@host:5432/database")
    demo = sub.add_parser("demo", help="offline demo on the local Telegram stand-in")
    demo.add_argument("--customers", type=int, default=40)
    demo.add_argument("--seed", type=int, default=7)
    return parser


async def _queue(args: argparse.Namespace) -> dict[str, object]:
    from bot.core.records import SurveyKind
    from bot.usecases.queueing import queue_survey
    from bot.usecases.services import utc_now
    from storage import Database

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
        "status": _status_word(result.status.value),
        "reason": result.reason,
        "duplicate": result.duplicate,
    }


def _event_body(args: argparse.Namespace) -> dict[str, object]:
    """The CLI's arguments as a ``POST /v1/events`` body, validated the same way."""
    properties: dict[str, object] = {}
    for item in args.properties:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--property expects NAME=VALUE, got {item!r}")
        properties[name.strip()] = value
    body: dict[str, object] = {
        "customer_id": args.customer_id,
        "event_type": args.event_type,
        "event_id": args.event_id,
        "kind": args.kind,
        "properties": properties,
    }
    if args.occurred_at is not None:
        body["occurred_at"] = args.occurred_at
    if args.delay is not None:
        body["delay_seconds"] = int(args.delay.total_seconds())
    if args.send_at is not None:
        body["send_at"] = args.send_at
    return body


async def _event(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    from bot.adapters.ops_api.models import parse_event
    from bot.core.questionnaire.loader import QuestionnaireError
    from bot.core.questionnaire.startup import load_catalog
    from bot.core.validation import ValidationFailed
    from bot.usecases.events import EventConflict, trigger_event
    from bot.usecases.services import utc_now
    from storage import Database

    try:
        # The questionnaire decides which properties an event type must carry.
        catalog = load_catalog(
            settings.questionnaire_path, settings.company_name, settings.default_language
        )
    except QuestionnaireError as exc:
        _fail(f"questionnaire error: {exc}")
    now = utc_now()
    try:
        request = parse_event(_event_body(args), now, catalog.required_properties)
    except ValidationFailed as exc:
        _fail("invalid event: " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    rules = settings.ops.contact_rules(settings.timezone)
    db = await Database.open(settings.database_path)
    try:
        outcome = await trigger_event(db, request, rules, now)
    except EventConflict as exc:
        _fail(str(exc), 1)
    finally:
        await db.close()
    result = outcome.as_json()
    result["replayed"] = outcome.replayed
    return result


def _import(settings: Settings, path: str) -> int:
    from bot.usecases.csv_import import CsvFormatError, import_customers, parse_customers_csv
    from bot.usecases.services import utc_now
    from storage import Database

    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}", 1)
    try:
        report = parse_customers_csv(data)
    except CsvFormatError as exc:
        _fail(f"{path}: {exc}", 1)
    for line, problem in report.errors:
        print(f"{path}:{line}: {problem}", file=sys.stderr)

    async def store() -> tuple[int, int]:
        db = await Database.open(settings.database_path)
        try:
            return await import_customers(db, report.rows, utc_now())
        finally:
            await db.close()

    created, updated = asyncio.run(store())
    print(
        f"imported {len(report.rows)} customers ({created} new, {updated} updated); "
        f"{len(report.errors)} bad rows skipped"
    )
    return 1 if report.errors else 0


async def _relink(settings: Settings, bot_username: str, customer_id: str) -> str | None:
    from bot.adapters.ops_api.api import relink
    from bot.usecases.services import utc_now
    from storage import Database

    db = await Database.open(settings.database_path)
    try:
        secret = settings.link_secret.get_secret_value()
        result = await relink(db, secret, bot_username, customer_id, utc_now())
    finally:
        await db.close()
    return None if result is None else result[1]


async def _erase(settings: Settings, customer_id: str) -> dict[str, object] | None:
    from bot.usecases.privacy import erase_external_id
    from bot.usecases.services import utc_now
    from storage import Database

    db = await Database.open(settings.database_path)
    try:
        result = await erase_external_id(db, customer_id, utc_now(), "cli")
    finally:
        await db.close()
    if result is None:
        return None
    return {
        "customer_id": customer_id,
        "erased": True,
        "erased_at": result.erased_at.isoformat().replace("+00:00", "Z"),
        "counts": result.counts,
        "total": result.total,
    }


def _bot_username(settings: Settings) -> str:
    """NPSBOT_BOT_USERNAME, else the bot's own, from ``getMe``."""
    from telegram.error import TelegramError

    from bot.composition.check import bot_username

    try:
        return asyncio.run(bot_username(settings))
    except TelegramError as exc:
        _fail(
            f"cannot ask the Bot API for the bot's username ({exc.message}); "
            "set NPSBOT_BOT_USERNAME",
            1,
        )


def _status_word(status: str) -> str:
    """The API's word for a survey status: a survey waiting to be sent is ``queued``."""
    return "queued" if status == "pending" else status


def _rollups(settings: Settings, check_only: bool) -> int:
    from bot.usecases.rollups import rebuild
    from bot.usecases.services import utc_now
    from storage import Database

    async def run() -> int:
        tz_name = settings.timezone.key
        db = await Database.open(settings.database_path)
        try:
            result = await rebuild(db, tz_name, utc_now(), check_only=check_only)
        finally:
            await db.close()
        for diff in result.examples:
            print(
                f"{diff.table} {'/'.join(diff.key)}: stored {diff.stored}, "
                f"answers say {diff.actual}",
                file=sys.stderr,
            )
        if result.zone != tz_name:
            print(f"the rollups counted days of {result.zone}, not {tz_name}", file=sys.stderr)
        verdict = "rebuilt" if result.rebuilt else "checked"
        print(
            json.dumps(
                {
                    "result": verdict,
                    "timezone": tz_name,
                    "counted_timezone": result.zone,
                    "rows_differing": result.differing,
                }
            )
        )
        return 0 if result.rebuilt or result.ok(tz_name) else 1

    return asyncio.run(run())


def _migrate_to(settings: Settings, url: str) -> int:
    from bot.core.database_url import parse_target
    from storage import Database, DatabaseUnavailableError
    from storage.copy import TargetNotEmptyError, check_empty, copy_database

    try:
        target = parse_target(url)
    except ValueError as exc:
        _fail(f"migrate-to: {exc}")
    if target.engine != "postgresql":
        _fail("migrate-to copies into PostgreSQL: give a postgresql:// URL")
    source = parse_target(settings.database_path)
    if source.engine != "sqlite":
        _fail("migrate-to copies from SQLite: NPSBOT_DATABASE must name the SQLite file")
    if source.location != ":memory:" and not Path(source.location).is_file():
        _fail(f"no SQLite database at {source.location}", 1)

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows} rows", file=sys.stderr)

    async def run() -> int:
        src = await Database.open(source.location)  # brought to this bot's schema first
        try:
            empty = await Database.open(url, migrate=False)
            try:
                await check_empty(empty)
            finally:
                await empty.close()
            dst = await Database.open(url)
            try:
                counts = await copy_database(src, dst, progress=progress)
            finally:
                await dst.close()
        finally:
            await src.close()
        width = max(len(c.table) for c in counts)
        for c in counts:
            verdict = "ok" if c.ok else "MISSING ROWS"
            print(f"{c.table:<{width}}  {c.source:>10} in SQLite  {c.target:>10} copied  {verdict}")
        rows = sum(c.target for c in counts)
        if all(c.ok for c in counts):
            print(f"copied {len(counts)} tables, {rows} rows to {target.describe()}")
            return 0
        print("the counts differ: do not switch NPSBOT_DATABASE to the copy", file=sys.stderr)
        return 1

    try:
        return asyncio.run(run())
    except TargetNotEmptyError as exc:
        _fail(f"{exc}; migrate-to copies into an empty database only", 1)
    except DatabaseUnavailableError as exc:
        _fail(str(exc), 1)


def _demo(customers: int, seed: int) -> int:
    """Run the offline demo, which lives in the test stand-in (``standin.demo``).

    The stand-in is test and demo infrastructure that the wheel does not ship, so it is
    imported only here: a bot installed from a wheel runs without it, and says where to get
    it when asked for the demo."""
    try:
        demo = importlib.import_module("standin.demo")
    except ModuleNotFoundError as exc:
        # Only a missing stand-in means "not installed"; anything else missing is a bug.
        if exc.name != "standin" and not (exc.name or "").startswith("standin."):
            raise
        _fail(
            "the demo needs the Telegram stand-in, which is not part of the installed "
            "package: run it from a source checkout installed with `pip install -e .` "
            "(see the README)"
        )
    code: int = asyncio.run(demo.run_demo(customers=customers, seed=seed))
    return code


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``npsbot`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        raise SystemExit(_demo(args.customers, args.seed))
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(f"configuration error: {exc}")
    if args.command == "check":
        from bot.composition.check import check
        from bot.usecases.services import utc_now

        raise SystemExit(check(settings, utc_now()))
    if args.command == "link":
        print(
            deep_link(
                _bot_username(settings), settings.link_secret.get_secret_value(), args.customer_id
            )
        )
        return
    if args.command == "relink":
        if not settings.bot_username:
            _fail("configuration error: NPSBOT_BOT_USERNAME is required to print deep links")
        link = asyncio.run(_relink(settings, settings.bot_username, args.customer_id))
        if link is None:
            _fail("no such customer", 1)
        print(link)
        return
    if args.command == "survey":
        print(json.dumps(asyncio.run(_queue(args))))
        return
    if args.command == "event":
        print(json.dumps(asyncio.run(_event(settings, args))))
        return
    if args.command == "erase":
        erased = asyncio.run(_erase(settings, args.customer_id))
        if erased is None:
            _fail("no such customer (or already erased)", 1)
        print(json.dumps(erased))
        return
    if args.command == "rollups":
        raise SystemExit(_rollups(settings, args.check))
    if args.command == "import-customers":
        raise SystemExit(_import(settings, args.csv_file))
    if args.command == "migrate-to":
        raise SystemExit(_migrate_to(settings, args.url))
    secrets = (settings.token.get_secret_value(), settings.link_secret.get_secret_value())
    setup_logging(settings.log_level, secrets=secrets, log_format=settings.log_format)
    from bot.composition.ops_jobs import OpsStartupError
    from bot.composition.runtime import StartupError, serve
    from bot.core.questionnaire.loader import QuestionnaireError
    from storage import DatabaseUnavailableError, SchemaTooNewError

    try:
        asyncio.run(serve(settings))
    except QuestionnaireError as exc:
        # A configuration problem, like an invalid setting: the same exit code.
        _fail(f"questionnaire error: {exc}")
    except (StartupError, SchemaTooNewError, DatabaseUnavailableError, OpsStartupError) as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
