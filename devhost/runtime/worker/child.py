"""The language worker: a child process that imports the app and runs the invocations the host sends it.

It is what the Python worker is to the Functions host: the app's code, its crashes, its memory and its
infinite loops live here, so none of them can take the host down. Each call runs through the same
in-process :class:`~devhost.runtime.invoker.Invoker` the host uses without workers, so the texts of a failed
activity, the empty 500 of a failed HTTP function and the SDK's converters are identical in both modes.

Time: on a virtual host clock the worker installs the time patch with :class:`RemoteTime`, whose ``now`` is
the host's time as of the last frame (it cannot move while this function works: the host skips time only
when every running function sleeps) and whose sleeps are requests to the host, which sleeps on its own clock
(counted as a sleeping function for the idle check) and answers when the sleep ends. Logs are forwarded to
the host's loggers, as the worker's RpcLog messages are.

The pipe is read and written on the worker's event loop (:class:`~devhost.runtime.worker.wire.Wire`): the turns
that arrive in one read replay back to back and their replies leave in one write. Frames sent from other threads
(a sync function's log lines and sleeps) are handed to the loop; before the loop runs and after it ends they are
written directly.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from devhost.clock import RealClock
from devhost.core.errors import DevhostError
from devhost.core.turn import stack_text
from devhost.runtime import loglevels
from devhost.runtime.invoker import ActivityFailed, Invoker
from devhost.runtime.loader import load_app
from devhost.runtime.loglevels import current_function
from devhost.runtime.tracing import attached
from devhost.runtime.worker import frames
from devhost.runtime.worker.wire import Wire, encode, write_blocking

REPLY_FLUSH_SIZE = 64 * 1024
"""Bytes of replies the worker writes at once (some 20 turns' answers): the host applies them while this worker replays
the next ones, and no write per answer (see :data:`devhost.runtime.worker.wire.FLUSH_SIZE` on what a write costs)."""

_HOST_LOGGERS = ("devhost", "function_app", "job_monitor")


class Channel:
    """The worker's end of the pipe: sends from any thread (through the loop while it runs), in order."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self._wire: Wire | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        on_frame: Callable[[frames.Frame], None],
        on_eof: Callable[[BaseException | None], None],
    ) -> None:
        """Read and write on ``loop`` (call on its thread, before it runs)."""
        with self._lock:
            self._loop, self._loop_thread = loop, threading.get_ident()
            # Replies leave some at a time rather than once per read (which may bring a whole round's turns): the host
            # applies the first turns' answers while this worker replays the rest.
            self._wire = Wire(self.conn.fileno(), loop, on_frame, on_eof, flush_size=REPLY_FLUSH_SIZE)

    def detach(self) -> None:
        """The loop has ended: write what it still held, and write directly from now on."""
        with self._lock:
            wire, self._wire = self._wire, None
            if wire is not None:
                wire.stop_reading()
                pending = wire.take_unsent()
                if pending:
                    try:
                        write_blocking(self.conn.fileno(), pending)
                    except OSError:
                        pass  # the host is gone

    def send(self, frame: frames.Frame) -> None:
        wire, loop = self._wire, self._loop
        if wire is not None and loop is not None and loop.is_running():
            if threading.get_ident() == self._loop_thread:
                wire.send(frame)
            else:
                loop.call_soon_threadsafe(wire.send, frame)
            return
        with self._lock:
            write_blocking(self.conn.fileno(), b"".join(encode(frame)))


