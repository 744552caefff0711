"""Deliveries verify with the Standard Webhooks reference library (``standardwebhooks``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiohttp import web
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.adapters.webhooks.deliverer import WebhookDeliverer
from bot.adapters.webhooks.signing import SIGNATURE_HEADER, secret_key, standard_signature, verify
from bot.settings import Endpoint, Settings, SettingsError, WebhookSettings
from storage import Database
from tests.support.clock import Clock
from tests.webhooks.test_delivery import emit_one, run, state

#: A secret in the Standard Webhooks form, and a plain one (used as raw bytes).
KEY = bytes(range(32))
WHSEC = "whsec_" + base64.b64encode(KEY).decode()
PLAIN = "plain-secret-0123456789abcdef0123456789"


def real_clock() -> Clock[datetime]:
    # The library checks the timestamp against the real time, so the bot signs with it.
    return Clock(datetime.now(UTC), ticking=True)


@dataclass
class StandardReceiver:
    """Verifies with the library exactly as a receiver's code would."""

    webhook: Webhook
    verified: list[dict[str, object]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.headers.append(dict(request.headers))
        try:
            self.verified.append(self.webhook.verify(body, dict(request.headers)))
        except WebhookVerificationError as exc:
            self.failures.append(str(exc))
            return web.Response(status=400)
        return web.Response(status=204)


async def start(rec: StandardReceiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    return runner


def settings_for(url: str, secret: str) -> WebhookSettings:
    endpoint = Endpoint(
        number=1, url=url, secret=SecretStr(secret), events=frozenset({"answer.scored"})
    )
    return WebhookSettings(endpoints=(endpoint,), timeout_seconds=2)


@pytest.mark.parametrize(
    ("secret", "library_key"),
    [(WHSEC, WHSEC), (PLAIN, PLAIN.encode())],
    ids=["whsec-secret", "plain-secret-as-raw-bytes"],
)
async def test_a_real_delivery_verifies_with_the_standard_webhooks_library(
    db: Database, secret: str, library_key: str | bytes
) -> None:
    rec = StandardReceiver(Webhook(library_key))
    runner = await start(rec)
    try:
        settings = settings_for(rec.url, secret)
        clock = real_clock()
        event_id = await emit_one(db, settings, clock)
        await run(WebhookDeliverer(db, settings, clock), clock)
    finally:
        await runner.cleanup()
    assert rec.failures == []
    assert [e["id"] for e in rec.verified] == [event_id]
    assert rec.headers[0]["webhook-id"] == event_id
    assert [d.last_status for d in await state(db)] == [204]
    # The deprecated header still comes along, for one version.
    body = (rec.headers[0][SIGNATURE_HEADER], rec.headers[0]["webhook-timestamp"])
    assert body[0].startswith(f"t={body[1]},v1=")


async def test_a_delivery_signed_with_another_secret_is_rejected_by_the_library(
    db: Database,
) -> None:
    rec = StandardReceiver(Webhook(base64.b64encode(b"another key entirely").decode()))
    runner = await start(rec)
    try:
        settings = settings_for(rec.url, WHSEC)
        clock = real_clock()
        await emit_one(db, settings, clock)
        await run(WebhookDeliverer(db, settings, clock), clock)
    finally:
        await runner.cleanup()
    assert rec.verified == [] and rec.failures


def test_the_signature_matches_the_specifications_construction() -> None:
    # Computed by the library's own signer, independently of the bot's code.
    when = datetime.fromtimestamp(1_700_000_000, UTC)
    expected = Webhook(WHSEC).sign("msg_1", when, '{"a":1}')
    assert standard_signature(WHSEC, "msg_1", 1_700_000_000, b'{"a":1}') == expected
    assert secret_key(WHSEC) == KEY and secret_key(PLAIN) == PLAIN.encode()
    # The deprecated scheme is unchanged.
    assert not verify(PLAIN, "t=1,v1=00", b"", 1)


def test_a_whsec_secret_that_is_not_base64_is_a_settings_error() -> None:
    base = {
        "NPSBOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "NPSBOT_LINK_SECRET": "x" * 40,
        "NPSBOT_COMPANY_NAME": "Acme",
        "NPSBOT_WEBHOOK_1_URL": "https://example.com/hook",
    }
    with pytest.raises(SettingsError, match="NPSBOT_WEBHOOK_1_SECRET"):
        Settings.from_env({**base, "NPSBOT_WEBHOOK_1_SECRET": "whsec_" + "!" * 40})
    ok = Settings.from_env({**base, "NPSBOT_WEBHOOK_1_SECRET": WHSEC})
    assert ok.webhooks.endpoints[0].secret.get_secret_value() == WHSEC
