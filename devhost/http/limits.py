"""Bounds on every request the host serves, whatever its route: URL, query, headers, Host, body size and body rate.

The Functions host runs on Kestrel behind the Functions runtime; devhost copies their limits so an app sees the
same refusals locally that it would in Azure, and so nothing a client sends can make the host use unbounded memory
or hold a connection forever:

- URL (path and query) at most 4,096 bytes — the Functions HTTP trigger's documented limit ("the URL length is
  limited to 4 KB", Azure Functions HTTP trigger docs, *Limits*) — else 414;
- at most 1,024 query parameters (ASP.NET Core's ``FormOptions.ValueCountLimit``) — else 400;
- at most 100 header fields, each line at most 8,190 bytes, 32 KB in all (Kestrel's ``MaxRequestHeaderCount`` and
  ``MaxRequestHeadersTotalSize``; aiohttp's parser enforces the first two itself with a 400) — else 431;
- a ``Host`` header that is a valid RFC 3986 authority (Kestrel refuses others with 400 "Invalid Host header");
  links in responses are built from it, so a bad one must not get past the door;
- a path and query of UTF-8 text (the parser keeps other bytes as lone surrogates, which nothing downstream can
  encode) — else 400;
- a body no bigger than the route's cap (the Durable API's 16 MB, the app's 100 MB ``maxRequestLength``) — else
  413 — arriving at 240 bytes/s or better after a 5 s grace (Kestrel's ``MinRequestBodyDataRate``) — else 408 and
  the connection is closed;
- a complete request head within 30 s of the connection opening or of its previous response (Kestrel's
  ``RequestHeadersTimeout``), enforced by aiohttp's keep-alive timer, which is armed then and not pushed back by
  data arriving: a client trickling its headers is cut off when it fires.

The body is read here, once, under those bounds; handlers then get it from ``request.read()`` (aiohttp caches it).
Network deadlines run on the event loop's own timer, never on the host's Clock: a virtual clock that skips hours
must not cut off a client that is merely slow in real time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from devhost.http import params
from devhost.http.errors import error_body, json_response
from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class HttpLimits:
    max_url_bytes: int = 4096
    max_query_params: int = 1024
    max_header_count: int = 100
    max_header_line_bytes: int = 8190
    max_headers_total_bytes: int = 32 * 1024
    header_timeout_seconds: float = 30.0
    body_grace_seconds: float = 5.0
    min_body_bytes_per_second: float = 240.0
    lingering_seconds: float = 2.0

    def runner_options(self) -> dict[str, Any]:
        """Keyword arguments for ``web.AppRunner`` / ``web.Server``: the parser's limits and the head timeout."""
        return {
            "max_line_size": self.max_header_line_bytes,
            "max_field_size": self.max_header_line_bytes,
            "max_headers": self.max_header_count,
            "keepalive_timeout": self.header_timeout_seconds,
            # After refusing a body, read what is still coming for this long before closing (so the client sees
            # the answer rather than a reset), not aiohttp's default 10 s.
            "lingering_time": self.lingering_seconds,
            "logger": PROTOCOL_LOG,
        }


LIMITS: web.AppKey[HttpLimits] = web.AppKey("devhost.http_limits", HttpLimits)


class _MalformedRequestFilter(logging.Filter):
    """aiohttp logs every request its parser refuses (a 400 it answers itself) at ERROR with a traceback; that is
    the client's fault, and a client could fill the log with it. Kestrel logs bad request data at Debug; so do we,
    in one line. Errors that are not the client's pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= (exc.code or 400) < 500:
            record.msg, record.args = "refused a malformed request: %s", (exc.message,)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return PROTOCOL_LOG.isEnabledFor(logging.DEBUG)  # the logger's own level check ran for ERROR
        return True


PROTOCOL_LOG = logging.getLogger("devhost.http.protocol")
PROTOCOL_LOG.addFilter(_MalformedRequestFilter())

_DURABLE_BASES = tuple(base.lower() + "/" for base in (WEBHOOK_BASE_PATH, RPC_BASE_PATH))
# RFC 3986 reg-name / IPv4 (unreserved and sub-delims, percent-encodings) and an optional port of digits.
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%]*")
_PORT = re.compile(r"\d{0,5}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):
    """A request outside the bounds: answered with ``status`` and a JSON body naming the bound."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


