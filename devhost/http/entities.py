"""The Durable HTTP API's entity routes (``entities/{name}/{key}``), as the extension's ``HttpApiHandler.cs``
serves them (Azure/azure-functions-durable-extension a7c6d69, src/WebJobs.Extensions.DurableTask):

- route ``entities/{entityName?}/{entityKey?}`` (``GetEntityRoute``, line 144); an ArgumentException from the
  entity id or the client (empty name, bad key, unknown entity function) is a 400 (lines 314-345);
- ``GET entities/{name}/{key}``: 200 with the state as JSON, 404 with no body when the entity does not exist;
  key ``$`` means the empty key (``HandleGetEntityRequestAsync``, 1022-1044);
- ``POST`` (``?op=``, missing op = ``""``) or ``DELETE`` (op ``delete``): 202, no body. No body or
  Content-Length 0 means no input; an ``application/json`` body is parsed (400 "Could not parse JSON content:
  ..." if it is not JSON), any other body is the input as a string (``HandlePostEntityOperationRequestAsync``,
  1046-1092);
- ``GET entities[/{name}]``: 200 with ``[{entityId: {name, key}, lastOperationTime, state}]`` (``state`` only
  with ``fetchState=true``), filters ``lastOperationTimeFrom``/``lastOperationTimeTo``, page size ``top``, the
  ``x-ms-continuation-token`` header both ways (``HandleListEntitiesRequestAsync``, 513-551;
  ``DurableEntityStatus.cs``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from devhost.core.entities import EntityQuery, EntityRecord
from devhost.core.errors import BadRequest, NotFound
from devhost.http.errors import ApiBadRequest, empty_response, error_body, json_response
from devhost.http.params import decode_body, parse_bool, parse_datetime, parse_int, query_value, read_body
from devhost.http.payloads import decode_json_text, dotnet_datetime
from devhost.service.entities import EntityService

EMPTY_KEY_SYMBOL = "$"
DEFAULT_PAGE_SIZE = 100
_COMPACT = (",", ":")


class EntityApi:
    def __init__(self, service: EntityService) -> None:
        self.service = service

    async def dispatch(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        """``parts`` starts with ``entities``; at most a name and a key follow (else the route is unknown)."""
        if len(parts) > 3:
            raise NotFound(f"no Durable API route for {request.method} {request.path}")
        name = parts[1] if len(parts) > 1 else ""
        key = parts[2] if len(parts) > 2 else ""
        if request.method == "GET":
            if key:
                return self.read(name, key)
            return self.list(request, name or None)
        if request.method in ("POST", "DELETE"):
            return await self.signal(request, name, key)
        raise NotFound(f"no Durable API route for {request.method} {request.path}")

    def read(self, name: str, key: str) -> web.Response:
        record = self.service.read(name, "" if key == EMPTY_KEY_SYMBOL else key)
        if record is None:
            return empty_response(404)
        return json_response(decode_json_text(record.state), 200)

    async def signal(self, request: web.Request, name: str, key: str) -> web.Response:
        operation = "delete" if request.method == "DELETE" else (query_value(request, "op") or "")
        body = await read_body(request)
        input_text: str | None = None
        if body:
            text = decode_body(body, request.charset)
            if request.content_type.lower() == "application/json":
                input_text = json.dumps(_parse_json_content(text), separators=_COMPACT, ensure_ascii=False)
            else:
                input_text = json.dumps(text, ensure_ascii=False)  # the raw text, serialized as a JSON string
        self.service.signal(name, key, operation, input_text)
        return empty_response(202)

    def list(self, request: web.Request, name: str | None) -> web.Response:
        if name is not None and "@" in name:
            raise BadRequest(f"Invalid entity id: entity name must not contain '@' (got {name!r}).")
        top = parse_int(query_value(request, "top"))
        query = EntityQuery(
            name=name,
            last_modified_from=parse_datetime(query_value(request, "lastOperationTimeFrom")),
            last_modified_to=parse_datetime(query_value(request, "lastOperationTimeTo")),
            top=top if top is not None and top > 0 else DEFAULT_PAGE_SIZE,
            continuation_token=request.headers.get("x-ms-continuation-token") or None,
        )
        fetch_state = parse_bool(query_value(request, "fetchState"), False)
        page, token = self.service.list(query)
        body = [_entity_status(record, fetch_state) for record in page]
        return json_response(body, 200, headers={"x-ms-continuation-token": token or ""})


def _parse_json_content(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        message = f"Could not parse JSON content: {exc}"
        # CreateErrorResponse(BadRequest, message): a message and no exception.
        raise ApiBadRequest(message, error_body(message)) from exc


def _entity_status(record: EntityRecord, fetch_state: bool) -> dict[str, Any]:
    name, _, key = record.entity_id[1:].partition("@")
    return {
        "entityId": {"name": name, "key": key},
        "lastOperationTime": dotnet_datetime(record.last_modified.isoformat()),
        "state": decode_json_text(record.state) if fetch_state else None,
    }
