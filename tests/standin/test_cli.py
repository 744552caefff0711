"""``python -m standin`` serves until stopped."""

from __future__ import annotations

import asyncio
import socket
import sys

import aiohttp
import pytest

#: Runs a child process of its own.
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_cli_serves_get_me() -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "standin",
        "--port",
        str(port),
        "--token",
        "42:abc",
        "--bot-username",
        "cli_bot",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        assert f"http://127.0.0.1:{port}/bot" in line.decode()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/bot42:abc/getMe") as response,
        ):
            body = await response.json()
        assert body["result"]["username"] == "cli_bot" and body["result"]["id"] == 42
    finally:
        process.terminate()
        await process.wait()
