"""What a test holds for a running app: :class:`AppHandle` (what every handle offers) and the in-process
:class:`DurableAppHandle`.

The Durable HTTP API calls (start, status, raise_event, terminate, purge) go over real HTTP to
``base_url`` and are implemented here once, so a test means the same thing in-process
(:class:`DurableAppHandle`, virtual time) and against a real host
(:class:`~devhost.testing.remote.RemoteAppHandle`, real time). Time, waiting and stubbing differ and are
abstract. The helpers assert the happy path (an unexpected status code is an AssertionError carrying the
body); to test an unhappy path, send the request yourself with ``handle.http``.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import inspect
import json
import os
import urllib.parse
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar, Union

from devhost.core import protocol
from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.testing.http import HttpClient, HttpResponse

if TYPE_CHECKING:
    from devhost.host.server import DevHost
    from devhost.testing.loop import LoopThread

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


# --- in process ---------------------------------------------------------------------------------------
class DurableAppHandle(AppHandle):
    """An app running in this process on a virtual clock (from the fixture or :func:`devhost.testing.durable_app`)."""

    remote = False

    def __init__(self, host: DevHost, loop: LoopThread) -> None:
        super().__init__(host.base_url)
        self._host = host
        self._loop = loop

    @property
    def host(self) -> DevHost:
        """The :class:`devhost.host.server.DevHost` (engine, store, clock, registry): an escape hatch."""
        return self._host

    @property
    def app_dir(self) -> Path:
        return Path(self._host.app_dir)

    @property
    def store_path(self) -> Path | None:
        return self._host.store_path

    # --- time ----------------------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return self._host.clock.now()

    def advance(self, seconds: Seconds) -> datetime:
        """Move virtual time forward by ``seconds``, stopping at every deadline on the way (a durable timer,
        a sleeping function) and letting the host finish what that deadline starts before going on.

        ``advance(0)`` runs whatever is due now (new starts, raised events) and returns when the host is idle.
        """
        self._check_running()
        amount = seconds_of(seconds)
        if not self._host.clock.can_skip:
            raise TypeError("advance() needs a host on a VirtualClock")
        engine, clock = self._host.engine, self._host.clock

        async def step_through() -> datetime:
            return await engine.advance_to(clock.now() + timedelta(seconds=amount))

        try:
            return self._loop.run(step_through(), timeout=_HOST_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"advance({amount}) did not settle within {_HOST_TIMEOUT} s of real time") from None

    def entity_state(self, name: str, key: str) -> Any:
        self.advance(0)
        return super().entity_state(name, key)

    # --- waiting -------------------------------------------------------------------------------------
    def wait_for_completion(self, instance_id: str, *, timeout: float = 60.0) -> Status:
        """Skip virtual time until the instance is Completed, Failed, Terminated or Canceled; return its status.

        AssertionError if it can never finish (e.g. it waits for an event nobody raises and no timer is
        pending: the engine reports the stall instead of hanging) or ``timeout`` real seconds pass.
        """
        return self._wait(instance_id, TERMINAL_STATUSES, "finish", timeout)

    def wait_for_status(self, instance_id: str, *statuses: str, timeout: float = 60.0) -> Status:
        wanted = check_statuses(statuses)
        return self._wait(instance_id, wanted, f"reach {'/'.join(sorted(wanted))}", timeout)

    def _wait(self, instance_id: str, wanted: frozenset[str], goal: str, timeout: float) -> Status:
        from devhost.runtime.engine import Stalled

        self._check_running()
        engine, store = self._host.engine, self._host.store

        def reached() -> bool:
            record = store.get_instance(instance_id)
            return record is not None and record.runtime_status.value in wanted

        try:
            self._loop.run(engine.run_until(reached), timeout=timeout)
        except Stalled:
            raise AssertionError(
                f"instance {instance_id!r} cannot {goal}: nothing is running or scheduled "
                f"(is it waiting for an event nobody raises?); {self._describe(instance_id)}"
            ) from None
        except TimeoutError:
            raise AssertionError(
                f"instance {instance_id!r} did not {goal} within {timeout} s of real time "
                f"(virtual time is now {self.now.isoformat()}); {self._describe(instance_id)}"
            ) from None
        return self.status(instance_id)

    def _describe(self, instance_id: str) -> str:
        record = self._host.store.get_instance(instance_id)
        if record is None:
            return "there is no such instance"
        return f"status {record.runtime_status.value}, custom status {record.custom_status}"

    def run_while_time_skips(self, call: Callable[[], T], *, timeout: float = 60.0) -> T:
        from devhost.runtime.engine import Stalled

        self._check_running()
        engine = self._host.engine

        async def drive(answered: Callable[[], bool]) -> None:
            while not answered():
                try:
                    await engine.run_until(answered)
                except Stalled:
                    # Until the call has reached the host (a request on its way to the server) the engine
                    # may find nothing to do: keep looking (asyncio.sleep(0) yields to the loop once).
                    await asyncio.sleep(0)

        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="devhost-call") as pool:
            future = pool.submit(call)
            # The call's return is not store state the engine would notice: wake it so run_until looks again.
            future.add_done_callback(lambda _: engine.notify())
            try:
                self._loop.run(drive(future.done), timeout=timeout)
            except TimeoutError:
                raise AssertionError(
                    f"the call did not return within {timeout} s of real time (virtual time is now {self.now.isoformat()})"
                ) from None
            return future.result(timeout=timeout)

    # --- in-process only -----------------------------------------------------------------------------
    def run_on_host(self, coroutine: Coroutine[Any, Any, T], *, timeout: float = 60.0) -> T:
        """Run ``coroutine`` on the host's event loop and return its result: an escape hatch for driving the
        host's own objects (:attr:`host`'s engine, store, management), which belong to that loop's thread.

        For example ``app.run_on_host(app.host.engine.run_until(condition))``. ``timeout`` is real seconds;
        TimeoutError (the coroutine is cancelled) when it runs out.
        """
        try:
            self._check_running()
        except RuntimeError:
            coroutine.close()  # never started: do not leave a "never awaited" warning behind
            raise
        return self._loop.run(coroutine, timeout=timeout)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        self._check_running()
        return list(self._host.store.get_history(instance_id))

    def stub_activity(self, name: str, replacement: Callable[[Any], Any]) -> ActivityStub:
        """Run ``replacement(input)`` instead of activity ``name`` (sync or ``async def``) until the test ends.

        Only the activity's body is replaced: the orchestrator still schedules it, gets its result through
        the history and replays for real; a raised exception fails the task as a real failure would.
        """
        from devhost.runtime.registry import ActivityFunction

        self._check_running()
        assert self._host.registry is not None
        activities = self._host.registry.activities
        if name not in activities:
            raise KeyError(f"the app has no activity named {name!r} (it has {sorted(activities)})")
        _check_one_argument(replacement)
        original: ActivityFunction = activities[name]
        stub = ActivityStub(name, lambda: activities.__setitem__(name, original))
        if inspect.iscoroutinefunction(replacement):

            async def call_async(**kwargs: Any) -> Any:
                value = kwargs[original.input_name]
                stub.calls.append(value)
                return await replacement(value)

            activities[name] = ActivityFunction(name, call_async, original.input_name)
        else:

            def call(**kwargs: Any) -> Any:
                value = kwargs[original.input_name]
                stub.calls.append(value)
                return replacement(value)

            activities[name] = ActivityFunction(name, call, original.input_name)
        return stub

    def _check_running(self) -> None:
        if self._host.state != "Running":
            raise RuntimeError(f"the app at {self.app_dir} is not running (host state {self._host.state})")


def _check_one_argument(replacement: Callable[[Any], Any]) -> None:
    if not callable(replacement):
        raise TypeError(f"stub_activity needs a callable taking the activity's input, got {replacement!r}")
    try:
        inspect.signature(replacement).bind(None)
    except TypeError:
        raise TypeError(f"stub_activity: {replacement!r} must accept exactly one argument (the input)") from None
    except ValueError:
        pass  # builtins without a signature: let the call decide
