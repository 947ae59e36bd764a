"""Where the Durable HTTP API is served: the public webhook base and the SDK's RPC base (API notes B.1,
protocol doc §3.1). Constants only, so clients (the test kit, the CLI banner) can name them without aiohttp."""

from __future__ import annotations

WEBHOOK_BASE_PATH = "/runtime/webhooks/durabletask"
"""The public base: what curl, the 202 links and ``statusQueryGetUri`` use."""

RPC_BASE_PATH = "/durabletask"
"""The SDK client's ``rpcBaseUrl`` path (the client appends ``orchestrators/...``, so the URL ends with "/")."""
