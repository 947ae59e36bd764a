"""The invoker that runs the app in worker processes: pick a worker, enforce ``functionTimeout``, replace the dead.

:class:`WorkerInvoker` is an :class:`~devhost.runtime.invoker.Invoker` (the engine, the HTTP routes and the
timer scheduler call it the same way); its calls go to ``FUNCTIONS_WORKER_PROCESS_COUNT`` workers, least busy
first. A function the host's registry no longer shares with the worker (a test's ``stub_activity``) is test
code, and runs in the host process through the base class.

What a call becomes when its worker dies or times out follows the Functions host and the Durable extension:

- an **activity** fails (TaskActivityShim: a failed function execution that is not a host shutdown is a
  ``UserCodeError`` or ``FunctionTimeoutError``, reported as ``Activity function '<name>' failed: <message>``),
  so the orchestrator's retry policy or failure path runs; the extension retries it only when the host
  stops, which here is the engine keeping the work item;
- an **HTTP function** answers an empty 500, as any failed invocation does;
- an **orchestrator turn** (or entity batch) whose worker died raises :class:`~devhost.core.errors.TurnAborted`:
  nothing is committed and the engine runs the turn again on a fresh worker (its messages are still in the
  store); one that timed out fails the orchestration with the timeout text, as the extension does;
- a **timer function** fails (logged; the schedule goes on).

``functionTimeout`` is counted in real time (it is the host's wall-clock timer, and a function busy in a loop
holds virtual time still) and, on a virtual clock, also in virtual time (a function asleep past its timeout).
Real-time deadlines are checked by one periodic sweep over the calls in flight rather than a timer per call (a
turn is a call: a timer each would cost more than the turn's pipe traffic). A deadline is a count of sweep ticks
(the sweep's own ``call_later``, so no clock is read here), so a call times out up to one tick
(:data:`SWEEP_TICK` at most, an eighth of a short ``functionTimeout``) late.
Past it the call fails with the host's text (azure-webjobs-sdk FunctionExecutor: ``Timeout value of
<hh:mm:ss> exceeded by function '<name>' (Id: '<id>'). Initiating cancellation.``) and its worker is recycled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import azure.functions as func

from devhost.clock import Clock
from devhost.core.errors import TurnAborted
from devhost.runtime.invoker import ActivityFailed, Invoker
from devhost.runtime.registry import (
    ActivityFunction,
    EntityFunction,
    FunctionRegistry,
    HttpFunction,
    OrchestratorFunction,
    TimerFunction,
)
from devhost.runtime.worker import frames
from devhost.runtime.worker.process import WorkerDied, WorkerLoadFailed, WorkerProcess

log = logging.getLogger("devhost.worker")


MAX_FAILED_STARTS = 10
"""Workers in a row that may die before they are ready (killed while starting) before the host stops replacing them."""


SWEEP_TICK = 1.0
"""Seconds between checks of the calls' real-time deadlines (less for a functionTimeout under 8 s: an eighth of it)."""


class NoWorker(WorkerDied):
    """No language worker is running and none is starting: the host gave up replacing them."""


class FunctionTimedOut(Exception):
    """An invocation ran past ``functionTimeout``; its worker has been recycled."""


def timeout_text(seconds: float) -> str:
    """A TimeSpan's ``ToString()`` (``hh:mm:ss``, ``d.hh:mm:ss`` past a day) as the host's message shows it."""
    span = timedelta(seconds=seconds)
    hours, rest = divmod(span.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02}:{minutes:02}:{secs:02}"
    return f"{span.days}.{text}" if span.days else text


