"""The themes engine in the product: driver keywords from the questionnaire, the job that
themes new comments incrementally and retrains, the digest's Themes section, the CSV
column, the ``answer.themed`` webhook event and the report rows (impact, change)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.nps import STANDARD_CUTOFFS, Counts, categorize, nps
from bot.core.questionnaire.loader import QuestionnaireError, parse_questionnaire
from bot.core.questionnaire.startup import load_catalog
from bot.core.records import SurveyKind
from bot.reports.digest import compose_digest
from bot.reports.theme_report import impact, theme_rows
from bot.settings import Settings
from bot.usecases.digests import gather_digest_data
from bot.usecases.ports import CallResult
from bot.usecases.services import Services
from bot.usecases.themes import Themer, driver_specs, run_theming
from storage import Database, answers, customers, surveys, themes
from tests.support.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

PRICE = [
    (2, "Far too expensive, the shipping cost doubled"),
    (3, "The fee is a rip-off, way overpriced"),
    (1, "运费太贵了，价格不合理"),
    (4, "Overpriced delivery, I was charged twice"),
]
SPEED = [
    (10, "Super fast, arrived the same day"),
    (9, "Quick delivery, on time as promised"),
    (10, "送货速度很快，第二天就到了"),
    (9, "Very fast and early"),
]
PARKING = [
    (5, "The parking lot at the pickup point is a nightmare"),
    (6, "No parking lot near the pickup point"),
    (4, "Pickup point parking lot was full again"),
    (5, "Could not find the pickup point, parking lot closed"),
]


class NoSender:
    async def call(self, chat_id: int, method: str, params: dict[str, Any]) -> CallResult:
        raise AssertionError("theming never talks to Telegram")


def make_settings(**extra: str) -> Settings:
    return Settings.from_env(
        {
            "NPSBOT_TOKEN": "123456:" + "A" * 30,
            "NPSBOT_LINK_SECRET": "s" * 32,
            "NPSBOT_COMPANY_NAME": "Acme",
            "NPSBOT_WEBHOOK_1_URL": "https://crm.example.com/hook",
            "NPSBOT_WEBHOOK_1_SECRET": "w" * 32,
            "NPSBOT_WEBHOOK_1_EVENTS": "answer.themed",
            **extra,
        }
    )


@pytest.fixture
async def svc(db: Database) -> Services:
    settings = make_settings()
    catalog = load_catalog(str(ROOT / "questionnaire.example.toml"), "Acme")
    return Services(
        settings=settings,
        db=db,
        sender=NoSender(),  # type: ignore[arg-type]
        cutoffs=STANDARD_CUTOFFS,
        clock=Clock(NOW),
        catalog=catalog,
    )


async def add_answers(db: Database, items: list[tuple[int, str]], at: datetime) -> list[int]:
    ids = []
    async with db.transaction() as tx:
        for score, reason in items:
            n = await _next(tx)
            customer = await customers.upsert(tx, f"c{n}", at)
            survey = await surveys.create(tx, customer.id, SurveyKind.TRANSACTIONAL, at)
            await surveys.mark_sent(tx, survey.id, 9000 + n, 1, at)
            await surveys.mark_answered(tx, survey.id, at)
            await answers.record_score(tx, survey.id, score, categorize(score).value, at)
            await answers.record_reason(tx, survey.id, reason, 2, at)
            ids.append(survey.id)
    return ids


async def _next(tx: Any) -> int:
    row = await tx.fetchone("SELECT COUNT(*) FROM customers")
    return int(row[0]) + 1


async def themed_events(db: Database) -> list[dict[str, Any]]:
    async with db.read() as tx:
        rows = await tx.fetchall(
            "SELECT body FROM webhook_deliveries WHERE event_type = 'answer.themed' ORDER BY id"
        )
    return [json.loads(r[0]) for r in rows]


def test_questionnaire_keywords_become_driver_specs() -> None:
    catalog = load_catalog(str(ROOT / "questionnaire.example.toml"), "Acme")
    specs = {s.id: s for s in driver_specs(catalog)}
    assert set(specs) == {"speed", "courier", "tracking", "price", "support", "late", "damaged"}
    assert "expensive" in specs["price"].keywords["en"]
    assert "运费" in specs["price"].keywords["zh"]
    assert specs["price"].labels == {"en": "Price", "zh": "价格"}


def test_keywords_for_an_unlisted_driver_or_language_are_refused() -> None:
    base: dict[str, Any] = {"drivers": {"detractor": ["price"], "labels": {"en": {"price": "P"}}}}
    bad_driver = {**base, "drivers": {**base["drivers"], "keywords": {"en": {"nope": ["x"]}}}}
    with pytest.raises(QuestionnaireError, match=r"drivers\.keywords\.en\.nope"):
        parse_questionnaire(bad_driver, "q.toml")
    bad_lang = {**base, "drivers": {**base["drivers"], "keywords": {"fr": {"price": ["x"]}}}}
    with pytest.raises(QuestionnaireError, match=r"drivers\.keywords\.fr"):
        parse_questionnaire(bad_lang, "q.toml")
    not_list = {**base, "drivers": {**base["drivers"], "keywords": {"en": {"price": "cheap"}}}}
    with pytest.raises(QuestionnaireError, match="expected a list"):
        parse_questionnaire(not_list, "q.toml")


async def test_job_themes_incrementally_retrains_and_notifies(svc: Services, db: Database) -> None:
    price_ids = await add_answers(db, PRICE, NOW - timedelta(hours=2))
    speed_ids = await add_answers(db, SPEED, NOW - timedelta(hours=2))
    parking_ids = await add_answers(db, PARKING, NOW - timedelta(hours=2))
    themer = Themer()

    first = await run_theming(svc, themer, NOW)
    assert first.retrained and first.themed == 0  # a retraining themes everything itself
    async with db.read() as tx:
        found = await themes.themes_of(tx, [*price_ids, *speed_ids, *parking_ids])
        registry = await themes.registry(tx)
    assert all("price" in found.get(i, []) for i in price_ids), found
    assert all("speed" in found.get(i, []) for i in speed_ids), found
    # Comments no driver explains form an emerging theme with a stable id and a name.
    assert registry and "parking" in registry[0].name.lower()
    assert all(found.get(i) == [registry[0].id] for i in parking_ids), found
    events = await themed_events(db)
    assert len(events) == len(PRICE) + len(SPEED) + len(PARKING)
    by_survey = {e["data"]["survey"]["id"]: e["data"]["themes"] for e in events}
    assert [t["id"] for t in by_survey[price_ids[0]]] == found[price_ids[0]]

    # Nothing new: nothing themed, no event, no retraining.
    again = await run_theming(svc, themer, NOW + timedelta(minutes=1))
    assert again == type(again)(retrained=False, themed=0)
    assert len(await themed_events(db)) == len(events)

    # A new comment is themed with the stored model, not a new one.
    (new,) = await add_answers(db, [(2, "Shipping cost is too expensive")], NOW)
    run = await run_theming(svc, themer, NOW + timedelta(minutes=2))
    assert run.themed == 1 and not run.retrained
    async with db.read() as tx:
        assert "price" in (await themes.themes_of(tx, [new]))[new]
        model_id = (await themes.latest_model(tx)).id  # type: ignore[union-attr]
    assert len(await themed_events(db)) == len(events) + 1

    # Past the retraining interval a new model replaces the old; the emerging theme keeps
    # its id from run to run.
    later = NOW + timedelta(hours=svc.settings.admin.themes_retrain_hours, minutes=5)
    run = await run_theming(svc, themer, later)
    assert run.retrained
    async with db.read() as tx:
        stored = await themes.latest_model(tx)
        assert stored is not None and stored.id != model_id
        assert (await themes.registry(tx))[0].id == registry[0].id
    # Re-theming on retraining notifies nobody twice.
    assert len(await themed_events(db)) == len(events) + 1


async def test_digest_shows_top_themes_with_nps_impact_and_change(
    svc: Services, db: Database
) -> None:
    await add_answers(db, PRICE + SPEED, NOW - timedelta(hours=2))
    await add_answers(db, PRICE[:2], NOW - timedelta(days=8))
    await run_theming(svc, Themer(), NOW)
    async with db.read() as tx:
        data = await gather_digest_data(tx, svc.settings, NOW.date(), svc.catalog)
    text = compose_digest(data).text
    section = text[text.index("<b>Themes</b>") :]
    assert "Detractors mention: Price (4)" in section
    assert "Promoters mention: Delivery speed (4)" in section
    assert "Price: NPS -100 (n = 4" in section
    assert "vs before: 0 points, within the noise" in section  # -100 both weeks
    total = Counts(promoters=4, detractors=4)
    assert f"impact {round(impact(total, Counts(detractors=4)) or 0):+d}" in section
    zh_settings = make_settings(NPSBOT_ADMIN_LANGUAGE="zh")
    async with db.read() as tx:
        zh_data = await gather_digest_data(tx, zh_settings, NOW.date(), svc.catalog)
    zh = compose_digest(zh_data, "zh").text
    assert "<b>主题</b>" in zh and "贬损者提到：价格 (4)" in zh


def test_impact_is_nps_minus_nps_without_the_theme() -> None:
    total = Counts(promoters=6, passives=2, detractors=2)  # +40
    theme = Counts(detractors=2)
    assert impact(total, theme) == pytest.approx(40 - 75)  # without it: 6 of 8 promoters
    assert nps(total) == 40
    rows = theme_rows({"price": theme}, {}, total, {"price": "Price"}, {})
    assert rows[0].impact == pytest.approx(-35) and rows[0].change.difference is None


async def test_ops_api_themes_with_the_read_scope(svc: Services, db: Database) -> None:
    from aiohttp.test_utils import TestClient, TestServer
    from pydantic import SecretStr

    from bot.adapters.ops_api.api import OpsApi
    from bot.settings import ApiToken
    from bot.usecases.themes import themes_json
    from tests.ops.conftest import SECRET, rules_for
    from tests.ops.test_api import Api

    await add_answers(db, PRICE + SPEED, NOW - timedelta(hours=2))
    await run_theming(svc, Themer(), NOW)
    read, events = "read-token-0123456789abcdefghijkl", "events-token-0123456789abcdefghij"
    ops = OpsApi(
        db=db,
        tokens=(
            ApiToken(SecretStr(read), frozenset({"read"})),
            ApiToken(SecretStr(events), frozenset({"events"})),
        ),
        rules=rules_for(),
        clock=svc.clock,
        link_secret=SECRET,
        bot_username="nps_test_bot",
        max_body_bytes=2048,
        themes=lambda period: themes_json(svc, period, NOW),
    )
    async with TestClient(TestServer(ops.application())) as client:
        api = Api(client)
        body, _ = await api.call(
            "GET", "/v1/themes?period=7d", "/v1/themes", token=read, expect=200
        )
        by_id = {t["id"]: t for t in body["themes"]}
        assert by_id["price"]["detractors"] == 4 and by_id["price"]["nps"] == -100
        assert by_id["price"]["impact"] == pytest.approx(-100.0)  # 0 with it, +100 without
        assert body["period"]["end"] == NOW.date().isoformat()
        await api.call("GET", "/v1/themes", token=events, expect=403)
        bad, _ = await api.call(
            "GET", "/v1/themes?period=soon", "/v1/themes", token=read, expect=422
        )
        assert bad["errors"][0]["field"] == "period"