def install(app: web.Application, limits: HttpLimits) -> None:
    """Bound every route of ``app`` (call before any other middleware is added: this one must be outermost)."""
    app[LIMITS] = limits
    app.middlewares.insert(0, limits_middleware)


def runner_options(app: web.Application) -> dict[str, Any]:
    """The runner options matching the limits installed on ``app`` (defaults when none were)."""
    return app.get(LIMITS, HttpLimits()).runner_options()


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limits = request.app.get(LIMITS, HttpLimits())
    try:
        check_head(request, limits)
        if request.body_exists:
            await read_bounded_body(request, body_cap(request), limits)
    except Refused as refused:
        response = json_response(error_body(str(refused)), refused.status)
        if refused.close:
            response.force_close()
        return response
    return await handler(request)


def check_head(request: web.Request, limits: HttpLimits) -> None:
    """The request line and headers against ``limits``; raises :class:`Refused`."""
    raw_url = request.rel_url.raw_path_qs
    if len(raw_url.encode("utf-8", "surrogateescape")) > limits.max_url_bytes:
        raise Refused(414, f"The request URL is longer than the {limits.max_url_bytes} bytes this host accepts.")
    if _SURROGATE.search(request.path) or _SURROGATE.search(request.query_string):
        raise Refused(400, "The request URL is not valid UTF-8 text.")
    if len(request.query) > limits.max_query_params:
        raise Refused(400, f"The request has more than the {limits.max_query_params} query parameters this host accepts.")
    total = sum(len(name) + len(value) + 4 for name, value in request.raw_headers)
    if total > limits.max_headers_total_bytes:
        raise Refused(431, f"The request headers are larger than the {limits.max_headers_total_bytes} bytes this host accepts.")
    host = request.headers.get("Host")
    if host is not None and not valid_authority(host):
        raise Refused(400, f"Invalid Host header: {host[:100]!r}.")


def valid_authority(text: str) -> bool:
    """``host[:port]`` as RFC 3986 allows it in a Host header (no userinfo), with a port of at most 65535."""
    host, port = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return False
        literal, rest = text[1:end], text[end + 1 :]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
        if rest and not rest.startswith(":"):
            return False
        port = rest[1:]
        host = literal
    elif ":" in text:
        host, port = text.rsplit(":", 1)
        if not host or ":" in host:
            return False
    elif not text:
        return False
    if not text.startswith("[") and not _REG_NAME.fullmatch(host):
        return False
    return bool(_PORT.fullmatch(port)) and (port == "" or int(port) <= 65535)


def body_cap(request: web.Request) -> int:
    """The body cap of the route ``request`` is for: the Durable API's, or the application's (the app routes)."""
    path = request.path.lower() + "/"
    if path.startswith(_DURABLE_BASES):
        return params.MAX_BODY_BYTES
    return request.app._client_max_size  # the Application's own cap (aiohttp has no public accessor)


async def read_bounded_body(request: web.Request, cap: int, limits: HttpLimits) -> bytes:
    """Read the whole body under ``cap`` and the minimum data rate, and leave it where ``request.read()`` finds it."""
    declared = request.content_length
    if declared is not None and declared > cap:
        raise Refused(413, f"The request body is larger than the {cap} bytes this API accepts.", close=True)
    chunks: list[bytes] = []
    size = 0
    try:
        # Each byte buys 1/rate seconds on top of the grace period: Kestrel's MinRequestBodyDataRate in one deadline.
        async with asyncio.timeout(limits.body_grace_seconds) as deadline:
            while True:
                chunk = await request.content.readany()
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise Refused(413, f"The request body is larger than the {cap} bytes this API accepts.", close=True)
                chunks.append(chunk)
                when = deadline.when()
                assert when is not None
                deadline.reschedule(when + len(chunk) / limits.min_body_bytes_per_second)
    except TimeoutError:
        raise Refused(408, "The request body arrived too slowly.", close=True) from None
    except RequestPayloadError as exc:  # a broken chunked encoding, a body cut short
        raise Refused(400, f"The request body is malformed: {exc}.", close=True) from None
    body = b"".join(chunks)
    # aiohttp's read() returns this cache when set; handlers, the dashboard and request.json() all go through it.
    request._read_bytes = body
    request[params.BODY_READ] = True
    return body
