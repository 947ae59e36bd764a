"""Hostile HTTP requests, generated from a ``random.Random`` over a table of every route a running host serves.

The route table is read from the host itself — the aiohttp router's resources (the Durable API on both bases,
``/admin``, the dashboard under ``/_devhost/`` and whatever else is added later), the Durable API's sub-routes,
and the app's HTTP functions from the registry — so a new route is covered without touching this module.
Values are chosen to hurt: numbers past the int-string limit, escaped and raw lone surrogates, bytes that are no
UTF-8, deep JSON, charsets that are no text encoding, forged continuation tokens, broken Host headers, foreign
Origins. Used by the hypothesis test (``st.randoms()`` drives it) and by ``benchmarks/hostile_soak.py``.
"""

from __future__ import annotations

import base64
import json
import random
import re
from dataclasses import dataclass, field

from aiohttp import web

from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH
from devhost.runtime.registry import FunctionRegistry

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
DURABLE_TAILS = (
    "orchestrators/{name}",
    "orchestrators/{name}/{id}",
    "instances",
    "instances/{id}",
    "instances/{id}/terminate",
    "instances/{id}/suspend",
    "instances/{id}/resume",
    "instances/{id}/rewind",
    "instances/{id}/restart",
    "instances/{id}/raiseEvent/{name}",
    "entities/{name}/{id}",
    "entities/{name}",
    "{id}",
)
PARAMS = (
    "top",
    "runtimeStatus",
    "createdTimeFrom",
    "createdTimeTo",
    "instanceIdPrefix",
    "showHistory",
    "showHistoryOutput",
    "showInput",
    "returnInternalServerErrorOnFailure",
    "reason",
    "restartWithNewInstanceId",
    "version",
    "taskHub",
    "connection",
    "code",
    "op",
    "jobId",
)
CHARSETS = ("utf-8", "latin-1", "hex", "uu", "base64", "rot13", "punycode", "utf-16", "unicode_escape", "bogus", "")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Route:
    template: str
    """A path with ``{...}`` placeholders, filled per request."""
    methods: tuple[str, ...] = METHODS


@dataclass
class HostileRequest:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def wire(self, authority: str) -> bytes:
        fields = {"Host": authority, "Connection": "close", **self.headers}
        if self.body or self.method in ("POST", "PUT", "PATCH", "DELETE"):
            fields.setdefault("Content-Length", str(len(self.body)))
        head = f"{self.method} {self.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        return head.encode("utf-8", "surrogateescape") + self.body


def router_paths(app: web.Application) -> list[str]:
    """The canonical path of every resource on ``app``'s router (placeholders as ``{name}``)."""
    return [resource.canonical for resource in app.router.resources()]


def route_table(paths: list[str], registry: FunctionRegistry, route_prefix: str) -> list[Route]:
    """Every route: the router's ``paths``, the Durable API's sub-routes on both bases, the app's HTTP functions."""
    routes: list[Route] = []
    for canonical in paths:
        routes.append(Route(canonical))
        routes.append(Route(_PLACEHOLDER.sub("{id}", canonical) + "/{id}"))
    for base in (WEBHOOK_BASE_PATH, RPC_BASE_PATH):
        routes.extend(Route(f"{base}/{tail}") for tail in DURABLE_TAILS)
    prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""
    for function in registry.http:
        methods = tuple(sorted(function.methods)) if function.methods else METHODS
        routes.append(Route(f"{prefix}/{function.route.strip('/')}", methods))
    return routes


def hostile_text(rng: random.Random) -> str:
    kind = rng.randrange(14)
    if kind == 0:
        return "9" * rng.choice((11, 300, 4301, 5000))
    if kind == 1:
        return "-" + "1" * rng.choice((20, 4400))
    if kind == 2:
        return "\\ud800"  # an escaped lone surrogate, as JSON or as plain text
    if kind == 3:
        return "\udcff\udcfe"  # raw bytes 0xff 0xfe on the wire: no UTF-8
    if kind == 4:
        return "x" * rng.choice((1, 256, 257, 3000))
    if kind == 5:
        return rng.choice(("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2030-02-30", "NaN", "Infinity"))
    if kind == 6:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 12)))
    if kind == 7:
        return rng.choice(("%00", "%ED%A0%80", "%2F", "%", "%zz", "..", "../..", "@", "#", "?"))
    if kind == 8:
        return rng.choice(("Running", "Completed,Failed", "0,1,2,3,4,5,6,7", "-1", "8", " Pending "))
    if kind == 9:
        return rng.choice(("true", "TRUE", "false", "1", "", " "))
    if kind == 10:
        return str(rng.randrange(-(2**40), 2**40))
    if kind == 11:
        return "\t\x01\x7f"
    if kind == 12:
        return "monitoring_job_orchestrator"
    return f"job-{rng.randrange(10)}"


