"""Bot API requests over aiohttp: python-telegram-bot's request interface, a cheaper client.

PTB's default transport (httpx) spends about ten times the CPU of aiohttp's client per
request on this machine (1.2 ms against 0.13 ms for a small POST to a local server; httpcore
also retries a failing ``import sniffio`` on every request). The bot makes two to three Bot
API calls per update, so the transport was most of its CPU per update: see the answers
benchmark in the README. PTB accepts any :class:`~telegram.request.BaseRequest`; this one
keeps PTB's behaviour where it shows:

- the same form encoding (JSON for non-string values) and multipart uploads;
- PTB's status handling and JSON parsing (:meth:`BaseRequest.post` wraps ``do_request``);
- timeouts: ``connect`` and ``read`` as given, the wait for a pooled connection counted
  with the connect time, and the whole request bounded by the sum of the four (aiohttp has
  no separate write timeout);
- errors: :class:`~telegram.error.TimedOut` for timeouts, :class:`~telegram.error.NetworkError`
  whose message starts with ``aiohttp.`` for failed connections (the sender's metrics tell
  those from 5xx answers by that prefix).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

import aiohttp

# Where PTB keeps the type of its "argument not given" marker (its own HTTPXRequest uses it).
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

#: The prefix of a NetworkError's message when the request never got an HTTP answer.
CONNECTION_ERROR_PREFIX = "aiohttp."


def _ssl_context() -> ssl.SSLContext:
    """Verify certificates against certifi's bundle when it is installed (as httpx did),
    else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with python-telegram-bot's httpx
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout passed to the call, else this request's default."""
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """One pool of keep-alive connections to the Bot API server, made on first use."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 64,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the connection pool (in the running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=_ssl_context())
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        """Close the pool's connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(
        self,
        files: bool,
        read: ODVInput[float],
        write: ODVInput[float],
        connect: ODVInput[float],
        pool: ODVInput[float],
    ) -> aiohttp.ClientTimeout:
        read_s = _given(read, self._read_timeout)
        write_s = _given(write, self._media_write_timeout if files else self._write_timeout)
        connect_s = _given(connect, self._connect_timeout)
        pool_s = _given(pool, self._pool_timeout)
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p or 0.0 for p in parts)
        waiting = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect_s, sock_read=read_s
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; the status and the body (PTB interprets both)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            assert request_data is not None
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None and request_data.parameters:
            body = request_data.url_encoded_parameters().encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        timeout = self._timeout(
            bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's connect and read timeouts are TimeoutErrors
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"{CONNECTION_ERROR_PREFIX}{exc.__class__.__name__}: {exc}") from exc
