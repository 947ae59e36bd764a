"""The one aiohttp Application a host serves: request bounds, CORS and the cross-site guard, error mapping, admin
status, the Durable HTTP API on both its bases (public webhooks and the SDK's RPC base), the app's own HTTP
functions, and the dashboard (``/_devhost/``)."""

from __future__ import annotations

from typing import Any, Callable

from aiohttp import web

import devhost
from devhost.http import app_routes, cors, dashboard, errors, limits, links, rpc, webhooks
from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH
from devhost.runtime.config import HostSettings
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry
from devhost.service.management import Management


def build_application(
    *,
    registry: FunctionRegistry,
    invoker: Invoker,
    management: Management,
    settings: HostSettings,
    rpc_base: Callable[[], str],
    status: Callable[[], dict[str, Any]],
    http_limits: limits.HttpLimits | None = None,
    loopback_only: bool = True,
) -> web.Application:
    """One Application: error mapping, admin status, public webhooks, the SDK's RPC base, the app's routes.

    ``rpc_base`` gives the RPC base URL the SDK client in HTTP functions is handed (known once bound);
    ``status`` the host's state for ``/admin/host/status`` (503 unless Running). Every route, the ones added
    later included, is behind the request bounds (``http_limits``), the CORS policy of local.settings.json and
    the cross-site guard (``loopback_only``: the host listens on loopback only, see :mod:`devhost.http.cors`); serve
    it with ``limits.runner_options(app)`` so the parser enforces its part.
    """
    app = web.Application(client_max_size=app_routes.MAX_REQUEST_BODY)
    limits.install(app, http_limits or limits.HttpLimits())
    cors.install(app, cors.CorsPolicy.of(settings.cors_origins, settings.cors_credentials), loopback_only=loopback_only)
    errors.install(app)

    async def host_status(request: web.Request) -> web.Response:
        body = status()
        return web.json_response(body, status=200 if body["state"] == "Running" else 503)

    def binding_json(request: web.Request) -> str:
        # Links point where the caller came from (the extension uses the request's host too).
        base_url = f"{request.scheme}://{request.host}{WEBHOOK_BASE_PATH}"
        return links.client_binding_json(base_url, rpc_base(), settings.hub_name)

    app.router.add_get("/admin/host/status", host_status)
    webhooks.add_routes(app, management, base_path=WEBHOOK_BASE_PATH)
    rpc.add_routes(app, management, base_path=RPC_BASE_PATH)
    app_routes.add_routes(app, registry, invoker, route_prefix=settings.route_prefix, binding_json=binding_json)
    dashboard.add_routes(
        app,
        store=lambda: management.store,
        clock=management.clock,
        orchestrators=lambda: registry.orchestrators,
        hub_name=settings.hub_name,
        version=devhost.__version__,
    )
    return app
