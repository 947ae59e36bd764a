"""The public Durable HTTP API surface: ``{host}/runtime/webhooks/durabletask/...`` (API notes B).

What users (curl, the 202 links, ``statusQueryGetUri``) call. The handlers are shared with the RPC base.
"""

from __future__ import annotations

from aiohttp import web

from devhost.http.instances import DurableApi
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.service.management import Management


def add_routes(app: web.Application, management: Management, *, base_path: str = WEBHOOK_BASE_PATH) -> None:
    """Serve the Durable HTTP API under ``base_path``; 202 links point back at this same base."""
    DurableApi(management, links_base_path=base_path).mount(app, base_path)
