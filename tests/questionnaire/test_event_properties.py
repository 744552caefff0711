"""Event properties the questionnaire declares: the ops API answers 422 naming a missing one,
the CLI refuses likewise, and the question shows the value when it is there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.adapters.ops_api.api import OpsApi
from bot.core.questionnaire.catalog import Catalog
from bot.core.questionnaire.loader import load_questionnaire
from bot.settings import ApiToken
from storage import Database
from tests.ops.conftest import SECRET, rules_for
from tests.ops.test_api import check_against_openapi
from tests.support.cli import run_cli
from tests.support.clock import Clock

EXAMPLE = Path(__file__).resolve().parents[2] / "questionnaire.example.toml"
TOKEN = "questionnaire-test-token-0123456789abcdef"
CATALOG = Catalog(load_questionnaire(EXAMPLE), company="Acme")


@pytest.fixture
async def client(db: Database, clock: Clock) -> AsyncIterator[TestClient[Any, Any]]:
    ops = OpsApi(
        db=db,
        tokens=(ApiToken(SecretStr(TOKEN), frozenset({"events", "customers", "read"})),),
        rules=rules_for(),
        clock=clock,
        link_secret=SECRET,
        bot_username="nps_test_bot",
        max_body_bytes=4096,
        required_properties=CATALOG.required_properties,
    )
    async with TestClient(TestServer(ops.application())) as test_client:
        yield test_client


async def post_event(client: TestClient[Any, Any], body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(
        "/v1/events", data=json.dumps(body), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    payload = await response.json()
    check_against_openapi("POST", "/v1/events", response.status, payload)
    return response.status, payload


@pytest.mark.parametrize("properties", [{}, {"order_id": ""}, {"order_id": "   "}])
async def test_an_event_missing_a_declared_property_gets_422_naming_it(
    client: TestClient[Any, Any], db: Database, properties: dict[str, str]
) -> None:
    body = {
        "customer_id": "c-1",
        "event_type": "delivery",
        "event_id": "ord-missing",
        "properties": properties,
    }
    status, payload = await post_event(client, body)
    assert status == 422
    assert [e["field"] for e in payload["errors"]] == ["properties.order_id"]
    assert "delivery" in payload["errors"][0]["message"]
    async with db.read() as tx, tx.conn.execute("SELECT COUNT(*) FROM surveys") as cur:
        assert (await cur.fetchone())[0] == 0  # nothing stored  # type: ignore[index]


async def test_an_event_with_its_properties_or_of_an_undeclared_type_is_accepted(
    client: TestClient[Any, Any],
) -> None:
    ok = {
        "customer_id": "c-2",
        "event_type": "delivery",
        "event_id": "ord-2",
        "properties": {"order_id": "A-17"},
    }
    assert (await post_event(client, ok))[0] == 202
    other = {"customer_id": "c-2", "event_type": "support_ticket", "event_id": "t-1"}
    assert (await post_event(client, other))[0] == 202


def test_the_question_shows_the_property_and_falls_back_without_it() -> None:
    props = {"order_id": "A-17", "plan": "pro"}
    en = CATALOG.question("transactional", "en", "delivery", props)
    zh = CATALOG.question("transactional", "zh", "delivery", props)
    assert en.startswith("Your order A-17 has been delivered.")
    assert zh.startswith("您的订单 A-17 已送达。")
    general = CATALOG.question("transactional", "en", "delivery", {})
    assert "{" not in general and "recent delivery" in general


def test_cli_event_refuses_a_missing_declared_property(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in {
        "NPSBOT_ENV_FILE": "/dev/null",
        "NPSBOT_TOKEN": "123456:TEST-cli-token-for-questionnaire",
        "NPSBOT_LINK_SECRET": SECRET,
        "NPSBOT_COMPANY_NAME": "Acme",
        "NPSBOT_DATABASE": str(tmp_path / "cli.sqlite3"),
        "NPSBOT_QUESTIONNAIRE": str(EXAMPLE),
    }.items():
        monkeypatch.setenv(key, value)
    args = ("event", "c-9", "--type", "delivery", "--event-id", "d-1")
    assert run_cli(*args) == 2
    assert "properties.order_id: is required for event type 'delivery'" in capsys.readouterr().err
    assert run_cli(*args, "--property", "order_id=A-1") == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "skipped"  # not linked yet
    monkeypatch.setenv("NPSBOT_QUESTIONNAIRE", str(tmp_path / "missing.toml"))
    assert run_cli(*args, "--property", "order_id=A-1") == 2
    assert "questionnaire error:" in capsys.readouterr().err
