"""Calling the app's activity and HTTP functions the way the Python worker does.

Activities (protocol §2.2/§2.3): the input JSON text is decoded with the SDK's ActivityTriggerConverter,
the function is called with ``**{input_name: value}`` and the return value is encoded back to JSON text
for ``TaskCompleted.Result``. Failures carry the texts the Durable extension produces for out-of-process
workers (see :class:`ActivityFailed`).

HTTP functions get a ``func.HttpRequest`` (absolute URL, protocol §2.3), each durable client binding as
its JSON string, and ``context`` when they declare it — always as keyword arguments, since the SDK's
client middleware reads ``kwargs[client_name]``.

Sync functions run on worker threads, async ones on the loop; when the clock gives functions a clock of their
own (:meth:`devhost.clock.Clock.function_clock`, the virtual one does) both run inside
:func:`devhost.runtime.timepatch.using_clock`, so their ``time.sleep``/``asyncio.sleep`` follow virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import json
import logging
import os
import threading
import traceback
import uuid
from collections.abc import Awaitable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Callable

import azure.functions as func
from azure.functions import _abc, meta
from azure.functions._durable_functions import EntityContext
from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.timer import TimerRequestConverter

from devhost.clock import Clock, FunctionClock
from devhost.runtime import loglevels, timepatch
from devhost.runtime.registry import ActivityFunction, EntityFunction, HttpFunction, OrchestratorFunction, TimerFunction
from devhost.runtime.threadpool import FUNCTION_THREAD_PREFIX, DaemonPool

log = logging.getLogger("devhost.invoke")


class ActivityFailed(Exception):
    """An activity raised (or returned something that is not JSON-serializable).

    ``reason`` is the extension's TaskActivityShim text: ``Activity function '<name>' failed: <message>``,
    where for an out-of-process worker ``<message>`` is what OutOfProcExceptionHelpers cuts from the
    host's RpcException text (``"Result: Failure\\nException: <Type>: <msg>\\nStack: ..."``): everything
    between ``"\\nException:"`` and ``"\\nStack:"``, leading space included. Hence the two spaces in
    ``"failed:  ValueError: boom"``. ``details`` is the Python traceback (the extension sends the
    serialized .NET exception there; the traceback is what a Python developer can use).
    """

    def __init__(self, reason: str, details: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class _TraceContext(_abc.TraceContext):
    def __init__(self, trace_parent: str, trace_state: str) -> None:
        self._trace_parent = trace_parent
        self._trace_state = trace_state

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class InvocationContext(func.Context):
    """The ``context`` argument (the worker's Context: invocation id, function name and directory, trace)."""

    def __init__(self, function_name: str, function_directory: str, *, trace_parent: str = "", trace_state: str = "") -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = _TraceContext(trace_parent, trace_state)
        self._thread_local_storage = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local_storage

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> _abc.TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> Any:
        return None


def _worker_message(exc: BaseException) -> str:
    """The RpcException message the Python worker sends for a failed invocation."""
    return f"{type(exc).__name__}: {exc}"


def _traceback_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip("\n")


@functools.cache
def _wants_context(fn: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class Invoker:
    """Runs activity and HTTP functions; counts how many are executing (``running``) for the idle check.

    This one runs them in the host's own process; :class:`devhost.runtime.worker.pool.WorkerInvoker` runs them
    in language-worker processes behind the same methods.
    """

    turns_off_loop = False
    """True when orchestrators replay in another process (:meth:`remote_orchestrator`): the engine then awaits a
    round's turns side by side on its loop instead of deciding them one after another."""

    def __init__(self, clock: Clock, *, max_threads: int | None = None, app_dir: Path | None = None) -> None:
        # Only a clock that gives functions their own time (the virtual one) is patched in per call;
        # with the real clock nothing is.
        self._clock = clock
        self._function_clock: FunctionClock | None = clock.function_clock()
        # Sync functions run on reused daemon threads (not a ThreadPoolExecutor, whose workers are joined at exit: a
        # function asleep on a virtual clock nobody advances any more must not hang interpreter exit). Starting a
        # thread per call costs more than a small activity. The pool must fit every concurrently running sync
        # function: a call queued behind functions asleep on the virtual clock would count as running but never
        # reach its own sleep (the engine starts at most maxConcurrentActivityFunctions, below this bound).
        threads = max_threads or max(32, (os.cpu_count() or 1) + 4)
        self._pool = DaemonPool(threads)
        self._function_directory = str(app_dir) if app_dir is not None else os.getcwd()
        self._running = 0
        self.on_change: Callable[[], None] = _nothing
        """Called when the idle check may have changed outside the clock's knowledge (the engine's notify)."""
        self.client_binding_json: Callable[[], str] | None = None
        """The durableClient binding JSON for functions other than HTTP ones (set by the host once it listens)."""
        if self._function_clock is not None:
            timepatch.install()

    async def start(self) -> None:
        """Get ready to run functions (nothing to do in-process)."""

    async def aclose(self) -> None:
        """Release what :meth:`start` took (nothing in-process; see :meth:`close` for the thread pool)."""

    def orchestrator_handle(
        self, function: OrchestratorFunction, *, trace: tuple[str | None, str | None] = (None, None)
    ) -> Callable[[str], str]:
        """The SDK's ``handle(context_json) -> state_json`` for ``function``: here, the function itself (the engine
        attaches ``trace`` around it; a worker process attaches it there)."""
        return function.handle

    def remote_orchestrator(
        self, function: OrchestratorFunction, *, trace: tuple[str | None, str | None] = (None, None)
    ) -> Callable[[str], Awaitable[str]] | None:
        """An ``async handle(context_json) -> state_json`` that replays ``function`` in another process (which
        attaches ``trace`` there), or None when it replays here (:meth:`orchestrator_handle`)."""
        return None

    @property
    def running(self) -> int:
        """Invocations started and not yet finished (including ones asleep on the clock)."""
        return self._running

    def context_for(self, function_name: str, *, trace_parent: str = "", trace_state: str = "") -> InvocationContext:
        return InvocationContext(function_name, self._function_directory, trace_parent=trace_parent, trace_state=trace_state)

    async def _call(self, fn: Callable[..., Any], kwargs: dict[str, Any], is_async: bool) -> Any:
        """Call ``fn(**kwargs)`` on the function clock: async on the loop, sync in the pool."""
        self._running += 1
        try:
            if is_async:
                with self._clock_scope():
                    return await fn(**kwargs)
            result = await self._in_thread(fn, kwargs)
            if inspect.isawaitable(result):  # a sync def returning a coroutine
                with self._clock_scope():
                    result = await result
            return result
        finally:
            self._running -= 1
            # One function fewer running: the host may be idle now. Nothing else need say so: a timer trigger's
            # schedule, say, next sleeps on the clock as the host, which wakes nobody (the worker pool does the same).
            self.on_change()

    def _clock_scope(self) -> AbstractContextManager[None]:
        # With the real clock the context variable is never set: the patched functions stay pass-throughs.
        return contextlib.nullcontext() if self._function_clock is None else timepatch.using_clock(self._function_clock)

    async def _in_thread(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            if not future.done():  # cancelled when the host stopped waiting
                outcome()

        # Threads do not inherit context variables: the function runs in a copy of the caller's context
        # (which names the running function for the host.json log levels, devhost.runtime.loglevels).
        context = contextvars.copy_context()

        def target() -> None:
            # On a function clock the thread carries the function's name while it runs: the test kit joins the
            # threads so named after releasing the sleepers of a stopped host.
            thread = threading.current_thread()
            idle_name = thread.name
            if self._function_clock is not None:
                thread.name = f"{FUNCTION_THREAD_PREFIX}{getattr(fn, '__name__', 'function')}"
            try:
                if self._function_clock is None:
                    result = context.run(fn, **kwargs)
                else:
                    result = context.run(timepatch.run_with_clock, self._function_clock, fn, **kwargs)
            except BaseException as exc:  # delivered to the awaiting coroutine, like run_in_executor
                if not isinstance(exc, Exception):  # sys.exit() in a function must not stop the host
                    exc = RuntimeError(f"{type(exc).__name__}: {exc}")
                report = functools.partial(settle, functools.partial(future.set_exception, exc))
            else:
                report = functools.partial(settle, functools.partial(future.set_result, result))
            finally:
                thread.name = idle_name
            try:
                loop.call_soon_threadsafe(report)
            except RuntimeError:
                pass  # the loop is gone: nobody is waiting for this result any more

        self._pool.submit(target)  # the pool bounds the threads itself
        return await future

    async def call_activity(
        self, fn: ActivityFunction, input_text: str | None, *, trace_parent: str | None = None, trace_state: str | None = None
    ) -> str:
        """Run one activity; returns the JSON text for ``TaskCompleted.Result``. Raises ActivityFailed.

        ``trace_parent``/``trace_state``: the orchestration instance's trace context (the request that started
        it), given to the function as ``context.trace_context``."""
        invocation = self.context_for(fn.name, trace_parent=trace_parent or "", trace_state=trace_state or "")
        log.info("Executing 'Functions.%s' (Reason='(null)', Id=%s)", fn.name, invocation.invocation_id)
        try:
            value = ActivityTriggerConverter.decode(
                meta.Datum(value="null" if input_text is None else input_text, type="json"), trigger_metadata=None
            )
            kwargs: dict[str, Any] = {fn.input_name: value}
            kwargs.update(self._client_kwargs(fn.durable_client_args))
            if _wants_context(fn.fn) and fn.input_name != "context":
                kwargs["context"] = invocation
            with loglevels.running_function(fn.name):
                result = await self._call(fn.fn, kwargs, fn.is_async)
            # Encoding happens in the worker after the call; its ValueError fails the invocation the same way.
            text = ActivityTriggerConverter.encode(result, expected_type=None).value
        except Exception as exc:
            log.error("Executed 'Functions.%s' (Failed, Id=%s)\n%s", fn.name, invocation.invocation_id, _traceback_text(exc))
            raise ActivityFailed(
                reason=f"Activity function '{fn.name}' failed:  {_worker_message(exc)}",
                details=_traceback_text(exc),
            ) from exc
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s)", fn.name, invocation.invocation_id)
        return str(text)

    async def call_entity(self, fn: EntityFunction, payload: str) -> str:
        """Run one entity batch: the SDK's handle gets the entity context (an ``EntityContext`` over ``payload``,
        as the worker's EnitityTriggerConverter decodes it) and returns the ``EntityState`` JSON text. The SDK
        catches each operation's exception itself; anything raised here fails the whole batch."""
        invocation = self.context_for(fn.name)
        log.info("Executing 'Functions.%s' (Reason='(null)', Id=%s)", fn.name, invocation.invocation_id)
        kwargs: dict[str, Any] = {fn.context_arg: EntityContext(payload), **self._client_kwargs(fn.durable_client_args)}
        try:
            with loglevels.running_function(fn.name):
                result = await self._call(fn.handle, kwargs, inspect.iscoroutinefunction(fn.handle))
        except Exception as exc:
            log.error("Executed 'Functions.%s' (Failed, Id=%s)\n%s", fn.name, invocation.invocation_id, _traceback_text(exc))
            raise
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s)", fn.name, invocation.invocation_id)
        return result if isinstance(result, str) else json.dumps(result)

    async def call_http(self, fn: HttpFunction, request: func.HttpRequest, binding_json: str) -> func.HttpResponse:
        """Run one HTTP function. Failures (exceptions, unusable return values) become an empty 500."""
        invocation = self.context_for(
            fn.name,
            trace_parent=request.headers.get("traceparent", ""),
            trace_state=request.headers.get("tracestate", ""),
        )
        log.info(
            "Executing 'Functions.%s' (Reason='This function was programmatically called via the host APIs.', Id=%s)",
            fn.name,
            invocation.invocation_id,
        )
        kwargs: dict[str, Any] = {fn.request_arg: request}
        for client_arg in fn.durable_client_args:
            kwargs[client_arg] = binding_json
        if fn.context_arg:
            kwargs[fn.context_arg] = invocation
        try:
            with loglevels.running_function(fn.name):
                result = await self._call(fn.fn, kwargs, fn.is_async)
            response = _as_http_response(result)
        except Exception as exc:
            log.error("Executed 'Functions.%s' (Failed, Id=%s)\n%s", fn.name, invocation.invocation_id, _traceback_text(exc))
            return func.HttpResponse(status_code=500)
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s)", fn.name, invocation.invocation_id)
        return response

    def _client_kwargs(self, names: Any) -> dict[str, str]:
        if not names:
            return {}
        if self.client_binding_json is None:
            raise RuntimeError("the durable client binding is not available before the host listens")
        binding = self.client_binding_json()
        return {name: binding for name in names}

    async def call_timer(self, fn: TimerFunction, timer_json: str) -> bool:
        """Run one timer-triggered function with a ``func.TimerRequest`` decoded from ``timer_json`` by the SDK's
        TimerRequestConverter, as the worker does. Failures are logged (the schedule goes on); False if it failed."""
        invocation = self.context_for(fn.name)
        log.info(
            "Executing 'Functions.%s' (Reason='Timer fired at %s', Id=%s)",
            fn.name,
            self._clock.now().isoformat(),
            invocation.invocation_id,
        )
        try:
            request = TimerRequestConverter.decode(meta.Datum(value=timer_json, type="json"), trigger_metadata=None)
            kwargs: dict[str, Any] = {fn.arg_name: request, **self._client_kwargs(fn.durable_client_args)}
            if fn.context_arg:
                kwargs[fn.context_arg] = invocation
            with loglevels.running_function(fn.name):
                await self._call(fn.fn, kwargs, inspect.iscoroutinefunction(fn.fn))
        except Exception as exc:
            log.error("Executed 'Functions.%s' (Failed, Id=%s)\n%s", fn.name, invocation.invocation_id, _traceback_text(exc))
            return False
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s)", fn.name, invocation.invocation_id)
        return True

    def close(self) -> None:
        """Let the pool's workers exit once idle. Functions still running are daemons nobody waits for any more."""
        self._pool.close()


def _nothing() -> None:
    return None


def _as_http_response(result: Any) -> func.HttpResponse:
    """What the worker's ``$return`` http binding accepts (HttpResponseConverter.encode): a response or a str.

    Anything else — including ``None`` and ``bytes`` — makes the worker fail the invocation with
    ``TypeError: unable to encode outgoing TypedData`` and the host answer 500.
    """
    if isinstance(result, func.HttpResponse):
        return result
    if isinstance(result, str):
        return func.HttpResponse(result, status_code=200, mimetype="text/plain", charset="utf-8")
    raise TypeError(
        "unable to encode outgoing TypedData: unsupported type \"<class 'azure.functions.http.HttpResponseConverter'>\" "
        f'for Python type "{type(result).__name__}"'
    )
