"""The one place that turns devhost errors into Durable HTTP API responses (an aiohttp middleware).

Bodies follow ASP.NET Web API's ``CreateErrorResponse`` as the extension uses it (API notes B.1):
``{"Message", "ExceptionMessage", "ExceptionType", "StackTrace"}`` when an exception is behind the error,
``{"Message"}`` when not. Handlers raise; they never build error responses themselves.

Mapping: BadRequest → 400 (the extension's ArgumentException body unless the error carries its own),
NotFound → 404 and Gone → 410, both with an empty body, Conflict → 409 (the extension answers a generic 500 when a
start or restart hits a running instance; a 409 says what happened), BodyTooLarge → 413, anything
unexpected → logged with its traceback and answered 500 "Something went wrong while processing your request".

The middleware only touches requests that a Durable API dispatcher marked with :func:`mark_api_request`,
so other routes on the same application keep their own error handling — except a store fault
(:class:`~devhost.core.errors.StoreUnavailable`), which is a 503 with ``Retry-After`` on every route: the write
was rolled back, so the client may simply try again.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, Callable

from aiohttp import web

from devhost.core import jsontext
from devhost.core.errors import BadRequest, Conflict, Gone, NotFound, StoreUnavailable, UnsupportedMediaType

log = logging.getLogger("devhost.http")

JSON_CONTENT_TYPE = "application/json"
_MARK: web.RequestKey[bool] = web.RequestKey("devhost.durable_api", bool)
_INSTALLED: web.AppKey[bool] = web.AppKey("devhost.durable_api.error_middleware", bool)

ARGUMENT_ERROR_MESSAGE = "One or more of the arguments submitted is incorrect"
INTERNAL_ERROR_MESSAGE = "Something went wrong while processing your request"
STORE_UNAVAILABLE_MESSAGE = "The store is unavailable; nothing was changed. Try again."
STORE_RETRY_AFTER = "1"


class ApiBadRequest(BadRequest):
    """A 400 with an exact body: the extension's specialised messages (e.g. "Invalid JSON content" carrying the
    parser's exception, or purge's bare JSON string)."""

    def __init__(self, text: str, body: Any) -> None:
        super().__init__(text)
        self.body = body


class InvalidJsonContent(ApiBadRequest):
    """A request body that must be JSON is not (Newtonsoft would throw a JsonReaderException)."""

    def __init__(self, parser_message: str) -> None:
        super().__init__(
            f"Invalid JSON content: {parser_message}",
            error_body("Invalid JSON content", parser_message, "Newtonsoft.Json.JsonReaderException"),
        )


class BodyTooLarge(BadRequest):
    """The request body exceeds the API's cap; answered 413, not 400."""


def error_body(
    message: str,
    exception_message: str | None = None,
    exception_type: str | None = None,
    stack_trace: str | None = None,
) -> dict[str, Any]:
    if exception_message is None and exception_type is None:
        return {"Message": message}
    return {
        "Message": message,
        "ExceptionMessage": exception_message,
        "ExceptionType": exception_type,
        "StackTrace": stack_trace,
    }


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response as the extension writes one: ``application/json; charset=utf-8``, UTF-8, nulls kept."""
    return web.Response(
        status=status,
        text=jsontext.compact(body),  # a lone surrogate from a stored input stays escaped, as Newtonsoft writes it
        content_type=JSON_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def empty_response(status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, headers=headers)


@contextmanager
def outer_message(message: str) -> Iterator[None]:
    """Re-raise a plain BadRequest as a 400 whose ``Message`` is ``message`` and ``ExceptionMessage`` the
    original text — the extension's restart handler wraps every ArgumentException this way."""
    try:
        yield
    except ApiBadRequest:
        raise
    except BadRequest as exc:
        raise ApiBadRequest(str(exc), error_body(message, str(exc), "System.ArgumentException")) from exc


def mark_api_request(request: web.Request) -> None:
    """Put ``request`` under this module's error mapping (called first thing by the API dispatcher)."""
    request[_MARK] = True


def install(app: web.Application) -> None:
    """Add :func:`error_middleware` to ``app`` once (idempotent; call before the app starts)."""
    if not app.get(_INSTALLED, False):
        app.middlewares.append(error_middleware)
        app[_INSTALLED] = True


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except StoreUnavailable as exc:
        return store_unavailable_response(exc, request)
    except Exception as exc:  # noqa: BLE001 - this is the API's last line
        if not request.get(_MARK, False):
            raise
        return response_for(exc, request)


def store_unavailable_response(exc: StoreUnavailable, request: web.Request | None = None) -> web.Response:
    where = f"{request.method} {request.rel_url}" if request is not None else "a request"
    log.warning("store unavailable during %s: %s", where, exc)
    return json_response(
        error_body(STORE_UNAVAILABLE_MESSAGE, str(exc), "devhost.StoreUnavailable"),
        503,
        headers={"Retry-After": STORE_RETRY_AFTER},
    )


def response_for(exc: BaseException, request: web.Request | None = None) -> web.Response:
    """The HTTP response for an exception raised by a Durable API handler."""
    if isinstance(exc, ApiBadRequest):
        return json_response(exc.body, 400)
    if isinstance(exc, BodyTooLarge):
        return json_response(error_body(str(exc)), 413)
    if isinstance(exc, UnsupportedMediaType):
        # CreateErrorResponse(BadRequest, "Only application/json request content is supported"): no exception.
        return json_response(error_body(str(exc)), 400)
    if isinstance(exc, BadRequest):
        return json_response(error_body(ARGUMENT_ERROR_MESSAGE, str(exc), "System.ArgumentException"), 400)
    if isinstance(exc, NotFound):
        return empty_response(404)
    if isinstance(exc, Gone):
        # request.CreateResponse(HttpStatusCode.Gone): no body (HttpApiHandler.cs lines 799, 823, 847, 966, 997).
        return empty_response(410)
    if isinstance(exc, Conflict):
        return json_response(error_body(str(exc)), 409)
    if isinstance(exc, StoreUnavailable):
        return store_unavailable_response(exc, request)
    where = f"{request.method} {request.rel_url}" if request is not None else "Durable HTTP API"
    log.error("unhandled error in %s", where, exc_info=exc)
    exception_type = _qualified_name(exc)
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return json_response(error_body(INTERNAL_ERROR_MESSAGE, str(exc), exception_type, stack), 500)


def _qualified_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