class RemoteTime:
    """The host's clock as a function in this worker sees it (a :class:`devhost.clock.FunctionClock`)."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._now = datetime.fromtimestamp(0, timezone.utc)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, Callable[[], None]] = {}

    def set_now(self, timestamp: float | None) -> None:
        if timestamp is not None:
            moment = datetime.fromtimestamp(timestamp, timezone.utc)
            with self._lock:
                if moment > self._now:
                    self._now = moment

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def woke(self, sleep_id: int, timestamp: float) -> None:
        self.set_now(timestamp)
        with self._lock:
            resolve = self._waiting.pop(sleep_id, None)
        if resolve is not None:
            resolve()

    def _request(self, seconds: float, resolve: Callable[[], None]) -> None:
        sleep_id = next(self._ids)
        with self._lock:
            self._waiting[sleep_id] = resolve
        self._channel.send((frames.SLEEP, sleep_id, seconds))

    def sleep_blocking(self, seconds: float) -> None:
        if seconds <= 0:
            return
        event = threading.Event()
        self._request(seconds, event.set)
        event.wait()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        def resolve() -> None:
            loop.call_soon_threadsafe(wake)

        self._request(seconds, resolve)
        await future


class _WorkerClock:
    """Just what the Invoker asks of a clock: its ``function_clock`` and ``now`` (for the timer log line)."""

    def __init__(self, time: RemoteTime | None) -> None:
        self._time = time

    def function_clock(self) -> RemoteTime | None:
        return self._time

    def now(self) -> datetime:
        return self._time.now() if self._time is not None else RealClock().now()


class _ForwardLogs(logging.Handler):
    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            # The running function travels with the record: the host's host.json log levels file the app's
            # lines under Function.<name>.User by it (devhost.runtime.loglevels).
            self._channel.send((frames.LOG, record.name, record.levelno, message, current_function()))
        except Exception:  # noqa: BLE001 - the pipe is gone: the host no longer listens
            pass


MEMORY_LIMIT_VARIABLE = "DEVHOST_WORKER_MEMORY_LIMIT_MB"
"""App setting: cap each worker's address space (RLIMIT_AS), so a runaway allocation fails with MemoryError (or
ends the worker) instead of exhausting the developer's machine. Unset: no cap, as in Azure, where the plan's
memory is the limit."""


def _limit_memory(environ: dict[str, str]) -> None:
    text = environ.get(MEMORY_LIMIT_VARIABLE, "").strip()
    if not text.isdigit() or int(text) <= 0:
        return
    try:
        import resource

        limit = int(text) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError) as exc:  # pragma: no cover - not on this platform
        logging.getLogger("devhost.worker").warning("cannot limit worker memory: %s", exc)


def main(conn: Connection, app_dir: str, cwd: str, environ: dict[str, str], virtual: bool, log_level: int) -> None:
    """The worker process's entry point (a ``multiprocessing`` target)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the host's to handle; it stops the workers
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    channel = Channel(conn)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ForwardLogs(channel))
    root.setLevel(log_level)
    _limit_memory(environ)
    _Worker(channel, Path(app_dir), virtual).run()


