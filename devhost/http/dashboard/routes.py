"""Routes of the dashboard: its two pages, its static files, and the JSON reads the pages make.

Every answer of ``/_devhost/api/...`` is JSON; bad input (unknown parameter, bad status name, bad time,
page size out of range, foreign cursor) is a 400 ``{"error": "bad_request", "message": ...}``, an unknown
instance or path a 404 of the same shape. Reads go through :mod:`devhost.service.queries` and
:mod:`devhost.service.history_view`; the ones that grow with the data (list scans, long histories) run on a
worker thread, so a 5,000-event history does not hold up the host's event loop (the store serialises access).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from devhost.clock import Clock, VirtualClock
from devhost.core.errors import BadRequest, DevhostError, NotFound
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.service import history_view, queries
from devhost.store.base import Store

BASE_PATH = "/_devhost"
WEBHOOKS = WEBHOOK_BASE_PATH
STATIC_DIR = Path(__file__).resolve().parent / "static"
_CONTENT_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_LIST_PARAMETERS = frozenset({"status", "name", "prefix", "from", "to", "q", "waiting", "top", "cursor"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(
    app: web.Application,
    *,
    store: Callable[[], Store],
    clock: Clock,
    orchestrators: Callable[[], Iterable[str]],
    hub_name: str,
    version: str,
) -> None:
    """Mount the dashboard on ``app``. ``store`` is called per request (the host opens its store after
    building routes in some setups); ``orchestrators`` lists the names the Start form offers."""

    def now() -> Any:
        return clock.now()

    async def info(request: web.Request) -> web.Response:
        _only(request, frozenset())
        return _json(
            {
                "now": queries.iso(now()),
                "virtualTime": isinstance(clock, VirtualClock),
                "hub": hub_name,
                "version": version,
                "orchestrators": sorted(orchestrators()),
                "webhooks": WEBHOOKS,
            }
        )

    async def list_instances(request: web.Request) -> web.Response:
        q = _only(request, _LIST_PARAMETERS)
        statuses = frozenset(
            queries.parse_status(part) for value in q.getall("status", []) for part in value.split(",") if part.strip()
        )
        flt = queries.ListFilter(
            statuses=statuses,
            name=q.get("name") or None,
            id_prefix=q.get("prefix") or None,
            created_from=queries.parse_time(q["from"], "from") if q.get("from") else None,
            created_to=queries.parse_time(q["to"], "to") if q.get("to") else None,
            custom_text=q.get("q") or None,
            waiting_on=q.get("waiting") or None,
        )
        if flt.waiting_on and flt.waiting_on not in queries.WAITING_KINDS:
            raise BadRequest(f"waiting must be one of {', '.join(queries.WAITING_KINDS)}, got {flt.waiting_on!r}")
        if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
            raise BadRequest("'from' is after 'to'")
        size = queries.parse_page_size(q.get("top"), queries.DEFAULT_PAGE_SIZE, queries.MAX_PAGE_SIZE)
        opened, at = store(), now()
        page = await asyncio.to_thread(
            queries.list_page,
            opened,
            flt,
            size,
            q.get("cursor") or None,
            lambda instance: history_view.pending_kinds(opened, instance.instance_id, at),
        )
        return _json(
            {
                "instances": page.items,
                "nextCursor": page.next_cursor,
                "scanned": page.scanned,
                "complete": page.complete,
                "now": queries.iso(now()),
            }
        )

    async def instance(request: web.Request) -> web.Response:
        _only(request, frozenset())
        return _json(queries.instance_detail(store(), request.match_info["id"], now()))

    async def history(request: web.Request) -> web.Response:
        q = _only(request, frozenset({"offset", "limit", "last"}))
        if "last" in q and ("offset" in q or "limit" in q):
            raise BadRequest("give either 'last' (the latest events) or 'offset'/'limit', not both")
        if "last" in q:
            last = queries.parse_page_size(q["last"], 100, history_view.MAX_HISTORY_PAGE)
            return _json(
                await asyncio.to_thread(
                    history_view.history_page, store(), request.match_info["id"], now(), limit=last, last=True
                )
            )
        offset = _whole(q.get("offset"), "offset", 0)
        limit = queries.parse_page_size(q.get("limit"), 100, history_view.MAX_HISTORY_PAGE)
        return _json(await asyncio.to_thread(history_view.history_page, store(), request.match_info["id"], now(), offset, limit))

    async def history_event(request: web.Request) -> web.Response:
        _only(request, frozenset())
        position = _whole(request.match_info["index"], "event index", 0)
        return _json(await asyncio.to_thread(history_view.history_event, store(), request.match_info["id"], position, now()))

    async def timeline(request: web.Request) -> web.Response:
        _only(request, frozenset())
        return _json(await asyncio.to_thread(history_view.timeline, store(), request.match_info["id"], now()))

    async def list_page(request: web.Request) -> web.StreamResponse:
        return _file("index.html")

    async def instance_page(request: web.Request) -> web.StreamResponse:
        return _file("instance.html")

    async def static(request: web.Request) -> web.StreamResponse:
        return _file(request.match_info["name"])

    async def root(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(BASE_PATH + "/")

    async def unknown(request: web.Request) -> web.StreamResponse:
        raise NotFound(f"no dashboard resource at {request.path}")

    api = BASE_PATH + "/api"
    routes = [
        (api + "/info", info),
        (api + "/instances", list_instances),
        (api + "/instances/{id}", instance),
        (api + "/instances/{id}/history", history),
        (api + "/instances/{id}/history/{index}", history_event),
        (api + "/instances/{id}/timeline", timeline),
        (BASE_PATH, root),
        (BASE_PATH + "/", list_page),
        (BASE_PATH + "/instances/{id}", instance_page),
        (BASE_PATH + "/static/{name}", static),
        (BASE_PATH + "/{tail:.*}", unknown),
    ]
    for path, handler in routes:
        app.router.add_get(path, _guarded(handler))

    async def read_only(request: web.Request) -> web.StreamResponse:
        # The dashboard's own routes only read; actions go to the public Durable HTTP API.
        return _json(
            {
                "error": "method_not_allowed",
                "message": f"{request.method} is not allowed here: the dashboard API "
                f"only reads (GET); actions go to {WEBHOOKS}/...",
            },
            status=405,
            headers={"Allow": "GET, HEAD"},
        )

    app.router.add_route("*", BASE_PATH + "/{tail:.*}", read_only)
    app.router.add_route("*", BASE_PATH, read_only)


def _guarded(handler: Handler) -> Handler:
    """Devhost errors and anything unexpected become JSON (4xx for the caller's mistakes), never a bare 500."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except BadRequest as exc:
            return _json({"error": "bad_request", "message": str(exc)}, status=400)
        except NotFound as exc:
            return _json({"error": "not_found", "message": str(exc)}, status=404)
        except DevhostError as exc:
            return _json({"error": "conflict", "message": str(exc)}, status=409)

    return run


def _only(request: web.Request, allowed: frozenset[str]) -> Any:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        raise BadRequest(f"unknown query parameter {unknown[0]!r} (accepted: {accepted})")
    return request.query


def _whole(text: str | None, what: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{what} {text!r} is not a whole number") from None
    if value < 0:
        raise BadRequest(f"{what} must not be negative, got {value}")
    return value


@functools.cache
def _shipped() -> frozenset[str]:
    """The names of the files shipped in static/ that may be served (they never change while the host runs)."""
    return frozenset(path.name for path in STATIC_DIR.iterdir() if path.is_file() and path.suffix in _CONTENT_TYPES)


def _file(name: str) -> web.StreamResponse:
    # Only the names of files shipped in static/: the request's text never reaches the file system (no
    # traversal, and no OSError for a name the file system refuses, e.g. longer than NAME_MAX).
    if name not in _shipped():
        raise NotFound(f"no dashboard file {name[:100]!r}")
    path = STATIC_DIR / name
    return web.Response(
        body=path.read_bytes(),
        content_type=_CONTENT_TYPES[path.suffix],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store", **(headers or {})})
