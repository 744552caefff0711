"""The aiohttp transport behaves like PTB's own where the bot can tell: encoding, uploads,
Telegram's errors, connection failures and timeouts."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.adapters.telegram.sender import result_label
from bot.adapters.telegram.transport import CONNECTION_ERROR_PREFIX, AiohttpRequest
from standin import StandIn

TOKEN = "123456:TEST-token"


@pytest.fixture
async def server() -> AsyncIterator[StandIn]:
    async with StandIn(token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def bot(server: StandIn) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=AiohttpRequest(4),
        get_updates_request=AiohttpRequest(1),
    ) as ptb_bot:
        yield ptb_bot


async def test_calls_arrive_with_their_parameters_and_json_values(
    server: StandIn, bot: Bot
) -> None:
    ann = server.add_user("Ann")
    ann.mark_started()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("9", callback_data="nps:1:9")]])
    sent = await bot.send_message(ann.id, "How likely… 0–10? & <ok>", reply_markup=markup)
    raw = await bot.do_api_request(
        "sendMessage", api_kwargs={"chat_id": ann.id, "text": "second", "parse_mode": None}
    )
    assert ann.messages[0].text == "How likely… 0–10? & <ok>"
    assert ann.messages[0].button_data == ["nps:1:9"]
    assert sent.message_id == ann.messages[0].message_id
    assert raw["text"] == "second"


async def test_an_upload_arrives_whole_with_its_file_name(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    ann.mark_started()
    data = bytes(range(256)) * 40
    await bot.send_document(ann.id, InputFile(data, filename="answers.csv"), caption="export")
    document = ann.messages[-1]
    assert document.kind == "document"
    assert (document.file_bytes, document.file_name, document.caption) == (
        data,
        "answers.csv",
        "export",
    )


async def test_telegram_refusals_raise_ptbs_errors(server: StandIn, bot: Bot) -> None:
    ann = server.add_user("Ann")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(ann.id, "hi")
    ann.mark_started()
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ann.id, " ")
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ann.id, "two")
    assert caught.value.retry_after in (7, timedelta(seconds=7))
    assert result_label(caught.value) == "429"


async def test_a_refused_connection_is_a_network_error_labelled_network() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        async with AiohttpRequest(1) as request:
            with pytest.raises(NetworkError) as caught:
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert caught.value.message.startswith(CONNECTION_ERROR_PREFIX)
    assert result_label(caught.value) == "network"


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(bot: Bot) -> None:
    # The stand-in holds a long poll for 5 s with nothing to deliver.
    with pytest.raises(TimedOut):
        await bot.do_api_request("getUpdates", api_kwargs={"timeout": 5}, read_timeout=0.3)


def test_timeouts_default_to_the_requests_own_and_uploads_get_the_media_write_timeout() -> None:
    request = AiohttpRequest(
        2,
        read_timeout=20,
        write_timeout=5,
        connect_timeout=10,
        pool_timeout=1,
        media_write_timeout=60,
    )
    unset = AiohttpRequest.DEFAULT_NONE
    plain = request._timeout(False, unset, unset, unset, unset)
    assert (plain.sock_read, plain.sock_connect, plain.connect, plain.total) == (20, 10, 11, 36)
    upload = request._timeout(True, unset, unset, unset, unset)
    assert upload.total == 20 + 60 + 10 + 1
    poll = request._timeout(False, 35, unset, unset, unset)
    assert (poll.sock_read, poll.total) == (35, 51)
    unbounded = request._timeout(False, None, unset, unset, unset)
    assert (unbounded.sock_read, unbounded.total) == (None, None)
