"""The built-in HTTP activity behind ``context.call_http`` (protocol doc §1.5, CallHttp).

The orchestrator gets the extension's DurableHttpResponse shape: ``{"statusCode", "headers", "content"}``.
Managed-identity token sources cannot be honoured locally; such calls fail with a clear message.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from devhost.runtime.invoker import ActivityFailed


async def call_http(request_text: str | None) -> str:
    request: dict[str, Any] = json.loads(request_text or "{}")
    if request.get("tokenSource"):
        raise ActivityFailed("call_http with a managed-identity token source is not supported by devhost.", None)
    content = request.get("content")
    headers = request.get("headers") or {}
    try:
        async with aiohttp.ClientSession() as session:
            async with session.request(request.get("method", "GET"), request["uri"], data=content, headers=headers) as response:
                body = await response.text()
                out_headers: dict[str, Any] = {}
                for key, value in response.headers.items():
                    out_headers.setdefault(key, []).append(value)
                payload = {
                    "statusCode": response.status,
                    "headers": {k: v[0] if len(v) == 1 else v for k, v in out_headers.items()},
                    "content": body,
                }
    except (aiohttp.ClientError, KeyError, ValueError) as exc:
        raise ActivityFailed(f"Activity function '{'BuiltIn::HttpActivity'}' failed: {exc}", None) from exc
    return json.dumps(payload)