class WorkerInvoker(Invoker):
    """Runs orchestrator turns, activities, HTTP and timer functions in worker processes."""

    turns_off_loop = True

    def __init__(
        self,
        clock: Clock,
        registry: FunctionRegistry,
        *,
        app_dir: Path,
        processes: int = 1,
        function_timeout: float | None = None,
        max_threads: int | None = None,
    ) -> None:
        super().__init__(clock, max_threads=max_threads, app_dir=app_dir)
        self.app_dir = Path(app_dir)
        self.registry = registry
        self.processes = max(1, processes)
        self.function_timeout = function_timeout
        self.workers: list[WorkerProcess] = []
        self.replaced = 0
        """Workers started to replace one that exited (crashed, killed or recycled)."""
        # What the workers run: the registry as indexed. A function replaced since (a stub) runs here.
        self._indexed_activities = dict(registry.activities)
        self._indexed_orchestrators = dict(registry.orchestrators)
        self._indexed_entities = dict(registry.entities)
        self._remote_running = 0
        self._failed_starts = 0
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadlines: dict[asyncio.Future[Any], tuple[int, str, WorkerProcess]] = {}
        """Timed calls in flight: the sweep tick that fails each, its function, its worker."""
        self._sweep: asyncio.TimerHandle | None = None
        self._ticks = 0
        """Sweep ticks so far: the real-time clock of the deadlines."""

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the workers and wait until each has imported the app (WorkerLoadFailed if it cannot)."""
        self._loop = asyncio.get_running_loop()
        self.workers = [self._spawn(index) for index in range(self.processes)]
        try:
            await asyncio.gather(*(worker.ready for worker in self.workers))
        except WorkerLoadFailed:
            await self.aclose()
            raise

    def _spawn(self, index: int) -> WorkerProcess:
        return WorkerProcess(index, self.app_dir, self._clock, self._exited, lambda: self.on_change())

    def _exited(self, worker: WorkerProcess) -> None:
        if self._closing or worker.stopping or worker not in self.workers:
            return
        started = worker.ready.done() and worker.ready.exception() is None
        self._failed_starts = 0 if started else self._failed_starts + 1
        if isinstance(worker.ready.exception() if worker.ready.done() else None, WorkerLoadFailed) or (
            self._failed_starts > MAX_FAILED_STARTS
        ):
            # The app does not load in a worker (or workers keep dying before they are ready): starting another
            # would only loop. Calls now fail with "no language worker is running" until the host restarts.
            log.error("Language worker %d (pid %s) could not start: %s", worker.index, worker.pid, worker.exit_reason)
            return
        log.warning("Language worker %d (pid %s) exited: %s; starting a new one", worker.index, worker.pid, worker.exit_reason)
        replacement = self._spawn(worker.index)
        self.workers[self.workers.index(worker)] = replacement
        self.replaced += 1
        replacement.ready.add_done_callback(_log_unready)

    async def aclose(self) -> None:
        """Stop every worker (the host is stopping); invocations still running in them are abandoned."""
        self._closing = True
        workers, self.workers = self.workers, []
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        await asyncio.gather(*(worker.stop() for worker in workers))

    def close(self) -> None:
        super().close()
        self._closing = True
        for worker in self.workers:
            worker.kill()

    @property
    def running(self) -> int:
        return super().running + self._remote_running

    # --- choosing a worker and calling it ------------------------------------------------------------
    def _ready_worker(self) -> WorkerProcess | None:
        """The least busy worker that is ready, or None (then :meth:`_worker` waits for one)."""
        best: WorkerProcess | None = None
        for worker in self.workers:
            if worker.exited or not worker.ready.done() or worker.ready.exception() is not None:
                continue
            if best is None or worker.in_flight < best.in_flight:
                best = worker
        return best

    async def _worker(self) -> WorkerProcess:
        """The least busy ready worker, waiting for one to start if none is ready yet."""
        while True:
            ready = self._ready_worker()
            if ready is not None:
                return ready
            live = [worker for worker in self.workers if not worker.exited]
            if self._closing or not live:
                raise NoWorker("no language worker is running")
            await asyncio.wait([worker.ready for worker in live], return_when=asyncio.FIRST_COMPLETED)

    async def _remote(self, kind: str, name: str, payload: tuple[Any, ...], *, timed: bool = True) -> Any:
        worker = self._ready_worker() or await self._worker()  # no coroutine when one is ready (the common case)
        call = worker.call(kind, payload)
        timeout = self.function_timeout
        if not timed or timeout is None or call.done():
            return await call
        tick = _tick(timeout)
        # The first tick may come at once (the sweep is already running): one more than the timeout's length.
        self._deadlines[call] = (self._ticks + math.ceil(timeout / tick) + 1, name, worker)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(tick, self._check_deadlines)
        virtual_deadline: asyncio.Task[None] | None = None
        if self._clock.function_clock() is not None and self._clock.can_skip:
            # A function asleep on the virtual clock past its timeout: time skips to the deadline, which fails it.
            deadline = self._clock.now() + timedelta(seconds=timeout)
            virtual_deadline = asyncio.ensure_future(self._clock.sleep_until(deadline))
            virtual_deadline.add_done_callback(lambda ended: None if ended.cancelled() else self._time_out(call, name, worker))
        try:
            return await call
        finally:
            self._deadlines.pop(call, None)
            if virtual_deadline is not None and not virtual_deadline.done():
                virtual_deadline.cancel()

    def _check_deadlines(self) -> None:
        """The periodic sweep: fail the calls past their real-time deadline; runs only while timed calls are in flight."""
        self._sweep = None
        self._ticks += 1
        if self._closing or not self._deadlines or self.function_timeout is None:
            return
        for call, (deadline, name, worker) in list(self._deadlines.items()):
            if deadline <= self._ticks:
                self._time_out(call, name, worker)
        if self._deadlines:
            self._sweep = asyncio.get_running_loop().call_later(_tick(self.function_timeout), self._check_deadlines)

    def _time_out(self, call: asyncio.Future[Any], name: str, worker: WorkerProcess) -> None:
        """Fail a call past functionTimeout with the host's text and recycle its worker (its other calls die with it)."""
        self._deadlines.pop(call, None)
        if call.done() or self.function_timeout is None:
            return
        text = (
            f"Timeout value of {timeout_text(self.function_timeout)} exceeded by function 'Functions.{name}' "
            f"(Id: '{uuid.uuid4()}'). Initiating cancellation."
        )
        log.error("%s Recycling language worker %d (pid %s).", text, worker.index, worker.pid)
        call.set_exception(FunctionTimedOut(text))
        worker.kill()

    # --- orchestrator turns --------------------------------------------------------------------------
    def remote_orchestrator(
        self, function: OrchestratorFunction, *, trace: tuple[str | None, str | None] = (None, None)
    ) -> Callable[[str], Awaitable[str]] | None:
        """An ``async handle(context_json) -> state_json`` that replays in a worker (which attaches ``trace``
        around it), awaited on the host's loop; None for an orchestrator the host's registry replaced since the
        workers indexed the app (test code), which replays here."""
        if self._indexed_orchestrators.get(function.name) is not function:
            return None
        return functools.partial(self._replay, function.name, trace)

    async def _replay(self, name: str, trace: tuple[str | None, str | None], context_json: str) -> str:
        outcome = await self._orchestrate(name, context_json, trace)
        if outcome[0] == frames.OK:
            return str(outcome[1])
        failure = RuntimeError(outcome[1])  # the SDK's failure text: the core reads it as the orchestrator's failure
        failure.stack_text = outcome[2] if len(outcome) > 2 else ""  # type: ignore[attr-defined]  # the worker's frames
        raise failure

    async def _orchestrate(self, name: str, context_json: str, trace: tuple[str | None, str | None]) -> tuple[str, ...]:
        try:
            outcome: tuple[str, ...] = await self._remote(frames.ORCHESTRATOR, name, (name, context_json, *trace))
        except NoWorker as exc:
            return (frames.FAILED, str(exc))  # retrying could only spin: there is nothing to retry on
        except WorkerDied as exc:
            raise TurnAborted(f"the function '{name}' did not finish its turn: {exc}") from None
        except FunctionTimedOut as exc:
            # The extension fails the orchestration on a timeout (FunctionExecutionHelper: FunctionTimeoutFailure,
            # after shim.TimeoutTriggered); retrying would only hang again.
            return (frames.FAILED, str(exc))
        return outcome

    async def call_entity(self, fn: EntityFunction, payload: str) -> str:
        """One entity batch in a worker. A worker that dies aborts the batch (its requests stay queued and run
        again, like an orchestrator turn); one past functionTimeout fails the batch as a whole."""
        if self._indexed_entities.get(fn.name.lower()) is not fn:
            return await super().call_entity(fn, payload)
        binding = self.client_binding_json() if fn.durable_client_args and self.client_binding_json else None
        self._remote_running += 1
        try:
            outcome = await self._remote(frames.ENTITY, fn.name, (fn.name, payload, binding))
        except NoWorker:
            raise
        except WorkerDied as exc:
            raise TurnAborted(f"the entity '{fn.name}' did not finish its batch: {exc}") from None
        finally:
            self._remote_running -= 1
            self.on_change()
        if outcome[0] == frames.OK:
            return str(outcome[1])
        raise _named_exception(outcome[1], outcome[2])

    # --- activities, HTTP and timer functions --------------------------------------------------------
    async def call_activity(
        self, fn: ActivityFunction, input_text: str | None, *, trace_parent: str | None = None, trace_state: str | None = None
    ) -> str:
        if self._indexed_activities.get(fn.name) is not fn:  # a stub: test code, run in the host
            return await super().call_activity(fn, input_text, trace_parent=trace_parent, trace_state=trace_state)
        binding = self.client_binding_json() if fn.durable_client_args and self.client_binding_json else None
        self._remote_running += 1
        try:
            payload = (fn.name, input_text, binding, trace_parent, trace_state)
            outcome = await self._remote(frames.ACTIVITY, fn.name, payload)
        except (WorkerDied, FunctionTimedOut) as exc:
            log.error("Executed 'Functions.%s' (Failed)\n%s", fn.name, exc)
            raise ActivityFailed(
                reason=f"Activity function '{fn.name}' failed: {exc}", details=f"{type(exc).__name__}: {exc}"
            ) from None
        finally:
            self._remote_running -= 1
            self.on_change()  # one function fewer running: the host may be idle now
        if outcome[0] == frames.OK:
            return str(outcome[1])
        raise ActivityFailed(reason=outcome[1], details=outcome[2])

    async def call_http(self, fn: HttpFunction, request: func.HttpRequest, binding_json: str) -> func.HttpResponse:
        wire = {
            "method": request.method,
            "url": request.url,
            "headers": dict(request.headers),
            "params": dict(request.params),
            "route_params": dict(request.route_params),
            "body": request.get_body(),
        }
        self._remote_running += 1
        try:
            outcome = await self._remote(frames.HTTP, fn.name, (fn.name, wire, binding_json))
        except (WorkerDied, FunctionTimedOut) as exc:
            log.error("Executed 'Functions.%s' (Failed)\n%s", fn.name, exc)
            return func.HttpResponse(status_code=500)
        finally:
            self._remote_running -= 1
            self.on_change()  # one function fewer running: the host may be idle now
        if outcome[0] == frames.FAILED:
            return func.HttpResponse(status_code=500)
        status, headers, body, mimetype, charset = outcome
        return func.HttpResponse(body=body, status_code=status, headers=dict(headers), mimetype=mimetype, charset=charset)

    async def call_timer(self, fn: TimerFunction, timer_json: str) -> bool:
        binding = self.client_binding_json() if fn.durable_client_args and self.client_binding_json else None
        self._remote_running += 1
        try:
            outcome = await self._remote(frames.TIMER, fn.name, (fn.name, timer_json, binding))
        except (WorkerDied, FunctionTimedOut) as exc:
            log.error("Executed 'Functions.%s' (Failed)\n%s", fn.name, exc)
            return False
        finally:
            self._remote_running -= 1
            self.on_change()  # one function fewer running: the host may be idle now
        return outcome is True


def _tick(timeout: float) -> float:
    return min(SWEEP_TICK, timeout / 8)


def _named_exception(type_name: str, message: str) -> Exception:
    """An exception whose type has the name of the one the worker caught, so ``f"{type(exc).__name__}: {exc}"``
    (how the engine words a failed batch) reads exactly as it does in-process."""
    return type(type_name, (Exception,), {})(message)


def _log_unready(ready: asyncio.Future[None]) -> None:
    if not ready.cancelled() and ready.exception() is not None:
        log.error("A replacement language worker could not start: %s", ready.exception())
