"""What a test holds for a running app: :class:`AppHandle`, what every handle offers (the in-process one is
:class:`~devhost.testing.inprocess.DurableAppHandle`, the one for a real host
:class:`~devhost.testing.remote.RemoteAppHandle`).

The Durable HTTP API calls (start, status, raise_event, terminate, purge) go over real HTTP to
``base_url`` and are implemented here once, so a test means the same thing in-process
(:class:`DurableAppHandle`, virtual time) and against a real host
(:class:`~devhost.testing.remote.RemoteAppHandle`, real time). Time, waiting and stubbing differ and are
abstract. The helpers assert the happy path (an unexpected status code is an AssertionError carrying the
body); to test an unhappy path, send the request yourself with ``handle.http``.
"""

from __future__ import annotations

import abc
import json
import os
import urllib.parse
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol, TypeVar, Union

from devhost.core import protocol
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.testing.http import HttpClient, HttpResponse

WEBHOOKS = WEBHOOK_BASE_PATH
TERMINAL_STATUSES = frozenset(status.value for status in protocol.TERMINAL_STATUSES)
RUNTIME_STATUSES = frozenset(status.value for status in protocol.RuntimeStatus)

AppRef = Union[str, "os.PathLike[str]"]
"""An app: its directory, its ``function_app.py``, or the dotted name of a ``function_app`` module."""
Seconds = Union[float, timedelta]
Status = dict[str, Any]
"""An instance status as the Durable HTTP API returns it (``runtimeStatus``, ``output``, ``customStatus``...)."""

T = TypeVar("T")

_NO_INPUT: Any = object()
JSON_HEADERS = {"Content-Type": "application/json"}
_HOST_TIMEOUT = 60.0


def seconds_of(value: Seconds) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ValueError(f"time cannot go backwards ({seconds} s)")
    return seconds


def check_statuses(statuses: tuple[str, ...]) -> frozenset[str]:
    unknown = [s for s in statuses if s not in RUNTIME_STATUSES]
    if not statuses or unknown:
        raise ValueError(f"expected runtime status names from {sorted(RUNTIME_STATUSES)}, got {list(statuses)}")
    return frozenset(statuses)


