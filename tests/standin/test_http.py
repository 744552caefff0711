"""The stand-in over raw HTTP: encodings, routing, Telegram's JSON shapes and errors."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from standin import StandIn
from tests.standin.conftest import TOKEN, api


async def call(
    http: aiohttp.ClientSession, server: StandIn, method: str, **fields: Any
) -> tuple[int, dict[str, Any]]:
    """POST form-encoded like PTB: non-string values JSON-encoded."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    async with http.post(api(server, method), data=form) as response:
        return response.status, await response.json()


async def test_get_me_over_get_and_post(server: StandIn, http: aiohttp.ClientSession) -> None:
    async with http.get(api(server, "getMe")) as response:
        body = await response.json()
    assert response.status == 200
    assert body == {
        "ok": True,
        "result": {
            "id": 123456,
            "is_bot": True,
            "first_name": "NPS Test Bot",
            "username": "nps_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        },
    }
    status, body = await call(http, server, "GETME")  # method names are case-insensitive
    assert status == 200 and body["result"]["username"] == "nps_test_bot"
    assert server.stats.calls["getMe"] == 2


async def test_wrong_token_and_unknown_method(server: StandIn, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{server.base_url}999:bad/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    status, body = await call(http, server, "sendCarrierPigeon")
    assert status == 404 and body["description"] == "Not Found"


async def test_send_message_encodings(server: StandIn, http: aiohttp.ClientSession) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    status, body = await call(
        http, server, "sendMessage", chat_id=str(ann.id), text="form", reply_markup=markup
    )
    assert status == 200, body
    result = body["result"]
    assert result["chat"] == {"id": ann.id, "type": "private", "first_name": "Ann"}
    assert result["from"]["is_bot"] is True and isinstance(result["date"], int)
    assert result["reply_markup"] == markup and result["message_id"] == 2  # /start was 1
    async with http.post(
        api(server, "sendMessage"), json={"chat_id": ann.id, "text": "json"}
    ) as response:
        assert (await response.json())["result"]["message_id"] == 3
    async with http.get(
        api(server, "sendMessage"), params={"chat_id": str(ann.id), "text": "query"}
    ) as response:
        assert (await response.json())["result"]["text"] == "query"
    assert [m.text for m in ann.messages] == ["form", "json", "query"]
    assert ann.messages[0].buttons == [[("Yes", "y")]]
    assert server.stats.deliveries == {ann.id: 3}


async def test_chat_errors(server: StandIn, http: aiohttp.ClientSession) -> None:
    ann = server.add_user("Ann")
    status, body = await call(http, server, "sendMessage", chat_id="42", text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, body = await call(http, server, "sendMessage", chat_id=str(ann.id), text="hi")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await ann.start()
    ann.block()
    status, body = await call(http, server, "sendMessage", chat_id=str(ann.id), text="hi")
    assert body == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    assert server.stats.forbidden == 2 and server.stats.bad_requests == 1
    assert server.stats.deliveries == {}


async def test_text_checks(server: StandIn, http: aiohttp.ClientSession) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    cases = [
        ({"text": ""}, "Bad Request: message text is empty"),
        ({"text": "   "}, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {"text": "<b>bold", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            '"b"',
        ),
        (
            {"text": "<blink>x</blink>", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
        ),
        (
            {"text": "<b><i>x</b></i>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Unmatched end tag at byte offset 7, "
            'expected "</i>", found "</b>"',
        ),
        (
            {"text": "Thanks!", "parse_mode": "MarkdownV2"},
            "Bad Request: can't parse entities: Character '!' is reserved and must be escaped "
            "with the preceding '\\'",
        ),
    ]
    for fields, description in cases:
        status, body = await call(http, server, "sendMessage", chat_id=str(ann.id), **fields)
        assert (status, body.get("description")) == (400, description), fields
    # 4096 visible characters are fine even when the HTML source is longer.
    status, body = await call(
        http,
        server,
        "sendMessage",
        chat_id=str(ann.id),
        text="<b>" + "x" * 4096 + "</b>",
        parse_mode="HTML",
    )
    assert status == 200
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4096}]
    assert ann.messages[-1].text == "x" * 4096
    assert ann.messages[-1].source is not None and ann.messages[-1].source.startswith("<b>")


async def test_html_entities_and_utf16_offsets(
    server: StandIn, http: aiohttp.ClientSession
) -> None:
    ann = server.add_user("Ann")
    await ann.start()
    status, body = await call(
        http,
        server,
        "sendMessage",
        chat_id=str(ann.id),
        text='😀 <i>a &lt; b</i> <a href="https://x.y">l</a>',
        parse_mode="HTML",
    )
    assert status == 200
    assert body["result"]["text"] == "😀 a < b l"
    assert body["result"]["entities"] == [
        {"type": "italic", "offset": 3, "length": 5},
        {"type": "text_link", "offset": 9, "length": 1, "url": "https://x.y"},
    ]


async def test_inline_keyboard_checks(server: StandIn, http: aiohttp.ClientSession) -> None:
    ann = server.add_user("Ann")
    await ann.start()

    def kb(rows: list[list[dict[str, str]]]) -> dict[str, Any]:
        return {"inline_keyboard": rows}

    ok = {"text": "ok", "callback_data": "d"}
    cases = [
        (kb([[{"text": "x", "callback_data": "a" * 65}]]), "Bad Request: BUTTON_DATA_INVALID"),
        (kb([[{"text": "x", "callback_data": "é" * 33}]]), "Bad Request: BUTTON_DATA_INVALID"),
        (kb([[{"text": "x", "callback_data": ""}]]), "Bad Request: BUTTON_DATA_INVALID"),
        (kb([[ok] * 9]), "Bad Request: BUTTONS_TOO_MUCH"),
        (kb([[ok] * 8] * 12 + [[ok] * 5]), "Bad Request: BUTTONS_TOO_MUCH"),
        (
            kb([[{"text": "x"}]]),
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
    ]
    for markup, description in cases:
        status, body = await call(
            http, server, "sendMessage", chat_id=str(ann.id), text="t", reply_markup=markup
        )
        assert (status, body.get("description")) == (400, description)
    boundary = kb([[{"text": "x", "callback_data": "é" * 32}]] + [[ok] * 8] * 12 + [[ok] * 3])
    status, _ = await call(
        http, server, "sendMessage", chat_id=str(ann.id), text="t", reply_markup=boundary
    )
    assert status == 200
    status, body = await call(
        http, server, "sendMessage", chat_id=str(ann.id), text="t", reply_markup="{not json"
    )
    assert status == 400 and "can't parse" in body["description"]


async def test_get_updates_limit_and_webhook(server: StandIn, http: aiohttp.ClientSession) -> None:
    for limit in ("0", "101"):
        status, _ = await call(http, server, "getUpdates", limit=limit)
        assert status == 400
    status, body = await call(http, server, "setWebhook", url="http://example.org/hook")
    assert status == 400 and "HTTPS URL must be provided" in body["description"]
    status, body = await call(http, server, "setWebhook", url="https://example.org/hook")
    assert (status, body) == (200, {"ok": True, "result": True})
    status, body = await call(http, server, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    status, body = await call(http, server, "getWebhookInfo")
    assert body["result"]["url"] == "https://example.org/hook"
    assert body["result"]["pending_update_count"] == 0
    for method in ("deleteWebhook", "logOut", "close"):
        assert (await call(http, server, method))[1] == {"ok": True, "result": True}
    status, body = await call(http, server, "getWebhookInfo")
    assert body["result"]["url"] == ""


async def test_user_files_are_downloadable(server: StandIn, http: aiohttp.ClientSession) -> None:
    ann = server.add_user("Ann")
    await ann.send_document(b"report-bytes", "r.csv", "text/csv")
    _, body = await call(http, server, "getUpdates")
    document = body["result"][0]["message"]["document"]
    assert document["file_name"] == "r.csv"
    _, body = await call(http, server, "getFile", file_id=document["file_id"])
    path = body["result"]["file_path"]
    async with http.get(f"{server.base_file_url}{TOKEN}/{path}") as response:
        assert response.status == 200 and await response.read() == b"report-bytes"
    async with http.get(f"{server.base_file_url}{TOKEN}/nope") as response:
        assert response.status == 404