def _path_text(rng: random.Random) -> str:
    text = hostile_text(rng)
    # Placeholders get percent-encoded text (raw bytes stay raw); a few go in unencoded to stress the router.
    if rng.random() < 0.2:
        return text.replace(" ", "%20").replace("\r", "").replace("\n", "")
    return "".join(c if c.isalnum() or c in "-_.~" else "".join(f"%{b:02X}" for b in _utf8(c)) for c in text)


def _utf8(char: str) -> bytes:
    return char.encode("utf-8", "surrogateescape") if "\udc80" <= char <= "\udcff" else char.encode("utf-8", "surrogatepass")


def _token(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        payload = "[" * rng.choice((50, 3000)) + "]" * 10
    elif kind == 1:
        payload = json.dumps([hostile_text(rng), hostile_text(rng)])
    elif kind == 2:
        payload = '["2030-01-01T12:00:00.000000+00:00", "\\ud800"]'
    elif kind == 3:
        payload = json.dumps(["0001-01-01T00:00:00.000000+05:00", "x"])
    elif kind == 4:
        return hostile_text(rng).replace("\r", "").replace("\n", "")
    else:
        payload = json.dumps({"a": 1})
    return base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass")).decode("ascii")


def _body(rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return b""
    if kind == 1:
        return rng.randbytes(rng.randrange(1, 200))
    if kind == 2:
        return b'{"job_id": "' + hostile_text(rng).encode("utf-8", "surrogateescape") + b'"}'
    if kind == 3:
        return b"[" * rng.choice((10, 5000)) + b"]" * 10
    if kind == 4:
        return b'"\\ud800"'
    if kind == 5:
        return json.dumps({"job_id": f"job-{rng.randrange(10)}", "polling_interval_seconds": hostile_text(rng)}).encode()
    if kind == 6:
        return b"NaN"
    return b"\xef\xbb\xbf{}"


def _clean_header(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


def hostile_request(rng: random.Random, routes: list[Route]) -> HostileRequest:
    route = rng.choice(routes)
    method = rng.choice(route.methods) if rng.random() < 0.8 else rng.choice(METHODS)
    path = _PLACEHOLDER.sub(lambda _: _path_text(rng), route.template)
    if not path.startswith("/"):
        path = "/" + path
    params = [(rng.choice(PARAMS), hostile_text(rng)) for _ in range(rng.randrange(0, 5))]
    query = "&".join(f"{name}={_path_text_value(value)}" for name, value in params)
    target = path + ("?" + query if query else "")
    headers: dict[str, str] = {}
    if rng.random() < 0.5:
        charset = rng.choice(CHARSETS)
        headers["Content-Type"] = "application/json" + (f"; charset={charset}" if charset else "")
    if rng.random() < 0.3:
        headers["x-ms-continuation-token"] = _token(rng)
    if rng.random() < 0.1:
        headers["Host"] = rng.choice(("127.0.0.1:-1", "[::1", "a b", "", "x:99999", "[::1]:1", "localhost"))
    if rng.random() < 0.15:
        headers["Origin"] = rng.choice(("https://evil.example", "null", "http://127.0.0.1:1"))
    if rng.random() < 0.05:
        headers["X-Noise"] = _clean_header(hostile_text(rng))
    return HostileRequest(method, target, {k: _clean_header(v) for k, v in headers.items()}, _body(rng))


def _path_text_value(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.~,: " else "".join(f"%{b:02X}" for b in _utf8(c)) for c in text).replace(" ", "+")
