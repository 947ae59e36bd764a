"""The app's HTTP functions behind /{routePrefix}: templates, constraints, methods, request and response mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Callable

import azure.functions as func
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from devhost.clock import RealClock
from devhost.core.errors import AppLoadError
from devhost.http.app_routes import RouteTemplate, add_routes
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry, HttpFunction


def echo_function(name: str, route: str, methods: list[str] | None = None) -> HttpFunction:
    async def handler(req: func.HttpRequest) -> func.HttpResponse:
        body = {
            "function": name,
            "route_params": dict(req.route_params),
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "header": req.headers.get("x-test"),
            "body": req.get_body().decode(),
        }
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    return HttpFunction(name=name, fn=handler, route=route, methods=methods, request_arg="req")


Factory = Callable[..., Any]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Factory]:
    clients: list[TestClient] = []

    async def start(
        functions: list[HttpFunction], *, route_prefix: str = "api", extra: Callable[[web.Application], None] | None = None
    ) -> TestClient:
        app = web.Application()
        if extra is not None:
            extra(app)
        registry = FunctionRegistry(http=functions)
        add_routes(app, registry, Invoker(RealClock()), route_prefix=route_prefix, binding_json=lambda request: "{}")
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def get_json(client: TestClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    async with client.request(method, path, **kwargs) as response:
        assert response.status == 200, await response.text()
        return await response.json()


# --- templates, no server -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, path, expected",
    [
        ("jobs/{id:int}", "jobs/42", {"id": "42"}),
        ("jobs/{id:int}", "jobs/4x2", None),
        ("jobs/{id:int}", "jobs/99999999999", None),
        ("jobs/{name:alpha}", "jobs/abc", {"name": "abc"}),
        ("jobs/{name:alpha}", "jobs/abc1", None),
        ("jobs/{x:guid}", "jobs/3f2504e0-4f89-11d3-9a0c-0305e82c3301", {"x": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}),
        ("jobs/{x:guid}", "jobs/not-a-guid", None),
        ("jobs/{name?}", "jobs", {}),
        ("jobs/{name?}", "jobs/a", {"name": "a"}),
        ("jobs/{name=all}", "jobs", {"name": "all"}),
        ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
        ("files/{*path}", "files", {}),
        ("Jobs/Status", "jobs/STATUS", {}),
        ("jobs/{id}", "jobs/a%20b", {"id": "a b"}),
        ("jobs/{id}", "jobs/a/b", None),
        ("jobs/{id}", "jobs", None),
        ("jobs/{id}", "jobs/7/", {"id": "7"}),
        ("files/{name}.{ext}", "files/report.pdf", {"name": "report", "ext": "pdf"}),
        ("files/{name}.{ext}", "files/report.tar.gz", {"name": "report.tar", "ext": "gz"}),
        ("n/{v:range(1,5)}", "n/5", {"v": "5"}),
        ("n/{v:range(1,5)}", "n/6", None),
        ("n/{v:minlength(3)}", "n/ab", None),
        ("n/{v:regex(^a+$)}", "n/aaa", {"v": "aaa"}),
    ],
)
def test_route_templates_match_like_aspnet(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert RouteTemplate(template).match(path) == expected


@pytest.mark.parametrize("template", ["a/{x:nosuch}", "{*rest}/tail", "a/{bad name}"])
def test_invalid_templates_are_app_load_errors(template: str) -> None:
    with pytest.raises(AppLoadError, match="route"):
        RouteTemplate(template)


# --- served ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_route_params_query_headers_body_and_absolute_url_reach_the_function(serve: Factory) -> None:
    client = await serve([echo_function("jobs", "jobs/{id:int}", ["POST"])])

    body = await get_json(client, "POST", "/api/jobs/12?a=1&a=2&b=x", data=b"payload", headers={"X-Test": "yes"})

    assert body["route_params"] == {"id": "12"}
    assert body["params"] == {"a": "1,2", "b": "x"}
    assert body["header"] == "yes"
    assert body["body"] == "payload"
    assert body["url"] == f"http://{client.host}:{client.port}/api/jobs/12?a=1&a=2&b=x"


@pytest.mark.asyncio
async def test_a_constraint_mismatch_is_an_empty_404(serve: Factory) -> None:
    client = await serve([echo_function("jobs", "jobs/{id:int}")])

    async with client.get("/api/jobs/abc") as response:
        assert response.status == 404
        assert await response.read() == b""


@pytest.mark.asyncio
async def test_a_method_the_function_does_not_accept_is_a_404_not_a_405(serve: Factory) -> None:
    client = await serve([echo_function("start", "start", ["POST"])])

    async with client.get("/api/start") as response:
        status, body = response.status, await response.read()

    assert (status, body) == (404, b"")


@pytest.mark.asyncio
async def test_functions_without_methods_accept_every_method(serve: Factory) -> None:
    client = await serve([echo_function("any", "any")])

    methods = [(await get_json(client, method, "/api/any"))["method"] for method in ("GET", "PUT", "DELETE", "PATCH")]

    assert methods == ["GET", "PUT", "DELETE", "PATCH"]


@pytest.mark.asyncio
async def test_same_template_different_methods_reach_different_functions(serve: Factory) -> None:
    client = await serve([echo_function("read", "items/{id}", ["GET"]), echo_function("write", "items/{id}", ["PUT"])])

    read = await get_json(client, "GET", "/api/items/1")
    write = await get_json(client, "PUT", "/api/items/1")

    assert (read["function"], write["function"]) == ("read", "write")


@pytest.mark.asyncio
async def test_a_literal_segment_wins_over_a_parameter_whatever_the_declaration_order(serve: Factory) -> None:
    client = await serve(
        [
            echo_function("catch_all", "items/{*rest}"),
            echo_function("by_id", "items/{id}"),
            echo_function("special", "items/special"),
        ]
    )

    hits = [
        (await get_json(client, "GET", path))["function"] for path in ("/api/items/special", "/api/items/7", "/api/items/7/8")
    ]

    assert hits == ["special", "by_id", "catch_all"]


@pytest.mark.asyncio
async def test_an_empty_route_prefix_serves_at_the_root_without_hiding_other_routes(serve: Factory) -> None:
    async def other(request: web.Request) -> web.Response:
        return web.Response(text="other route")

    client = await serve(
        [echo_function("catch", "{*anything}")],
        route_prefix="",
        extra=lambda app: app.router.add_get("/runtime/webhooks/durabletask/instances", other),
    )

    caught = await get_json(client, "GET", "/some/path")
    async with client.get("/runtime/webhooks/durabletask/instances") as response:
        other_text = await response.text()

    assert caught["route_params"] == {"anything": "some/path"}
    assert other_text == "other route"


@pytest.mark.asyncio
async def test_paths_outside_the_prefix_are_not_served(serve: Factory) -> None:
    client = await serve([echo_function("jobs", "jobs")], route_prefix="v1")

    async with client.get("/api/jobs") as response:
        outside = response.status
    inside = await get_json(client, "GET", "/v1/jobs")

    assert outside == 404
    assert inside["function"] == "jobs"


@pytest.mark.asyncio
async def test_the_function_response_keeps_status_headers_and_content_type(serve: Factory) -> None:
    async def handler(req: func.HttpRequest) -> func.HttpResponse:
        response = func.HttpResponse(
            "<p>hi</p>",
            status_code=202,
            mimetype="text/html",
            charset="latin-1",
            headers={"Location": "/elsewhere", "Set-Cookie": "a=1"},
        )
        response.headers.add_header("Set-Cookie", "b=2")
        return response

    client = await serve([HttpFunction(name="page", fn=handler, route="page", methods=None, request_arg="req")])

    async with client.get("/api/page") as response:
        status, headers, body = response.status, response.headers, await response.read()

    assert status == 202
    assert headers["Content-Type"] == "text/html; charset=latin-1"
    assert headers["Location"] == "/elsewhere"
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert body == b"<p>hi</p>"


@pytest.mark.asyncio
async def test_the_binding_json_is_built_per_request_for_durable_client_arguments(serve: Factory) -> None:
    async def handler(req: func.HttpRequest, client: str) -> func.HttpResponse:
        return func.HttpResponse(client)

    fn = HttpFunction(name="b", fn=handler, route="b", methods=None, request_arg="req", durable_client_args=["client"])
    app = web.Application()
    add_routes(
        app,
        FunctionRegistry(http=[fn]),
        Invoker(RealClock()),
        route_prefix="api",
        binding_json=lambda request: json.dumps({"host": request.host}),
    )
    async with TestClient(TestServer(app)) as client:
        async with client.get("/api/b") as response:
            body = json.loads(await response.text())
        expected_host = f"{client.host}:{client.port}"

    assert body == {"host": expected_host}
