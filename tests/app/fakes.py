"""Fakes at the app's I/O seams: the ``time`` module the app's clock reads, and a durable client for the
HTTP functions (an in-memory instance table).


It answers like the SDK client does against the real extension: ``get_status`` of an unknown id
returns a *falsy* ``DurableOrchestrationStatus`` (not None), ``start_new`` stores the input as
JSON text (what ``get_status().input_`` then returns), and the check-status response rewrites
the management links to the request's origin.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import azure.functions as func
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

BASE = "http://127.0.0.1:7071/runtime/webhooks/durabletask"


class FakeTime:
    """Stands in for the ``time`` module inside ``job_monitor.clock``: ``sleep`` advances it."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


class FakeDurableClient:
    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Any]] = {}
        self.started: list[tuple[str, str | None, Any]] = []
        self.fail_start_with: Exception | None = None
        self.fail_get_status_with: Exception | None = None
        self.on_start: Any | None = None  # hook run before start_new answers (to simulate races)

    def add_instance(
        self,
        instance_id: str,
        runtime_status: str,
        input_value: Any = None,
        name: str = "monitoring_job_orchestrator",
        created: str = "2030-01-01T00:00:00Z",
    ) -> None:
        self.instances[instance_id] = {
            "name": name,
            "instanceId": instance_id,
            "runtimeStatus": runtime_status,
            "input": input_value if isinstance(input_value, str) or input_value is None else json.dumps(input_value),
            "customStatus": None,
            "output": None,
            "createdTime": created,
            "lastUpdatedTime": created,
        }

    async def get_status(
        self, instance_id: str, show_history: bool = False, show_history_output: bool = False, show_input: bool = False
    ) -> DurableOrchestrationStatus:
        if self.fail_get_status_with is not None:
            raise self.fail_get_status_with
        record = self.instances.get(instance_id)
        return DurableOrchestrationStatus() if record is None else DurableOrchestrationStatus.from_json(record)

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any = None,
        version: str | None = None,
    ) -> str:
        if self.on_start is not None:
            self.on_start(self)
        if self.fail_start_with is not None:
            raise self.fail_start_with
        assert instance_id is not None
        # The SDK sends json.dumps(input); the extension stores that text as the input.
        json_text = json.dumps(client_input)
        self.started.append((orchestration_function_name, instance_id, json.loads(json_text)))
        self.add_instance(instance_id, "Pending", json_text, name=orchestration_function_name)
        return instance_id

    def create_http_management_payload(self, instance_id: str) -> dict[str, str]:
        query = "taskHub=default&connection=Storage"
        base = f"{BASE}/instances/{instance_id}"
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{base}?{query}",
            "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{base}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{base}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{base}?{query}",
            "restartPostUri": f"{base}/restart?{query}",
            "suspendPostUri": f"{base}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{base}/resume?reason={{text}}&{query}",
        }

    def create_check_status_response(self, request: func.HttpRequest, instance_id: str) -> func.HttpResponse:
        origin = "{0.scheme}://{0.netloc}/".format(urlparse(request.url))
        payload = {
            k: v.replace("http://127.0.0.1:7071/", origin) for k, v in self.create_http_management_payload(instance_id).items()
        }
        return func.HttpResponse(
            status_code=202,
            body=json.dumps(payload),
            headers={"Content-Type": "application/json", "Location": payload["statusQueryGetUri"], "Retry-After": "10"},
        )