class _Worker:
    def __init__(self, channel: Channel, app_dir: Path, virtual: bool) -> None:
        self.channel = channel
        self.app_dir = app_dir
        self.time = RemoteTime(channel) if virtual else None

    def run(self) -> None:
        try:
            self.registry = load_app(self.app_dir)
        except DevhostError as exc:
            self.channel.send((frames.LOAD_FAILED, str(exc)))
            return
        self.invoker = Invoker(_WorkerClock(self.time), app_dir=self.app_dir)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.stopped = self.loop.create_future()
        self.channel.attach(self.loop, self._on_frame, self._on_eof)
        self.loop.call_soon(self.channel.send, (frames.READY, os.getpid()))
        self.loop.run_until_complete(self.stopped)
        self.channel.detach()
        # The exit functions the app registered run as at any interpreter exit: OpenTelemetry's providers flush
        # what their batch processors still hold there (TracerProvider/LoggerProvider/MeterProvider register
        # ``shutdown`` with ``atexit``), or a worker's last spans and log records would be lost. The host kills
        # a worker that takes longer than its stop timeout over them.
        atexit._run_exitfuncs()
        # Invocations still running are abandoned (os._exit: no joining of their threads): the host has stopped
        # waiting for them.
        os._exit(0)

    def _on_eof(self, error: BaseException | None) -> None:
        self._on_frame((frames.STOP,))  # the host is gone (or closed the pipe, or garbled it): nothing left to do

    def _on_frame(self, frame: frames.Frame) -> None:
        if frame[0] == frames.WOKE:
            if self.time is not None:
                self.time.woke(frame[1], frame[2])
            return
        if frame[0] == frames.STOP:
            if not self.stopped.done():
                self.stopped.set_result(None)
            return
        _, call_id, kind, payload, now = frame
        if self.time is not None:
            self.time.set_now(now)
        if kind == frames.ORCHESTRATOR:
            # A turn is CPU-bound replay that never awaits: run it here, as the SDK does on the worker's loop.
            self._reply(call_id, self._orchestrate(*payload))
            return
        self.loop.create_task(self._invoke(call_id, kind, payload))

    def _reply(self, call_id: int, outcome: Any) -> None:
        try:
            self.channel.send((frames.DONE, call_id, outcome))
        except (OSError, ValueError):
            pass  # the host is gone

    def _orchestrate(self, name: str, context_json: str, trace_parent: str | None, trace_state: str | None) -> tuple[str, ...]:
        function = self.registry.orchestrators.get(name)
        if function is None:
            return (frames.FAILED, f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        try:
            # As the host does in-process (devhost.runtime.engine): the trace is attached only when the host
            # found OpenTelemetry switched on (it sends none otherwise), and log lines are the function's.
            with loglevels.running_function(name), attached(trace_parent, trace_state):
                return (frames.OK, function.handle(context_json))
        except Exception as exc:  # the SDK's failure channel: the host's turn reads the text (§1.9) and the frames
            return (frames.FAILED, str(exc), stack_text(exc))

    async def _invoke(self, call_id: int, kind: str, payload: tuple[Any, ...]) -> None:
        try:
            outcome = await self._call(kind, payload)
        except BaseException as exc:  # noqa: BLE001 - report, never die of one invocation's exception
            outcome = (frames.FAILED, f"{type(exc).__name__}: {exc}", None)
        self._reply(call_id, outcome)

    async def _call(self, kind: str, payload: tuple[Any, ...]) -> Any:
        import azure.functions as func

        if kind == frames.ACTIVITY:
            name, input_text, binding, trace_parent, trace_state = payload
            self.invoker.client_binding_json = (lambda: binding) if binding is not None else None
            function = self.registry.activities.get(name)
            if function is None:
                return (frames.FAILED, f"The function '{name}' doesn't exist, is disabled, or is not an activity function.", None)
            try:
                result = await self.invoker.call_activity(
                    function, input_text, trace_parent=trace_parent, trace_state=trace_state
                )
                return (frames.OK, result)
            except ActivityFailed as failure:
                return (frames.FAILED, failure.reason, failure.details)
        if kind == frames.HTTP:
            name, request, binding = payload
            http_function = next(f for f in self.registry.http if f.name == name)
            response = await self.invoker.call_http(http_function, func.HttpRequest(**request), binding)
            return (
                int(response.status_code),
                list(response.headers.items()),
                response.get_body() or b"",
                response.mimetype,
                response.charset,
            )
        if kind == frames.ENTITY:
            name, batch, binding = payload
            self.invoker.client_binding_json = (lambda: binding) if binding is not None else None
            try:
                return (frames.OK, await self.invoker.call_entity(self.registry.entities[name.lower()], batch))
            except Exception as exc:  # the batch failed as a whole: the host words it from the type and text
                return (frames.FAILED, type(exc).__name__, str(exc))
        if kind == frames.TIMER:
            name, timer_json, binding = payload
            self.invoker.client_binding_json = (lambda: binding) if binding is not None else None
            return await self.invoker.call_timer(self.registry.timers[name], timer_json)
        raise ValueError(f"unknown call kind {kind!r}")


if __name__ == "__main__":  # pragma: no cover - started through multiprocessing
    sys.exit("run by the host (devhost.runtime.worker.process)")
