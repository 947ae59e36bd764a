"""One language-worker process as the host sees it: start it, send it calls, route its answers, notice its death.

The pipe is read and written on the host's event loop (:class:`~devhost.runtime.worker.wire.Wire`: no thread
per worker or per call, the frames of one loop pass in one write). When the pipe ends
(the worker exited, crashed or was killed) every call in flight fails with :class:`WorkerDied`, whose text is
the Functions host's for a worker process that exited (``WorkerProcess.OnProcessExited`` in
azure-functions-host builds ``"<executable> exited with code <n> (0x<n>)"``), and its pending sleeps are
cancelled so the idle check stops counting them.

Workers are forked from a ``forkserver`` that has already imported the SDKs, so starting (and replacing) one
costs milliseconds rather than the imports; the worker gets the host's environment and working directory
with its first arguments (a fork server keeps those of the moment it started).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from devhost.clock import Clock
from devhost.core.errors import DevhostError
from devhost.runtime import loglevels
from devhost.runtime.worker import child, frames
from devhost.runtime.worker.wire import Wire

log = logging.getLogger("devhost.worker")

_PRELOAD = ["azure.functions", "azure.durable_functions", "devhost.runtime.invoker", "devhost.runtime.worker.child"]
_context_lock = threading.Lock()
_context: Any = None


def _mp_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload(_PRELOAD)
            else:  # pragma: no cover - Windows
                _context = multiprocessing.get_context("spawn")
        return _context


class WorkerDied(DevhostError):
    """The worker process running a call exited before answering."""


class WorkerLoadFailed(DevhostError):
    """The worker could not import or index the app."""


class WorkerProcess:
    """A running worker: :meth:`call` sends one invocation and awaits its outcome."""

    def __init__(
        self,
        index: int,
        app_dir: Path,
        clock: Clock,
        on_exit: Callable[[WorkerProcess], None],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.index = index
        self.app_dir = app_dir
        self.clock = clock
        self._on_exit = on_exit
        self._on_change = on_change
        """Called when a sleep of this worker ends without waking it (it died): the host may have become idle."""
        self._loop = asyncio.get_running_loop()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._sleeps: set[asyncio.Task[None]] = set()
        self.ready: asyncio.Future[None] = self._loop.create_future()
        self.exited = False
        self.exit_reason = ""
        self.stopping = False
        context = _mp_context()
        host_end, worker_end = context.Pipe(duplex=True)
        self._conn: Connection = host_end
        virtual = clock.function_clock() is not None
        self.process = context.Process(
            target=child.main,
            args=(worker_end, str(app_dir), os.getcwd(), dict(os.environ), virtual, logging.getLogger().getEffectiveLevel()),
            name=f"devhost-worker-{index}",
            daemon=True,
        )
        self.process.start()
        worker_end.close()
        self.pid = self.process.pid
        self.gone: asyncio.Future[None] = self._loop.create_future()
        """Done once the end of the pipe has been handled (the worker's calls failed, ``on_exit`` called)."""
        self._wire = Wire(host_end.fileno(), self._loop, self._on_frame, self._on_end)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    # --- calls ---------------------------------------------------------------------------------------
    def call(self, kind: str, payload: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Send one invocation; the future gets its outcome, or WorkerDied. Call on the host's loop."""
        future: asyncio.Future[Any] = self._loop.create_future()
        if self.exited:
            future.set_exception(WorkerDied(self.exit_reason))
            return future
        call_id = next(self._ids)
        self._pending[call_id] = future
        now = self.clock.now().timestamp() if self.clock.can_skip else None
        self._wire.send((frames.CALL, call_id, kind, payload, now))  # a dead pipe drops it: the end fails the call
        return future

    def kill(self) -> None:
        """End the process now (a timed-out or unresponsive worker); the end of its pipe then fails its calls."""
        if self.process.pid is not None and not self.exited:
            try:
                self.process.kill()
            except (OSError, AttributeError):
                pass

    async def stop(self) -> None:
        """Ask the worker to exit (the host is stopping); kill it if it does not exit promptly."""
        self.stopping = True
        self._wire.send((frames.STOP,))
        if not await self._gone_within(2.0):
            self.kill()
            await self._gone_within(5.0)
        self._wire.close()
        self._conn.close()

    async def _gone_within(self, seconds: float) -> bool:
        done, _ = await asyncio.wait({self.gone}, timeout=seconds)
        return bool(done)

    # --- frames from the worker ----------------------------------------------------------------------
    def _on_end(self, error: BaseException | None) -> None:
        """The pipe ended (or carried a frame that cannot be read: the worker is broken, so it is ended too)."""
        if error is not None:
            log.error("worker %d sent an unreadable frame: %s", self.index, error)
            self.kill()
        # The process has closed its end: it is exiting. Its exit code is ready once its sentinel is readable (watched
        # on the loop: no thread), or, for a process that closed the pipe and lingers, given up on after 5 s.
        if self.process.exitcode is not None:
            self._on_eof(self.process.exitcode)
            return
        sentinel = self.process.sentinel
        give_up = self._loop.call_later(5.0, self._exited_or_not, sentinel)
        self._loop.add_reader(sentinel, self._exited_or_not, sentinel, give_up)

    def _exited_or_not(self, sentinel: int, give_up: asyncio.TimerHandle | None = None) -> None:
        if self.gone.done():
            return
        if give_up is not None:
            give_up.cancel()
        self._loop.remove_reader(sentinel)
        self._on_eof(self.process.exitcode)

    def _on_frame(self, frame: frames.Frame) -> None:
        tag = frame[0]
        if tag == frames.DONE:
            future = self._pending.pop(frame[1], None)
            if future is not None and not future.done():
                future.set_result(frame[2])
        elif tag == frames.SLEEP:
            task = self._loop.create_task(self._sleep(frame[1], frame[2]))
            self._sleeps.add(task)
            task.add_done_callback(self._sleeps.discard)
        elif tag == frames.LOG:
            function = frame[4] if len(frame) > 4 else None
            with loglevels.running_function(function) if function else contextlib.nullcontext():
                logging.getLogger(frame[1]).log(frame[2], "%s", frame[3])
        elif tag == frames.READY:
            if not self.ready.done():
                self.ready.set_result(None)
        elif tag == frames.LOAD_FAILED:
            if not self.ready.done():
                self.ready.set_exception(WorkerLoadFailed(frame[1]))

    async def _sleep(self, sleep_id: int, seconds: float) -> None:
        function_clock = self.clock.function_clock()
        assert function_clock is not None  # the worker sends sleeps only on a function clock
        try:
            await function_clock.sleep(seconds)
        except asyncio.CancelledError:
            self._on_change()
            raise
        self._wire.send((frames.WOKE, sleep_id, self.clock.now().timestamp()))

    def _on_eof(self, exitcode: int | None) -> None:
        self.exited = True
        code = exitcode if exitcode is not None else -1
        # As azure-functions-host's WorkerProcess.OnProcessExited words it; a signal shows as its negative number.
        self.exit_reason = f"{Path(sys.executable).name} exited with code {code} (0x{code & 0xFFFFFFFF:X})"
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerDied(self.exit_reason))
        for task in list(self._sleeps):
            task.cancel()
        if not self.ready.done():
            self.ready.set_exception(WorkerDied(self.exit_reason))
        if not self.gone.done():
            self.gone.set_result(None)
        self._on_exit(self)
