"""The devhost dashboard: ``GET /_devhost/`` (pages and static files shipped inside this package, plain JS, no
build step, nothing fetched from elsewhere) and its read-only JSON API under ``/_devhost/api/``.

The pages change nothing through this API: their actions (terminate, raise event, suspend, resume, rewind,
restart, purge, start) call the public Durable HTTP API, as any client would.
"""

from devhost.http.dashboard.routes import BASE_PATH, add_routes

__all__ = ["BASE_PATH", "add_routes"]
