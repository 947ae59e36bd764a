"""Both HTTP functions through the SDK's own client middleware, faked one layer lower.

The fake here is the SDK's HTTP transport (``get_async_request``/``post_async_request``), so the
real ``DurableOrchestrationClient`` builds URLs, encodes the input, parses statuses (a 404 with an
empty body is a *falsy* status) and rewrites the management links, as it does in production.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import unquote, urlparse

import azure.functions as func
import pytest

from .fakes import FakeTime

RPC = "http://127.0.0.1:17071/durabletask/"
WEBHOOK = "http://127.0.0.1:7071/runtime/webhooks/durabletask"
QUERY = "taskHub=default&connection=Storage"


def binding_json() -> str:
    instance = f"{WEBHOOK}/instances/INSTANCEID"
    return json.dumps(
        {
            "taskHubName": "default",
            "creationUrls": {
                "createNewInstancePostUri": f"{WEBHOOK}/orchestrators/{{functionName}}[/{{instanceId}}]?code=",
                "createAndWaitOnNewInstancePostUri": f"{WEBHOOK}/orchestrators/{{functionName}}[/{{instanceId}}]"
                "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}",
            },
            "managementUrls": {
                "id": "INSTANCEID",
                "statusQueryGetUri": f"{instance}?{QUERY}",
                "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{QUERY}",
                "terminatePostUri": f"{instance}/terminate?reason={{text}}&{QUERY}",
                "rewindPostUri": f"{instance}/rewind?reason={{text}}&{QUERY}",
                "purgeHistoryDeleteUri": f"{instance}?{QUERY}",
                "restartPostUri": f"{instance}/restart?{QUERY}",
                "suspendPostUri": f"{instance}/suspend?reason={{text}}&{QUERY}",
                "resumePostUri": f"{instance}/resume?reason={{text}}&{QUERY}",
            },
            "baseUrl": WEBHOOK,
            "requiredQueryStringParameters": "",
            "rpcBaseUrl": RPC,
        }
    )


class FakeRpc:
    """The extension's RPC endpoint, in memory: start and get-status only."""

    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Any]] = {}
        self.posts: list[tuple[str, str | None]] = []

    async def get(self, url: str, function_invocation_id: str | None = None) -> list[Any]:
        instance_id = unquote(urlparse(url).path.rsplit("/", 1)[1])
        record = self.instances.get(instance_id)
        return [404, ""] if record is None else [202, record]

    async def post(
        self,
        url: str,
        data: str | None = None,
        trace_parent: Any = None,
        trace_state: Any = None,
        function_invocation_id: str | None = None,
    ) -> list[Any]:
        self.posts.append((url, data))
        _, name, instance_id = urlparse(url).path.rsplit("/", 2)
        # The extension keeps the (already JSON-encoded) input text as the instance input.
        self.instances[instance_id] = {
            "name": name,
            "instanceId": instance_id,
            "runtimeStatus": "Pending",
            "input": data,
            "customStatus": None,
            "output": None,
            "createdTime": "2030-01-01T12:00:00Z",
            "lastUpdatedTime": "2030-01-01T12:00:00Z",
        }
        return [202, {"id": instance_id}]


@pytest.fixture
def rpc(monkeypatch: pytest.MonkeyPatch) -> FakeRpc:
    fake = FakeRpc()
    module = sys.modules["azure.durable_functions.models.DurableOrchestrationClient"]
    monkeypatch.setattr(module, "get_async_request", fake.get)
    monkeypatch.setattr(module, "post_async_request", fake.post)
    return fake


def call(app_functions: dict[str, Any], name: str, request: func.HttpRequest) -> func.HttpResponse:
    middleware = app_functions[name].get_user_function()
    return asyncio.run(middleware(req=request, client=binding_json()))


def test_start_then_status_through_the_sdk_client(app_functions: dict[str, Any], rpc: FakeRpc, fake_time: FakeTime) -> None:
    start = func.HttpRequest(
        "POST",
        "http://localhost:7071/api/start_monitoring_job",
        headers={},
        params={},
        route_params={},
        body=b'{"job_id": "job-sdk", "batch_size": 50}',
    )

    started = call(app_functions, "start_monitoring_job", start)

    assert started.status_code == 202
    payload = json.loads(started.get_body())
    assert payload["id"] == "job-sdk"
    assert payload["statusQueryGetUri"] == f"http://localhost:7071/runtime/webhooks/durabletask/instances/job-sdk?{QUERY}"
    assert started.headers["Location"] == payload["statusQueryGetUri"]
    [(url, data)] = rpc.posts
    assert url == f"{RPC}orchestrators/monitoring_job_orchestrator/job-sdk"
    assert json.loads(data or "null")["batch_size"] == 50

    fake_time.sleep(5)
    status = func.HttpRequest(
        "GET", "http://localhost:7071/api/job_status/job-sdk", headers={}, params={}, route_params={"jobId": "job-sdk"}, body=b""
    )
    answered = call(app_functions, "job_status", status)

    assert answered.status_code == 200
    body = json.loads(answered.get_body())
    assert (body["status"], body["items_total"], body["progress_percent"], body["monitor_status"]) == (
        "Running",
        50,
        32,
        "Pending",
    )  # 16 of 50 items after 5 of 15 s


def test_unknown_job_is_404_through_the_sdk_client(app_functions: dict[str, Any], rpc: FakeRpc, fake_time: FakeTime) -> None:
    request = func.HttpRequest(
        "GET", "http://localhost:7071/api/job_status/job-x", headers={}, params={}, route_params={"jobId": "job-x"}, body=b""
    )

    assert call(app_functions, "job_status", request).status_code == 404


def test_second_start_is_409_through_the_sdk_client(app_functions: dict[str, Any], rpc: FakeRpc, fake_time: FakeTime) -> None:
    def request() -> func.HttpRequest:
        return func.HttpRequest(
            "POST",
            "http://localhost:7071/api/start_monitoring_job",
            headers={},
            params={},
            route_params={},
            body=b'{"job_id": "job-twice"}',
        )

    first = call(app_functions, "start_monitoring_job", request())
    second = call(app_functions, "start_monitoring_job", request())

    assert (first.status_code, second.status_code) == (202, 409)
    assert len(rpc.posts) == 1
    assert second.headers["Location"] == json.loads(first.get_body())["statusQueryGetUri"]
