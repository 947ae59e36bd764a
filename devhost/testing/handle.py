"""The handle a test gets for a running app: HTTP, orchestration control, and the virtual clock."""

from __future__ import annotations

import inspect
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional

from devhost.core.model import TERMINAL_STATUSES, RuntimeStatus

WEBHOOKS = "/runtime/webhooks/durabletask"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class HttpClient:
    """A small synchronous HTTP client bound to the app's base URL (stdlib only; any status is returned)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Optional[bytes] = None,
        headers: Optional[Dict[str, str]] = None,
        params: Optional[Dict[str, Any]] = None,
        timeout: float = 30.0,
    ) -> HttpResponse:
        url = path if path.startswith("http") else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, dict(error.headers), error.read())

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)


class DurableAppHandle:
    """A running app on devhost, seen from a test. Create it with the ``durable_app`` fixture."""

    def __init__(self, host: Any, loop: Any) -> None:
        self._host = host
        self._loop = loop
        self.base_url: str = host.base_url
        self.http = HttpClient(self.base_url)

    # --- time ----------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The host's virtual time."""
        return self._host.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward by ``seconds`` and let the host catch up (timers fire, sleeps end)."""
        async def _advance() -> datetime:
            now = self._host.clock.advance(seconds)
            await self._host.engine.run_until(self._host.engine.is_idle, skip_time=False)
            return now

        return self._loop.run(_advance(), timeout=60)

    # --- orchestrations ------------------------------------------------------------------------------
    def start(self, orchestrator: str, input: Any = None, *, instance_id: Optional[str] = None) -> str:
        """Start ``orchestrator`` through the public webhook; returns the instance id."""
        path = f"{WEBHOOKS}/orchestrators/{orchestrator}" + (f"/{instance_id}" if instance_id else "")
        response = self.http.post(path, json_body=input) if input is not None else self.http.post(path)
        if response.status != 202:
            raise AssertionError(f"start {orchestrator} answered {response.status}: {response.text}")
        return str(response.json()["id"])

    def wait_for_completion(self, instance_id: str, *, timeout: float = 60.0) -> Dict[str, Any]:
        """Skip virtual time until the instance is Completed, Failed, Terminated or Canceled; return its status.

        ``timeout`` is a real-time safety net, not a virtual one. Raises AssertionError if the instance can
        never finish (it waits for an event nobody raises, with no timer pending).
        """
        from devhost.engine import Stalled

        store = self._host.store

        def finished() -> bool:
            record = store.get_instance(instance_id)
            return record is not None and record.runtime_status in TERMINAL_STATUSES

        try:
            self._loop.run(self._host.engine.run_until(finished), timeout=timeout)
        except Stalled as stalled:
            raise AssertionError(f"instance {instance_id} cannot finish: {stalled}; status: {self.status(instance_id)}")
        return self.status(instance_id)

    def wait_for_status(self, instance_id: str, status: str, *, timeout: float = 60.0) -> Dict[str, Any]:
        """Skip virtual time until the instance reaches ``status`` (e.g. "Running")."""
        wanted = RuntimeStatus(status)
        store = self._host.store

        def reached() -> bool:
            record = store.get_instance(instance_id)
            return record is not None and record.runtime_status is wanted

        self._loop.run(self._host.engine.run_until(reached), timeout=timeout)
        return self.status(instance_id)

    def status(self, instance_id: str, *, show_history: bool = False, show_history_output: bool = False) -> Dict[str, Any]:
        params = {"showHistory": str(show_history).lower(), "showHistoryOutput": str(show_history_output).lower()}
        response = self.http.get(f"{WEBHOOKS}/instances/{urllib.parse.quote(instance_id)}", params=params)
        if response.status == 404:
            raise AssertionError(f"no instance {instance_id}")
        return dict(response.json())

    def history(self, instance_id: str) -> List[Dict[str, Any]]:
        """The raw history of the current execution, in the SDK's shape (as the replay checker reads it)."""
        return list(self._host.store.get_history(instance_id))

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        response = self.http.post(f"{WEBHOOKS}/instances/{instance_id}/raiseEvent/{name}", json_body=data)
        if response.status != 202:
            raise AssertionError(f"raiseEvent answered {response.status}: {response.text}")

    def terminate(self, instance_id: str, reason: str = "terminated by test") -> None:
        self.http.post(f"{WEBHOOKS}/instances/{instance_id}/terminate", params={"reason": reason})

    # --- stubbing ------------------------------------------------------------------------------------
    def stub_activity(self, name: str, replacement: Callable[[Any], Any]) -> None:
        """Run ``replacement(input)`` instead of activity ``name`` (sync or async); the orchestrator still
        replays for real. Lasts for this handle's lifetime."""
        from devhost.functions import ActivityFunction

        activities = self._host.registry.activities
        if name not in activities:
            raise KeyError(f"the app has no activity named {name!r} (it has {sorted(activities)})")
        original = activities[name]
        if inspect.iscoroutinefunction(replacement):
            async def call_async(**kwargs: Any) -> Any:
                return await replacement(kwargs[original.input_name])

            activities[name] = ActivityFunction(name, call_async, original.input_name, True)
        else:
            def call(**kwargs: Any) -> Any:
                return replacement(kwargs[original.input_name])

            activities[name] = ActivityFunction(name, call, original.input_name, False)