class AppHandle(abc.ABC):
    """A running Durable Functions app, seen from a test (get one from the ``durable_app`` fixture)."""

    remote: bool = False
    """True when the handle talks to a real host (``DEVHOST_TARGET_URL``): real time, no stubs."""

    def __init__(self, base_url: str) -> None:
        self.base_url: str = base_url.rstrip("/")
        """``http://host:port`` of the app; app routes are under ``/api`` (host.json routePrefix)."""
        self.http: HttpClient = HttpClient(self.base_url)
        """A synchronous HTTP client bound to :attr:`base_url`."""

    # --- the Durable HTTP API --------------------------------------------------------------------------
    def start(self, orchestrator: str, input: Any = _NO_INPUT, *, instance_id: str | None = None) -> str:
        """Start ``orchestrator`` through the Durable HTTP API; returns the instance id.

        ``get_input()`` in the orchestrator returns what it would after ``client.start_new(orchestrator, id, input)``:
        a string is sent as the SDK client sends it (``json.dumps(input)`` as a JSON body, DurableOrchestrationClient
        ``_get_json_input``), so ``start("greet", "bob")`` gives ``"bob"``; an object, array, number or null is sent
        as the JSON body itself and reaches ``get_input()`` intact (the status ``input`` then shows it as JSON, where
        ``start_new`` would show its JSON text). Omit ``input`` for no input.
        """
        path = f"{WEBHOOKS}/orchestrators/{_quote(orchestrator)}" + (f"/{_quote(instance_id)}" if instance_id else "")
        if input is _NO_INPUT:
            response = self.http.post(path)
        else:
            response = self.http.post(path, json_body=json.dumps(input) if isinstance(input, str) else input)
        _expect(response, (202,), f"start {orchestrator!r}")
        return str(response.json()["id"])

    def status(
        self,
        instance_id: str,
        *,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = True,
    ) -> Status:
        """The instance's status (GET statusQueryGetUri). AssertionError if there is no such instance."""
        params = {
            "showHistory": str(show_history).lower(),
            "showHistoryOutput": str(show_history_output).lower(),
            "showInput": str(show_input).lower(),
        }
        response = self.http.get(f"{WEBHOOKS}/instances/{_quote(instance_id)}", params=params)
        _expect(response, (200, 202), f"status of {instance_id!r}")
        return dict(response.json())

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Send external event ``name`` with ``data`` (JSON; None sends ``null``) to the instance."""
        # The API wants an application/json body; an absent body would be a 400, so None goes as null.
        response = self.http.post(
            f"{WEBHOOKS}/instances/{_quote(instance_id)}/raiseEvent/{_quote(name)}",
            data=json.dumps(data).encode(),
            headers=JSON_HEADERS,
        )
        _expect(response, (202,), f"raise event {name!r} on {instance_id!r}")

    def terminate(self, instance_id: str, reason: str = "terminated by test") -> None:
        """Terminate a running instance (it becomes Terminated once the host has processed it)."""
        response = self.http.post(f"{WEBHOOKS}/instances/{_quote(instance_id)}/terminate", params={"reason": reason})
        _expect(response, (202,), f"terminate {instance_id!r}")

    def purge(self, instance_id: str) -> None:
        """Delete a finished instance's history and status."""
        response = self.http.delete(f"{WEBHOOKS}/instances/{_quote(instance_id)}")
        _expect(response, (200,), f"purge {instance_id!r}")

    def signal_entity(self, name: str, key: str, operation: str, input: Any = None) -> None:
        """Signal ``operation`` to an entity; ``input`` (None: none) goes as ``client.signal_entity`` sends it."""
        body = {} if input is None else {"data": json.dumps(json.dumps(input)).encode(), "headers": JSON_HEADERS}
        response = self.http.post(f"{WEBHOOKS}/entities/{_quote(name)}/{_quote(key)}", params={"op": operation}, **body)
        _expect(response, (202,), f"signal {operation!r} to entity {name}/{key}")

    def entity_state(self, name: str, key: str) -> Any:
        """The entity's state, or None if it does not exist (in process, operations due now run first)."""
        response = self.http.get(f"{WEBHOOKS}/entities/{_quote(name)}/{_quote(key) or '$'}")  # $: the empty key
        _expect(response, (200, 404), f"state of entity {name}/{key}")
        return response.json() if response.status == 200 else None

    # --- time and waiting ------------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def now(self) -> datetime:
        """The host's current time (virtual in-process)."""

    @abc.abstractmethod
    def advance(self, seconds: Seconds) -> datetime:
        """Let ``seconds`` pass, firing timers and waking sleeping functions in order; returns the new now."""

    @abc.abstractmethod
    def wait_for_completion(self, instance_id: str, *, timeout: float = 60.0) -> Status:
        """Wait until the instance is Completed, Failed, Terminated or Canceled; return its status.

        ``timeout`` is real seconds (a safety net). AssertionError if it cannot finish or runs out of time.
        """

    @abc.abstractmethod
    def wait_for_status(self, instance_id: str, *statuses: str, timeout: float = 60.0) -> Status:
        """Like :meth:`wait_for_completion`, until the runtime status is one of ``statuses``."""

    def run_while_time_skips(self, call: Callable[[], T], *, timeout: float = 60.0) -> T:
        """Run a blocking ``call`` (say an HTTP request that waits on the host's clock) while time passes.

        In-process, time is virtual and would stand still while the call blocks: the call runs on a worker
        thread while the host skips time until it returns. Against a real host time passes by itself, so
        this simply calls it. ``timeout`` is real seconds (a safety net).
        """
        return call()

    # --- in-process only -------------------------------------------------------------------------------
    @abc.abstractmethod
    def history(self, instance_id: str) -> list[dict[str, Any]]:
        """The current execution's history events in the SDK's shape (PascalCase keys, int EventType)."""

    @abc.abstractmethod
    def stub_activity(self, name: str, replacement: Callable[[Any], Any]) -> ActivityStub:
        """Run ``replacement(input)`` instead of activity ``name`` until the test ends."""


class ActivityStub:
    """A stubbed activity: the inputs it was called with, and a way to put the real one back early."""

    def __init__(self, name: str, restore: Callable[[], None]) -> None:
        self.name = name
        self.calls: list[Any] = []
        """Each call's decoded input, in call order."""
        self._restore = restore

    def restore(self) -> None:
        """Call the real activity again from now on (done for you when the test ends)."""
        self._restore()


class DurableAppFactory(Protocol):
    """The ``durable_app`` fixture: call it to start an app (the default one when ``app`` is None)."""

    def __call__(
        self, app: AppRef | None = None, *, start_time: datetime | None = None, workers: bool | None = None
    ) -> AppHandle: ...


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _expect(response: HttpResponse, statuses: tuple[int, ...], what: str) -> None:
    if response.status not in statuses:
        raise AssertionError(f"{what}: the host answered {response.status}: {response.text[:2000]}")
