"""The error middleware: devhost errors to codes, unexpected errors to a logged 500, other routes untouched."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from devhost.core.errors import BadRequest, Conflict, Gone, NotFound, UnsupportedMediaType
from devhost.http import errors, webhooks
from devhost.http.errors import ApiBadRequest, BodyTooLarge, response_for
from devhost.service.management import Management

B = "/runtime/webhooks/durabletask"


class ExplodingManagement(Management):
    def get_status(self, instance_id: str, **flags: Any) -> dict[str, Any]:
        raise RuntimeError(f"disk on fire for {instance_id}")


@pytest_asyncio.fixture
async def exploding_client(management: Management) -> AsyncIterator[TestClient]:
    broken = ExplodingManagement(
        management.store, management.clock, management.registry, management.notify, hub_name=management.hub_name
    )
    app = web.Application()
    webhooks.add_routes(app, broken)

    async def plain(request: web.Request) -> web.Response:
        raise NotFound("an app route's own error")

    app.router.add_get("/api/plain", plain)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.mark.asyncio
async def test_unexpected_errors_become_a_logged_500_with_the_extension_message(
    exploding_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="devhost.http"):
        response = await exploding_client.get(f"{B}/instances/job-1")

    body = await response.json()
    assert response.status == 500
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["Message"] == "Something went wrong while processing your request"
    assert body["ExceptionMessage"] == "disk on fire for job-1"
    assert body["ExceptionType"] == "RuntimeError"
    assert "disk on fire" in body["StackTrace"]
    assert any("disk on fire" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytest.mark.asyncio
async def test_routes_outside_the_api_keep_their_own_error_handling(exploding_client: TestClient) -> None:
    response = await exploding_client.get("/api/plain")

    # Not mapped to an empty 404: aiohttp's own handling of an unexpected exception applies.
    assert response.status == 500
    assert response.headers.get("Content-Type", "").startswith("text/")


def test_install_adds_the_middleware_once() -> None:
    app = web.Application()

    errors.install(app)
    errors.install(app)

    assert list(app.middlewares).count(errors.error_middleware) == 1


@pytest.mark.parametrize(
    "exc, status, body",
    [
        (
            BadRequest("bad id"),
            400,
            {
                "Message": "One or more of the arguments submitted is incorrect",
                "ExceptionMessage": "bad id",
                "ExceptionType": "System.ArgumentException",
                "StackTrace": None,
            },
        ),
        (
            UnsupportedMediaType("Only application/json request content is supported"),
            400,
            {"Message": "Only application/json request content is supported"},
        ),
        (ApiBadRequest("x", "just a string"), 400, "just a string"),
        (BodyTooLarge("too big"), 413, {"Message": "too big"}),
        (Conflict("already running"), 409, {"Message": "already running"}),
    ],
)
def test_response_for_maps_devhost_errors(exc: Exception, status: int, body: object) -> None:
    response = response_for(exc)

    assert response.status == status
    assert json.loads(response.text or "") == body


def test_response_for_gone_is_an_empty_410_as_the_extension_answers() -> None:
    # HttpApiHandler.cs line 799 (terminate; likewise 823 suspend, 847 resume, 966 rewind, 997 raiseEvent):
    # return request.CreateResponse(HttpStatusCode.Gone);
    response = response_for(Gone("Instance x is Completed."))

    assert response.status == 410
    assert response.body is None


def test_response_for_not_found_is_an_empty_404() -> None:
    response = response_for(NotFound("nope"))

    assert response.status == 404
    assert response.body is None
