"""Erasure and retention against a real database: what remains in every table, no personal
byte left in the file, past NPS unchanged, an erased customer never surveyed again; the
ops API (checked against the OpenAPI document) and the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.adapters.ops_api.api import OpsApi
from bot.adapters.ops_api.models import parse_event
from bot.core.privacy_plan import ERASED_PREFIX
from bot.core.records import SurveyStatus
from bot.settings import SCOPES, ApiToken, Settings
from bot.usecases.events import trigger_event
from bot.usecases.privacy import erase_external_id, erase_in, run_retention
from bot.usecases.queueing import queue_survey
from storage import Database, customers, outbox, privacy
from tests.ops.conftest import rules_for
from tests.ops.test_api import check_against_openapi
from tests.privacy.conftest import (
    ADMIN_CHAT,
    T0,
    Person,
    assert_everything_personal_present,
    assert_nothing_personal,
    dump,
    file_bytes,
    nps_figures,
    person,
    seed,
)
from tests.unit.test_settings import with_required

ERASER = "erase-only-token-0123456789abcdefgh"
FULL = "full-access-token-0123456789abcdef"


async def test_erasure_leaves_nothing_personal_in_any_table_nor_in_the_file(
    db: Database,
) -> None:
    alice = await seed(db, person("alice", 7001))
    bob = await seed(db, person("bob", 7002), score=9)
    before = await nps_figures(db, T0 - timedelta(days=1), T0 + timedelta(days=2))
    assert before["n"] == 4

    result = await erase_external_id(db, alice.external_id, T0 + timedelta(days=1), "cli")
    assert result is not None
    # Every table that held something of hers says how many rows changed.
    assert set(result.counts) >= {
        "customers",
        "surveys",
        "answers",
        "alerts",
        "ops_events",
        "outbox",
        "relays",
        "reply_drafts",
        "webhook_deliveries",
    }
    rows = await assert_nothing_personal(db, alice)
    assert_everything_personal_present(rows, bob)

    # What remains of her: anonymous counts.
    mine = next(c for c in rows["customers"] if c["id"] == alice.customer_id)
    assert mine["external_id"].startswith(ERASED_PREFIX) and mine["erased_at"] is not None
    assert (mine["chat_id"], mine["language"], mine["telegram_language"], mine["attributes"]) == (
        None,
        None,
        None,
        "{}",
    )
    her_surveys = [s for s in rows["surveys"] if s["customer_id"] == alice.customer_id]
    assert [s["status"] for s in her_surveys] == ["answered", "answered", "skipped"]
    assert all(s["event_id"] is None and s["attributes"] == "{}" for s in her_surveys)
    assert all(s["event_type"] in ("delivery", "support") for s in her_surveys)
    her_answers = [a for a in rows["answers"] if a["survey_id"] in alice.survey_ids]
    assert [(a["score"], a["category"], a["reason"], a["drivers"]) for a in her_answers] == [
        (3, "detractor", None, None),
        (4, "detractor", None, None),
    ]
    assert [
        a["resolved_note"] for a in rows["alerts"] if a["survey_id"] == alice.survey_ids[0]
    ] == [None]
    assert len(rows["relays"]) == 1 and len(rows["reply_drafts"]) == 1  # Bob's
    bodies = [json.loads(w["body"]) for w in rows["webhook_deliveries"]]
    assert bodies.count({}) == 2  # hers blanked; pending ones given up
    assert sum(1 for w in rows["webhook_deliveries"] if w["last_error"] == "erased") == 2

    # Past NPS figures are exactly the same.
    after = await nps_figures(db, T0 - timedelta(days=1), T0 + timedelta(days=2))
    assert after == before

    # Erasure is recorded, without personal data; a second one finds nothing.
    async with db.read() as tx:
        run = await privacy.last_run(tx, "erasure")
    assert run is not None and run.customer_id == alice.customer_id and run.counts == result.counts
    assert await erase_external_id(db, alice.external_id, T0 + timedelta(days=2), "cli") is None


async def test_an_erased_customer_is_not_surveyed_until_they_link_anew(db: Database) -> None:
    alice = await seed(db, person("carol", 7003))
    async with db.transaction() as tx:
        await erase_in(tx, alice.customer_id, T0, "customer")
    now = T0 + timedelta(days=40)
    queued = await queue_survey(db, alice.external_id, now, event_id="later-1")
    assert (queued.status, queued.reason) == (SurveyStatus.SKIPPED, "not_linked")
    request = parse_event(
        {"customer_id": alice.external_id, "event_type": "delivery", "event_id": "later-2"}, now
    )
    outcome = await trigger_event(db, request, rules_for(), now)
    assert (outcome.outcome, outcome.reason) == ("skipped", "not_linked")
    async with db.read() as tx:
        assert await customers.surveyable(tx) == []
    # A new /start with a valid signed link: a fresh customer, surveyed as usual.
    async with db.transaction() as tx:
        fresh, _ = await customers.link_chat(tx, alice.external_id, alice.chat_id, "en", now)
    assert fresh.id != alice.customer_id and fresh.attributes == {}
    queued = await queue_survey(db, alice.external_id, now, event_id="later-3")
    assert queued.status is SurveyStatus.PENDING


async def test_retention_anonymises_only_old_texts_and_attributes_and_keeps_the_nps(
    db: Database,
) -> None:
    old = await seed(db, person("dave", 7004))
    recent = await seed(db, person("erin", 7005), now=T0 + timedelta(days=100), score=8)
    window = (T0 - timedelta(days=1), T0 + timedelta(days=101))
    before = await nps_figures(db, *window)
    clock_now = T0 + timedelta(days=130)
    async with db.transaction() as tx:  # messages and webhooks went out when they were made
        await tx.execute("UPDATE outbox SET done_at = created_at")
        await tx.execute("UPDATE webhook_deliveries SET delivered_at = created_at")
    # Erin's customer row was updated on day 100: attributes kept; Dave's are older.
    anonymised = await run_retention(db, 60, lambda: clock_now)
    assert anonymised > 0
    rows = await dump(db)
    answers_by_survey = {a["survey_id"]: a for a in rows["answers"]}
    assert all(answers_by_survey[s]["reason"] is None for s in old.survey_ids[:2])
    assert all(answers_by_survey[s]["reason"] == recent.reason for s in recent.survey_ids[:2])
    by_id = {c["id"]: c for c in rows["customers"]}
    assert by_id[old.customer_id]["attributes"] == "{}"
    assert json.loads(by_id[recent.customer_id]["attributes"]) == recent.attributes
    # Ids and links stay (retention is about texts and attributes, not identity).
    assert by_id[old.customer_id]["external_id"] == old.external_id
    assert await nps_figures(db, *window) == before
    async with db.read() as tx:
        run = await privacy.last_run(tx, "retention")
    assert run is not None and run.total == anonymised
    assert run.cutoff == clock_now - timedelta(days=60)
    assert run.counts["answer_texts"] == 2 and run.counts["customer_attributes"] == 1
    # A second run finds nothing left to do.
    assert await run_retention(db, 60, lambda: clock_now) == 0
    # Old texts are gone from the file too (SQLite: one file, secure_delete).
    assert await db.checkpoint()
    if db.target.engine != "sqlite":
        return
    raw = file_bytes(db)
    assert old.reason.split("\n")[0].encode() not in raw
    assert old.attributes["plan"].encode() not in raw


@pytest.fixture
async def api(db: Database) -> AsyncIterator[TestClient[Any, Any]]:
    ops = OpsApi(
        db=db,
        tokens=(
            ApiToken(SecretStr(ERASER), frozenset({"erase"})),
            ApiToken(SecretStr(FULL), SCOPES),
        ),
        rules=rules_for(),
        clock=lambda: T0 + timedelta(days=1),
        link_secret="x" * 40,
        bot_username="nps_test_bot",
        max_body_bytes=4096,
        retention_days=30,
    )
    async with TestClient(TestServer(ops.application())) as client:
        yield client


async def _call(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    template: str,
    token: str | None,
    status: int,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.request(method, path, headers=headers)
    body = await response.json()
    assert response.status == status, body
    check_against_openapi(method, template, status, body)
    return body


async def test_api_erasure_returns_counts_per_table_and_needs_the_erase_scope(
    db: Database, api: TestClient[Any, Any]
) -> None:
    frank = await seed(db, person("frank", 7006))
    template = "/v1/customers/{customer_id}"
    path = f"/v1/customers/{frank.external_id}"
    await _call(api, "DELETE", path, template, None, 401)
    # A token with every default scope still cannot erase: erase is explicit only.
    denied = await _call(api, "DELETE", path, template, FULL, 403)
    assert "erase" in denied["message"]
    body = await _call(api, "DELETE", path, template, ERASER, 200)
    assert body["customer_id"] == frank.external_id and body["erased"] is True
    assert body["counts"]["customers"] == 1 and body["counts"]["answers"] == 2
    assert body["total"] == sum(body["counts"].values())
    await assert_nothing_personal(db, frank)
    await _call(api, "DELETE", path, template, ERASER, 404)
    await _call(api, "DELETE", "/v1/customers/%20padded", template, ERASER, 404)
    # /healthz shows the retention setting and its last run (to a token with `read`).
    health = await _call(api, "GET", "/healthz", "/healthz", FULL, 200)
    assert health["retention"] == {"days": 30, "last_run": None, "anonymised": None}
    await seed(db, person("henry", 7008))  # data that retention can anonymise
    await run_retention(db, 30, lambda: T0 + timedelta(days=90))
    health = await _call(api, "GET", "/healthz", "/healthz", FULL, 200)
    assert health["retention"]["last_run"] == "2024-09-01T12:00:00.000000Z"
    assert health["retention"]["anonymised"] > 0


def test_erase_scope_is_parsed_and_never_a_default() -> None:
    ops = Settings.from_env(with_required({"NPSBOT_API_TOKENS": f"{ERASER}:erase,{FULL}"})).ops
    assert [t.scopes for t in ops.api_tokens] == [frozenset({"erase"}), SCOPES]
    assert "erase" not in SCOPES


async def test_cli_erase_prints_what_was_erased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = tmp_path / "cli.sqlite3"
    database = await Database.open(path)
    try:
        grace = await seed(database, person("grace", 7007))
    finally:
        await database.close()
    for key, value in {
        "NPSBOT_ENV_FILE": "/dev/null",
        "NPSBOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "NPSBOT_LINK_SECRET": "l" * 40,
        "NPSBOT_COMPANY_NAME": "Acme",
        "NPSBOT_DATABASE": str(path),
    }.items():
        monkeypatch.setenv(key, value)
    await _in_thread(main, ["erase", grace.external_id])
    printed = json.loads(capsys.readouterr().out)
    assert printed["customer_id"] == grace.external_id and printed["counts"]["customers"] == 1
    with pytest.raises(SystemExit) as exit_info:
        await _in_thread(main, ["erase", grace.external_id])
    assert exit_info.value.code == 1
    assert "no such customer" in capsys.readouterr().err
    database = await Database.open(path)
    try:
        await assert_nothing_personal(database, grace)
    finally:
        await database.close()


async def _in_thread(func: Any, *args: Any) -> None:
    """Run the CLI (which calls asyncio.run) outside this test's event loop."""
    import asyncio

    await asyncio.to_thread(func, *args)


