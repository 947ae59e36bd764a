"""The app's HTTP functions under ``/{routePrefix}/{route}``, with the Functions host's routing rules.

Route templates are ASP.NET Core templates: literal segments (matched case-insensitively), ``{name}``,
optional ``{name?}``, defaults ``{name=value}``, constraints ``{id:int}``, ``{name:alpha}``, ``{x:guid}``,
``{n:min(1)}``..., catch-all ``{*path}``, and segments mixing both (``{name}.{ext}``). Templates are tried
most specific first (ASP.NET's RoutePrecedence: literal < mixed < constrained < plain < catch-all).

As in the Functions host, a path that matches no function — including a known route called with a method
the function does not accept (azure-functions-host#10098) or a value that breaks a constraint — gets a
404 with an empty body, never a 405. Request bodies up to 100 MB are accepted (the host's
``maxRequestLength``); the server sets that limit on the Application.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from urllib.parse import unquote

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict

from devhost.core.errors import AppLoadError
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry, HttpFunction

MAX_REQUEST_BODY = 100 * 1024 * 1024

Constraint = Callable[[str], bool]

_PARAM = re.compile(r"\{([^{}]*)\}")
_CONSTRAINT = re.compile(r"^(\w+)(?:\((.*)\))?$")


def _parses(kind: Callable[[str], object]) -> Constraint:
    def check(value: str) -> bool:
        try:
            kind(value)
        except (ValueError, OverflowError):
            return False
        return True

    return check


def _int_in(low: int, high: int) -> Constraint:
    # At most 19 significant digits (a long): int() of thousands of digits raises ValueError (the int-string limit).
    return lambda v: bool(re.fullmatch(r"[+-]?0*\d{1,19}", v)) and low <= int(v) <= high


def _number(value: str) -> float:
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value):
        raise ValueError(value)
    return float(value)


_SIMPLE_CONSTRAINTS: dict[str, Constraint] = {
    "int": _int_in(-(2**31), 2**31 - 1),
    "long": _int_in(-(2**63), 2**63 - 1),
    "bool": lambda v: v.lower() in ("true", "false"),
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
    "guid": _parses(uuid.UUID),
    "double": _parses(_number),
    "float": _parses(_number),
    "decimal": _parses(_number),
    "datetime": _parses(datetime.fromisoformat),
    "required": lambda v: v != "",
}


def _constraint(spec: str, template: str) -> Constraint:
    match = _CONSTRAINT.match(spec)
    if match is None:
        raise AppLoadError(f"route '{template}': cannot read constraint '{spec}'")
    name, arg = match.group(1).lower(), match.group(2)
    if arg is None and name in _SIMPLE_CONSTRAINTS:
        return _SIMPLE_CONSTRAINTS[name]
    try:
        if name == "regex" and arg is not None:
            pattern = re.compile(arg, re.IGNORECASE)  # ASP.NET regex constraints are case-insensitive
            return lambda v: pattern.search(v) is not None
        numbers = [int(x) for x in (arg or "").split(",")] if arg else []
    except (re.error, ValueError):
        raise AppLoadError(f"route '{template}': invalid constraint '{spec}'") from None
    if name == "min" and len(numbers) == 1:
        return lambda v: _int_in(-(2**63), 2**63 - 1)(v) and int(v) >= numbers[0]
    if name == "max" and len(numbers) == 1:
        return lambda v: _int_in(-(2**63), 2**63 - 1)(v) and int(v) <= numbers[0]
    if name == "range" and len(numbers) == 2:
        return lambda v: _int_in(numbers[0], numbers[1])(v)
    if name == "minlength" and len(numbers) == 1:
        return lambda v: len(v) >= numbers[0]
    if name == "maxlength" and len(numbers) == 1:
        return lambda v: len(v) <= numbers[0]
    if name == "length" and len(numbers) in (1, 2):
        low, high = (numbers[0], numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
        return lambda v: low <= len(v) <= high
    raise AppLoadError(f"route '{template}': the constraint reference '{spec}' could not be resolved")


@dataclass
class _Param:
    name: str
    optional: bool = False
    default: str | None = None
    catch_all: bool = False
    constraints: list[Constraint] = field(default_factory=list)

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.constraints)


@dataclass
class _Segment:
    literal: str | None = None  # a plain literal segment
    param: _Param | None = None  # a segment that is exactly one parameter
    pattern: re.Pattern[str] | None = None  # a mixed segment such as {name}.{ext}
    params: list[_Param] = field(default_factory=list)

    @property
    def rank(self) -> int:
        if self.literal is not None:
            return 1
        if self.pattern is not None:
            return 2
        assert self.param is not None
        return 5 if self.param.catch_all else 3 if self.param.constraints else 4


def _parse_param(body: str, template: str) -> _Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default: str | None = None
    if "=" in body:
        body, default = body.split("=", 1)
    optional = body.endswith("?")
    body = body.rstrip("?")
    name, *specs = body.split(":")
    if not re.fullmatch(r"\w+", name):
        raise AppLoadError(f"route '{template}': invalid parameter '{{{body}}}'")
    return _Param(name, optional, default, catch_all, [_constraint(s, template) for s in specs])


def _parse_segment(text: str, template: str) -> _Segment:
    whole = _PARAM.fullmatch(text)
    if whole:
        return _Segment(param=_parse_param(whole.group(1), template))
    if "{" not in text and "}" not in text:
        return _Segment(literal=text)
    params: list[_Param] = []
    regex, position = "", 0
    for match in _PARAM.finditer(text):
        regex += re.escape(text[position : match.start()])
        param = _parse_param(match.group(1), template)
        if param.catch_all:
            raise AppLoadError(f"route '{template}': a catch-all parameter must be a whole segment")
        params.append(param)
        # Greedy groups: ASP.NET matches mixed segments from the right ("a.tar.gz" → name "a.tar", ext "gz").
        regex += f"(?P<{param.name}>.+)" + ("?" if param.optional else "")
        position = match.end()
    regex += re.escape(text[position:])
    return _Segment(pattern=re.compile(regex, re.IGNORECASE), params=params)


class RouteTemplate:
    """One parsed template; :meth:`match` returns the route values or None."""

    def __init__(self, template: str) -> None:
        self.template = template
        texts = [t for t in template.strip("/").split("/")] if template.strip("/") else []
        self.segments = [_parse_segment(t, template) for t in texts]
        for index, segment in enumerate(self.segments):
            last = index == len(self.segments) - 1
            if segment.param is not None and segment.param.catch_all and not last:
                raise AppLoadError(f"route '{template}': a catch-all parameter must be the last segment")
        self.precedence: tuple[int, ...] = tuple(s.rank for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """``path`` is the raw (still percent-encoded) path below the prefix."""
        raw = path.strip("/")
        parts = [unquote(p) for p in raw.split("/")] if raw else []
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            param = segment.param
            if param is not None and param.catch_all:
                rest = "/".join(parts[index:])
                if rest:
                    if not param.accepts(rest):
                        return None
                    values[param.name] = rest
                elif param.default is not None:
                    values[param.name] = param.default
                return values
            if index >= len(parts):
                if not self._missing_ok(segment, values):
                    return None
                continue
            part = parts[index]
            if segment.literal is not None:
                if part.lower() != segment.literal.lower():
                    return None
            elif param is not None:
                if part == "" or not param.accepts(part):
                    return None
                values[param.name] = part
            elif not self._match_mixed(segment, part, values):
                return None
        return values if len(parts) <= len(self.segments) else None

    @staticmethod
    def _missing_ok(segment: _Segment, values: dict[str, str]) -> bool:
        param = segment.param
        if param is None or not (param.optional or param.default is not None):
            return False
        if param.default is not None:
            values[param.name] = param.default
        return True

    @staticmethod
    def _match_mixed(segment: _Segment, part: str, values: dict[str, str]) -> bool:
        assert segment.pattern is not None
        found = segment.pattern.fullmatch(part)
        if found is None:
            return False
        for param in segment.params:
            value = found.group(param.name)
            if value is None:
                if param.default is not None:
                    values[param.name] = param.default
                continue
            if not param.accepts(value):
                return False
            values[param.name] = value
        return True


class RouteTable:
    """Every HTTP function's template, most specific first."""

    def __init__(self, functions: Sequence[HttpFunction]) -> None:
        entries = [(RouteTemplate(fn.route), fn) for fn in functions]
        # Stable sort: equally specific templates keep the app's declaration order.
        self._entries = sorted(entries, key=lambda entry: entry[0].precedence)

    def match(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | None:
        for template, fn in self._entries:
            if fn.methods is not None and method.upper() not in fn.methods:
                continue
            values = template.match(path)
            if values is not None:
                return fn, values
        return None


def _joined(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Repeated keys joined with "," — how the host flattens ASP.NET StringValues for the worker."""
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in merged.items()}


async def to_function_request(request: web.Request, route_params: dict[str, str]) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),  # absolute: create_check_status_response swaps in the caller's origin
        headers=_joined(list(request.headers.items())),
        params=_joined(list(request.query.items())),
        route_params=route_params,
        body=await request.read(),
    )


def to_web_response(response: func.HttpResponse) -> web.Response:
    """func.HttpResponse → aiohttp, with HttpResponseConverter's Content-Type rule."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in response.headers.items():
        headers.add(name, value)
    if "content-type" not in headers:
        mimetype = response.mimetype
        headers["Content-Type"] = f"{mimetype}; charset={response.charset}" if mimetype.startswith("text/") else mimetype
    return web.Response(status=int(response.status_code), headers=headers, body=response.get_body() or b"")


def add_routes(
    app: web.Application,
    registry: FunctionRegistry,
    invoker: Invoker,
    *,
    route_prefix: str,
    binding_json: Callable[[web.Request], str],
) -> None:
    """Serve every HttpFunction under ``/{route_prefix}``. Raises AppLoadError for a bad template."""
    table = RouteTable(registry.http)
    prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path[len(prefix) :]
        found = table.match(request.method, path)
        if found is None:
            return web.Response(status=404)
        fn, route_params = found
        function_request = await to_function_request(request, route_params)
        response = await invoker.call_http(fn, function_request, binding_json(request))
        return to_web_response(response)

    if prefix:
        app.router.add_route("*", prefix, handle)
        app.router.add_route("*", prefix + "/{tail:.*}", handle)
    else:
        # aiohttp tries longer path prefixes first, so this root catch-all stays behind /runtime/... and /admin/...
        app.router.add_route("*", "/{tail:.*}", handle)
