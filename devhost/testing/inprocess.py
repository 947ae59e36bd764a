"""The in-process :class:`DurableAppHandle`: an app running in this process on a virtual clock.

Its Durable HTTP API calls are :class:`~devhost.testing.handle.AppHandle`'s (real HTTP to ``base_url``); time,
waiting and stubbing go straight to the in-process host (its engine, clock and registry) through the host's event
loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from devhost.runtime.engine import Stalled
from devhost.runtime.registry import ActivityFunction
from devhost.testing.handle import (
    _HOST_TIMEOUT,
    TERMINAL_STATUSES,
    ActivityStub,
    AppHandle,
    Seconds,
    Status,
    T,
    check_statuses,
    seconds_of,
)

if TYPE_CHECKING:
    from devhost.host.server import DevHost
    from devhost.testing.loop import LoopThread


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
        self._check_running()
        engine, store = self._host.engine, self._host.store

        seen: list[tuple[int, bool]] = []  # (engine version, answer): the store is read again only after a change

        def reached() -> bool:
            version = engine.version
            if not seen or seen[0][0] != version:
                record = store.get_instance(instance_id)
                seen[:] = [(version, record is not None and record.runtime_status.value in wanted)]
            return seen[0][1]

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
