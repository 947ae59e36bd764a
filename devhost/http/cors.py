"""Cross-origin rules: the CORS policy ``func start`` applies, and a refusal of cross-site state changes.

**CORS.** ``func start`` reads ``Host.CORS`` (origins, comma-separated, empty entries dropped) and
``Host.CORSCredentials`` from local.settings.json (``--cors`` / ``--cors-credentials`` override them) and, only when
origins are given, puts ASP.NET Core's CORS middleware in front of the whole host with
``WithOrigins(origins).AllowAnyHeader().AllowAnyMethod()`` plus ``AllowCredentials()`` when asked
(azure-functions-core-tools, src/Azure.Functions.Cli/Actions/HostActions/Startup.cs, ``Startup`` constructor and
``Configure``; StartHostAction.cs, ``ParseArgs``). That middleware (ASP.NET Core ``CorsMiddleware`` /
``CorsService``) behaves as this module does: a request without ``Origin`` passes untouched; a preflight
(``OPTIONS`` with ``Access-Control-Request-Method``) is answered 204 right there, with the allow headers only when
the origin is allowed; an actual request from an allowed origin gets ``Access-Control-Allow-Origin`` (``*`` for the
wildcard without credentials, else the origin and ``Vary: Origin``) and ``Access-Control-Allow-Credentials``, one
from another origin runs without them (the browser then hides the answer from the page).

**Cross-site state changes.** CORS only hides answers: a page on any site can still *send* a form POST to
``localhost``. So a state-changing request (any method but GET, HEAD, OPTIONS) to the host's own surfaces — the
Durable HTTP API on both bases, ``/admin/`` and the dashboard under ``/_devhost/`` — is refused with 403 when the
browser says it comes from another origin (an ``Origin`` that is neither the host's own nor allowed by the CORS
policy, or ``Sec-Fetch-Site: cross-site``/``same-site``). curl, the SDK client and other non-browser clients send
neither header and are not affected. The app's own routes are left to the app, as in the Functions host.

**DNS rebinding.** A page on ``http://evil.example:7071`` whose name an attacker re-points at 127.0.0.1 is, to the
browser, the host's own origin. So while devhost listens on loopback only (the default), an own-origin state
change is accepted only when that origin names this machine by a loopback name (``localhost``, ``*.localhost``,
``127.0.0.0/8``, ``[::1]``); listening on another address, any name the host is reached by counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Callable

from aiohttp import web

from devhost.http.errors import error_body, json_response
from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOST_SURFACES = tuple(base.lower() + "/" for base in (WEBHOOK_BASE_PATH, RPC_BASE_PATH, "/admin", "/_devhost"))
"""Path prefixes of the host's own routes (lower case, with the trailing slash)."""


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...] = ()
    """Allowed origins, lower-cased as ``CorsPolicyBuilder.WithOrigins`` normalises them; ``*`` allows any."""
    credentials: bool = False

    @classmethod
    def of(cls, origins: Sequence[str], credentials: bool) -> CorsPolicy:
        return cls(tuple(origin.lower() for origin in origins), credentials)

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins


POLICY: web.AppKey[CorsPolicy] = web.AppKey("devhost.cors_policy", CorsPolicy)
LOOPBACK_ONLY: web.AppKey[bool] = web.AppKey("devhost.loopback_only", bool)


def install(app: web.Application, policy: CorsPolicy, *, loopback_only: bool = True) -> None:
    """Add the cross-site guard (always) and the CORS middleware (when ``policy`` names origins) to ``app``.

    ``loopback_only``: the host listens on a loopback address only, so its own origin must name it by a loopback
    name (the DNS-rebinding rule above)."""
    app[POLICY] = policy
    app[LOOPBACK_ONLY] = loopback_only
    app.middlewares.append(cross_site_middleware)
    if policy.enabled:
        app.middlewares.append(cors_middleware)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    policy = request.app[POLICY]
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    allowed = policy.allows(origin)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        preflight = web.Response(status=204)
        if allowed:
            _allow(preflight, policy, origin)
            preflight.headers["Access-Control-Allow-Methods"] = request.headers["Access-Control-Request-Method"]
            requested_headers = request.headers.get("Access-Control-Request-Headers")
            if requested_headers:
                preflight.headers["Access-Control-Allow-Headers"] = requested_headers
        return preflight
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if allowed:
            _allow(exc, policy, origin)
        raise
    if allowed and not response.prepared:
        _allow(response, policy, origin)
    return response


def _allow(response: web.StreamResponse, policy: CorsPolicy, origin: str) -> None:
    if policy.any_origin and not policy.credentials:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    if policy.credentials:
        response.headers["Access-Control-Allow-Credentials"] = "true"


@web.middleware
async def cross_site_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS and (request.path.lower() + "/").startswith(HOST_SURFACES):
        reason = cross_site_reason(request, request.app.get(POLICY, CorsPolicy()), request.app.get(LOOPBACK_ONLY, True))
        if reason is not None:
            return json_response(error_body(f"Cross-origin request refused: {reason}"), 403)
    return await handler(request)


def cross_site_reason(request: web.Request, policy: CorsPolicy, loopback_only: bool = True) -> str | None:
    """Why a browser sent ``request`` from a page of another site, or None if it did not (or no browser sent it)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        own = f"{request.scheme}://{request.host}".lower()
        if policy.enabled and policy.allows(origin.lower()):
            return None
        if origin.lower() == own:
            if loopback_only and not is_loopback_name(request.url.host or ""):
                return (
                    f"Origin {origin[:200]!r} names this host by {request.url.host!r}, not a loopback name, while devhost "
                    "listens on loopback only (a DNS-rebinding page); use http://localhost or http://127.0.0.1."
                )
            return None
        return f"Origin {origin[:200]!r} is not this host ({own}) nor allowed by Host.CORS in local.settings.json."
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    if fetch_site in ("cross-site", "same-site"):
        return f"the browser marked it Sec-Fetch-Site: {fetch_site}."
    return None


def is_loopback_name(hostname: str) -> bool:
    """``localhost``, a ``*.localhost`` name (RFC 6761 keeps them on this machine) or a loopback IP literal."""
    name = hostname.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
