"""``python -m standin``: serve the stand-in until interrupted (no simulated users)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from standin.limits import Limits
from standin.server import StandIn


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-token")
    parser.add_argument("--bot-username", default="nps_test_bot")
    parser.add_argument("--global-per-second", type=float, default=Limits.global_per_second)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    limits = Limits(global_per_second=args.global_per_second)
    async with StandIn(
        token=args.token,
        bot_username=args.bot_username,
        limits=limits,
        host=args.host,
        port=args.port,
    ) as server:
        print(
            f"stand-in serving: base_url={server.base_url} base_file_url={server.base_file_url}",
            flush=True,
        )
        await asyncio.Event().wait()


if __name__ == "__main__":
    main()