@pytest.mark.parametrize("erased_id", ["7", "1", "a"])
async def test_erasure_never_touches_other_customers_rows_that_contain_the_id(
    db: Database, erased_id: str
) -> None:
    # Bob's words, attributes, messages and webhook bodies all contain "7", "1" and "a";
    # his first survey has id 1 and his chat got a message with "message_id": 7.
    bob = Person(
        external_id="cust-bob-7731",
        chat_id=5001,
        reason='Took 7 days, 1 call and a "refund" (a mess)',
        attributes={"ref": "7", "tier": "1", "grade": "a"},
        note="7 1 a",
    )
    await seed(db, bob)
    async with db.transaction() as tx:
        edit = {"chat_id": bob.chat_id, "message_id": 7, "text": "1 a 7"}
        await outbox.enqueue(tx, bob.chat_id, "editMessageText", edit, T0)
        quote = {"chat_id": ADMIN_CHAT, "text": 'Customer <code>1</code> said "a", 7 (#7)'}
        await outbox.enqueue(tx, ADMIN_CHAT, "sendMessage", quote, T0, about=[bob.survey_ids[0]])
    others = await dump(db)

    victim = person("victim", 7007)
    victim.external_id = erased_id
    await seed(db, victim)
    result = await erase_external_id(db, erased_id, T0 + timedelta(days=1), "api")
    assert result is not None and result.counts["outbox"] > 0
    assert result.counts["webhook_deliveries"] > 0
    after = await dump(db)
    for table, rows in others.items():
        if table in ("digests", "privacy_log"):
            continue  # shared bookkeeping rows, not a customer's
        if table in ("answer_rollups", "driver_rollups", "rollup_state"):
            continue  # counts of everyone's answers: the victim's seed moved them on purpose
        for row in rows:
            assert row in after[table], f"{table} row changed or deleted: {row}"
    # Everything the victim's seed added to the outbox is gone; their deliveries are stubs.
    assert len(after["outbox"]) == len(others["outbox"])
    new_bodies = [
        d["body"] for d in after["webhook_deliveries"] if d not in others["webhook_deliveries"]
    ]
    assert new_bodies and all(body == "{}" for body in new_bodies)
