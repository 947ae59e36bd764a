"""The Durable HTTP API handler, shared by the public webhooks and the SDK's RPC base (API notes B.1).

The extension serves both surfaces with one ``HttpApiHandler``: same routes, same codes, same bodies. So does
this module: :class:`DurableApi` mounts catch-all routes under a base path and dispatches on the path itself,
which gives the extension's routing rules — literal segments match case-insensitively (``/Instances/`` works),
leading/trailing slashes are ignored, and every unknown route or method is a 404 with an empty body (never a
405). Entity routes (``entities/...``) are :mod:`devhost.http.entities`; ``makeprimary`` is not implemented (404).

Query parameters ``taskHub``, ``connection`` and ``code`` are accepted and ignored: there is one hub, and links
always name it (a mismatching ``taskHub`` is not rejected).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import datetime
from typing import Callable
from urllib.parse import unquote

from aiohttp import web

from devhost.core.errors import BadRequest, NotFound, UnsupportedMediaType
from devhost.core.model import InstanceQuery, RuntimeStatus
from devhost.core.tracecontext import TRACEPARENT, TRACESTATE
from devhost.http import errors, links, payloads
from devhost.http.entities import EntityApi
from devhost.http.errors import ApiBadRequest, empty_response, json_response
from devhost.http.params import (
    decode_body,
    parse_bool,
    parse_datetime,
    parse_int,
    parse_json,
    parse_seconds,
    parse_statuses,
    query_value,
    query_values,
    read_body,
)
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.service.entities import EntityService
from devhost.service.management import MISSING, Management

START_RETRY_AFTER = "10"
STATUS_RETRY_AFTER = "5"
DEFAULT_PAGE_SIZE = 100


class DurableApi:
    """The API's request handlers over one :class:`Management`.

    ``links_base_path`` is the public webhook base used in the links of 202 responses. Like the extension,
    the links take the scheme and host of the request they answer and the webhook path, whichever surface
    served the request — here both surfaces share the server, so the links work from either.
    """

    def __init__(self, management: Management, *, links_base_path: str = WEBHOOK_BASE_PATH) -> None:
        self.management = management
        self.links_base_path = "/" + links_base_path.strip("/")
        self.entity_service = EntityService(management.store, management.clock, management.registry, management.notify)
        self.entities = EntityApi(self.entity_service)

    # --- mounting --------------------------------------------------------------------------------
    def mount(self, app: web.Application, base_path: str) -> None:
        """Serve the API under ``base_path`` on ``app`` (base path matched case-insensitively)."""
        errors.install(app)
        segments = [s for s in base_path.strip("/").split("/") if s]
        if not segments:
            raise ValueError("the Durable API needs a non-root base path")
        base_re = re.compile("(?is)^/" + "/".join(re.escape(s) for s in segments) + "(?P<tail>/.*)?$")

        async def handle(request: web.Request) -> web.StreamResponse:
            errors.mark_api_request(request)
            return await self.dispatch(request, _tail_segments(request, base_re))

        # The exact-case route is indexed under its own prefix, so it wins over catch-all routes added to the
        # app; the regex route (indexed at "/") catches other spellings of the base, e.g. /Runtime/Webhooks/...
        # (?s:...) because a decoded instance id may contain a newline, which "." would not match.
        tail = "{_tail:(?s:/.*)?}"
        exact = "/" + "/".join(segments) + tail
        any_case = "".join(f"/{{_b{i}:(?i:{re.escape(s)})}}" for i, s in enumerate(segments)) + tail
        app.router.add_route("*", exact, handle)
        app.router.add_route("*", any_case, handle)

    # --- routing ---------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        """Route ``parts`` (the decoded path segments after the base path) like ``HttpApiHandler``."""
        method = request.method
        head = parts[0].lower() if parts else ""
        if head == "orchestrators" and len(parts) in (2, 3):
            if method == "POST":
                return await self.start(request, parts[1], parts[2] if len(parts) == 3 else None)
        elif head == "instances" and len(parts) == 1:
            if method == "GET":
                return await self.list_instances(request)
            if method == "DELETE":
                return await self.purge_by(request)
        elif head == "instances" and len(parts) == 2:
            if method == "GET":
                return await self.status(request, parts[1])
            if method == "DELETE":
                return await self.purge(request, parts[1])
        elif head == "instances" and len(parts) == 3:
            operation = self._OPERATIONS.get(parts[2].lower())
            if method == "POST" and operation is not None:
                return await operation(self, request, parts[1])
        elif head == "entities":
            return await self.entities.dispatch(request, parts)
        elif head == "instances" and len(parts) == 4 and parts[2].lower() == "raiseevent":
            if method == "POST":
                return await self.raise_event(request, parts[1], parts[3])
        raise NotFound(f"no Durable API route for {method} {request.path}")

    # --- start / status ---------------------------------------------------------------------------
    async def start(self, request: web.Request, function_name: str, instance_id: str | None) -> web.StreamResponse:
        """POST orchestrators/{functionName}[/{instanceId}] (B.2)."""
        input_value: object = MISSING
        body = await read_body(request)
        # The extension parses whenever Content-Length is not 0; an empty or blank body deserializes to null.
        text = decode_body(body, request.charset) if body else ""
        if text.strip():
            input_value = parse_json(text)
        new_id = self.management.start(
            function_name,
            instance_id,
            input_value,
            query_value(request, "version"),
            trace_parent=request.headers.get(TRACEPARENT),
            trace_state=request.headers.get(TRACESTATE),
        )
        return await self._created_response(request, new_id)

    async def _created_response(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """The check-status 202, or with ``timeout`` and ``pollingInterval`` the wait-for-completion answer."""
        timeout = parse_seconds(query_value(request, "timeout"), "timeout")
        interval = parse_seconds(query_value(request, "pollingInterval"), "pollingInterval")
        if timeout is not None and interval is not None:
            done = await self.management.wait_for_completion(instance_id, timeout, interval)
            if done is not None:
                if done.runtime_status is RuntimeStatus.COMPLETED:
                    return json_response(payloads.decode_json_text(done.output), 200)
                # Failed/Terminated/Canceled: the status response, with Failed as 200 (flag forced off).
                return self._status_response(request, instance_id, return_500_on_failure=False)
        return self.check_status_response(request, instance_id)

    def check_status_response(self, request: web.Request, instance_id: str) -> web.Response:
        payload = links.check_status_payload(self._links_base(request), self.management.hub_name, instance_id)
        return json_response(payload, 202, headers={"Location": payload["statusQueryGetUri"], "Retry-After": START_RETRY_AFTER})

    async def status(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """GET instances/{id} (B.3)."""
        return self._status_response(request, instance_id)

    def _status_response(
        self, request: web.Request, instance_id: str, *, return_500_on_failure: bool | None = None
    ) -> web.Response:
        if return_500_on_failure is None:
            return_500_on_failure = parse_bool(query_value(request, "returnInternalServerErrorOnFailure"), False)
        found = self.management.get_status(instance_id, show_history=parse_bool(query_value(request, "showHistory"), False))
        body = payloads.status_document(
            found,
            show_input=parse_bool(query_value(request, "showInput"), True),
            show_history_output=parse_bool(query_value(request, "showHistoryOutput"), False),
        )
        status = found.instance.runtime_status
        if not status.is_terminal:
            # Location is the request URI itself; 5 s keeps naive pollers out of a tight loop.
            return json_response(body, 202, headers={"Location": str(request.url), "Retry-After": STATUS_RETRY_AFTER})
        if status is RuntimeStatus.FAILED and return_500_on_failure:
            return json_response(body, 500)
        return json_response(body, 200)

    async def list_instances(self, request: web.Request) -> web.StreamResponse:
        """GET instances (B.4). The continuation-token header is always present, empty on the last page."""
        query = self._instance_query(request)
        top = parse_int(query_value(request, "top"))
        # .NET only takes a top that parses; a non-positive one would make the store refuse, so default it.
        query.top = top if top is not None and top > 0 else DEFAULT_PAGE_SIZE
        token = request.headers.get("x-ms-continuation-token")
        query.continuation_token = token or None
        page, next_token = self.management.list_instances(query)
        show_input = parse_bool(query_value(request, "showInput"), True)
        results = [payloads.status_payload(instance, show_input=show_input) for instance in page]
        return json_response(results, 200, headers={"x-ms-continuation-token": next_token or ""})

    def _instance_query(self, request: web.Request) -> InstanceQuery:
        prefix = query_value(request, "instanceIdPrefix")
        return InstanceQuery(
            created_from=_created_time(request, "createdTimeFrom"),
            created_to=_created_time(request, "createdTimeTo"),
            statuses=parse_statuses(query_values(request, "runtimeStatus")),
            instance_id_prefix=prefix or None,
        )

    # --- purge -----------------------------------------------------------------------------------
    async def purge(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """DELETE instances/{id} (B.10). An entity's id (``@name@key``) purges the entity, as the extension's
        purge-by-id does for the instance that holds an entity."""
        if instance_id.startswith("@"):
            deleted = self.entity_service.purge(instance_id)
            if deleted == 0:
                raise NotFound(f"No entity with ID '{instance_id}' was found.")
            return json_response({"instancesDeleted": deleted}, 200)
        return json_response({"instancesDeleted": self.management.purge(instance_id)}, 200)

    async def purge_by(self, request: web.Request) -> web.StreamResponse:
        """DELETE instances?createdTimeFrom=...[&createdTimeTo=...][&runtimeStatus=...] (B.10)."""
        created_from = parse_datetime(query_value(request, "createdTimeFrom"))
        if created_from is None:
            message = "Please provide value for 'createdTimeFrom' parameter."
            # The extension answers this 400 with a bare JSON string, not an error object.
            raise ApiBadRequest(message, message)
        created_to = _created_time(request, "createdTimeTo") or self.management.clock.now()
        query = InstanceQuery(
            created_from=created_from,
            created_to=created_to,
            statuses=parse_statuses(query_values(request, "runtimeStatus")),
        )
        deleted = self.management.purge_by(query)
        if deleted == 0:
            raise NotFound("no instance matched the purge filter")
        return json_response({"instancesDeleted": deleted}, 200)

    # --- operations on one instance --------------------------------------------------------------
    async def raise_event(self, request: web.Request, instance_id: str, event_name: str) -> web.StreamResponse:
        """POST instances/{id}/raiseEvent/{name} (B.5): 404, then 410, then the content checks, as .NET does."""
        self.management.check_active(instance_id)
        # aiohttp reports a missing Content-Type as application/octet-stream, which fails this check too.
        if request.content_type.lower() != "application/json":
            raise UnsupportedMediaType("Only application/json request content is supported")
        text = decode_body(await read_body(request), request.charset)
        parse_json(text)  # validation only: the event carries the body text as it came
        self.management.raise_event(instance_id, event_name, text)
        return empty_response(202)

    async def terminate(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        self.management.terminate(instance_id, query_value(request, "reason"))
        return empty_response(202)

    async def suspend(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        self.management.suspend(instance_id, query_value(request, "reason"))
        return empty_response(202)

    async def resume(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        self.management.resume(instance_id, query_value(request, "reason"))
        return empty_response(202)

    async def rewind(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        self.management.rewind(instance_id, query_value(request, "reason"))
        return empty_response(202)

    async def restart(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        """POST instances/{id}/restart[?restartWithNewInstanceId=][&timeout=&pollingInterval=] (B.9)."""
        new_id_wanted = parse_bool(query_value(request, "restartWithNewInstanceId"), True)
        with errors.outer_message("InstanceId does not match a valid orchestration instance."):
            new_id = self.management.restart(
                instance_id,
                new_instance_id=new_id_wanted,
                trace_parent=request.headers.get(TRACEPARENT),
                trace_state=request.headers.get(TRACESTATE),
            )
        return await self._created_response(request, new_id)

    _OPERATIONS: dict[str, Callable[[DurableApi, web.Request, str], Awaitable[web.StreamResponse]]] = {
        "terminate": terminate,
        "suspend": suspend,
        "resume": resume,
        "rewind": rewind,
        "restart": restart,
    }

    def _links_base(self, request: web.Request) -> str:
        return str(request.url.origin()) + self.links_base_path


def _tail_segments(request: web.Request, base_re: re.Pattern[str]) -> list[str]:
    """The path after the base, split on raw ``/`` and then percent-decoded, so an encoded ``%2F`` inside an
    instance id stays part of its segment. Empty segments in the middle make the route unknown."""
    match = base_re.match(request.rel_url.raw_path)
    tail = match.group("tail") if match else request.match_info.get("_tail", "")
    raw_parts = (tail or "").strip("/").split("/")
    if raw_parts == [""]:
        return []
    if any(not p for p in raw_parts):
        raise NotFound(f"no Durable API route for {request.method} {request.path}")
    return [unquote(p) for p in raw_parts]


def _created_time(request: web.Request, name: str) -> datetime | None:
    """``createdTimeFrom``/``createdTimeTo``: None when absent or blank, a 400 naming the parameter when present
    but not a date. Deliberately stricter than the extension, whose ``DateTime.TryParse`` (HttpApiHandler.cs line
    750) silently drops a value it cannot read — so a typo lists every instance, or purges up to now."""
    text = query_value(request, name)
    parsed = parse_datetime(text)
    if parsed is None and text is not None and text.strip():
        raise BadRequest(
            f"The '{name}' parameter value '{text}' is not a date and time: use ISO 8601 (2030-01-31T12:00:00Z), "
            "RFC 1123 (Thu, 31 Jan 2030 12:00:00 GMT) or MM/dd/yyyy [HH:mm:ss]."
        )
    return parsed
