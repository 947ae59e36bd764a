"""The SDK's RPC surface: ``rpcBaseUrl`` = ``http://127.0.0.1:{port}/durabletask/`` (protocol doc §3.1-3.3).

azure-functions-durable's client calls ``{rpcBaseUrl}orchestrators/...`` and ``{rpcBaseUrl}instances/...``. The
extension answers those with the same handler as the public webhooks, so this surface is the same API mounted
at another path; the links in its 202 bodies still use the public webhook path, as the extension's do.
"""

from __future__ import annotations

from aiohttp import web

from devhost.http.instances import DurableApi
from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH
from devhost.service.management import Management


def add_routes(
    app: web.Application,
    management: Management,
    *,
    base_path: str = RPC_BASE_PATH,
    webhook_base_path: str = WEBHOOK_BASE_PATH,
) -> None:
    """Serve the Durable HTTP API for the SDK client under ``base_path``."""
    DurableApi(management, links_base_path=webhook_base_path).mount(app, base_path)
