"""The one source of time for the host: a real clock for the CLI and a virtual one for tests.

Everything that needs "now" or has to wait asks a Clock. Nothing else in devhost reads the system time,
so the virtual clock controls every timestamp in histories and statuses, every durable timer, and every
function that sleeps through :mod:`devhost.runtime.timepatch`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional, Protocol, Tuple

UTC = timezone.utc


class Clock(Protocol):
    """What the host needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when``. Cancellable."""

    def sleep_blocking(self, seconds: float) -> None:
        """Block the calling (worker) thread for ``seconds`` of this clock's time."""


class RealClock:
    """Wall-clock time. The only place in devhost that reads the system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    def sleep_blocking(self, seconds: float) -> None:
        threading.Event().wait(max(0.0, seconds))


class _Waiter:
    __slots__ = ("deadline", "resolve", "done", "from_function", "is_async", "woken")

    def __init__(self, deadline: datetime, resolve: Callable[[], None], from_function: bool, is_async: bool) -> None:
        self.deadline = deadline
        self.resolve = resolve
        self.done = False
        self.from_function = from_function
        self.is_async = is_async
        self.woken = False


class VirtualClock:
    """Time that moves only when told to: by :meth:`advance`, or by an auto-advancer while the host idles.

    Waiters are kept in deadline order. Advancing wakes every waiter whose deadline has been reached,
    in order. Blocking sleeps from function threads count as ``sleeping_functions`` so the host can tell
    "every running function is waiting on the clock" (idle) from "a function is still working" (busy).
    Thread-safe: function threads sleep on it while the event loop advances it.
    """

    def __init__(self, start: Optional[datetime] = None) -> None:
        start = start or datetime(2030, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._heap: List[Tuple[datetime, int, _Waiter]] = []
        self._counter = itertools.count()
        self._sleeping_functions = 0
        self._waking = 0
        self.on_advance: List[Callable[[], None]] = []
        self.on_function_sleep: List[Callable[[], None]] = []
        """Called (from any thread) when a function starts sleeping: the host may have become idle."""
        self.on_settled: List[Callable[[], None]] = []
        """Called when the last coroutine woken by an advance has resumed: the host may have become idle."""

    def now(self) -> datetime:
        with self._lock:
            return self._now

    @property
    def sleeping_functions(self) -> int:
        with self._lock:
            return self._sleeping_functions

    @property
    def waking(self) -> int:
        """Coroutines an advance has woken that have not resumed yet (their wake-up takes loop iterations)."""
        with self._lock:
            return self._waking

    def next_deadline(self) -> Optional[datetime]:
        """The earliest deadline anything is waiting for, or None."""
        with self._lock:
            while self._heap and self._heap[0][2].done:
                heapq.heappop(self._heap)
            return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        return self.advance_to(self.now() + timedelta(seconds=seconds))

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (never backwards) and wake the waiters it reaches."""
        due: List[_Waiter] = []
        with self._lock:
            if when > self._now:
                self._now = when
            while self._heap and self._heap[0][0] <= self._now:
                waiter = heapq.heappop(self._heap)[2]
                if not waiter.done:
                    waiter.done = True
                    if waiter.from_function:
                        self._sleeping_functions -= 1
                    if waiter.is_async:
                        waiter.woken = True
                        self._waking += 1
                    due.append(waiter)
            now = self._now
        for waiter in due:
            waiter.resolve()
        for callback in list(self.on_advance):
            callback()
        return now

    def _register(
        self, deadline: datetime, resolve: Callable[[], None], from_function: bool, is_async: bool
    ) -> Optional[_Waiter]:
        with self._lock:
            if deadline <= self._now:
                return None
            waiter = _Waiter(deadline, resolve, from_function, is_async)
            if from_function:
                self._sleeping_functions += 1
            heapq.heappush(self._heap, (deadline, next(self._counter), waiter))
        if from_function:
            for callback in list(self.on_function_sleep):
                callback()
        return waiter

    def _cancel(self, waiter: _Waiter) -> None:
        with self._lock:
            if not waiter.done:
                waiter.done = True
                if waiter.from_function:
                    self._sleeping_functions -= 1

    def _resumed(self, waiter: _Waiter) -> None:
        with self._lock:
            if not waiter.woken:
                return
            waiter.woken = False
            self._waking -= 1
            settled = self._waking == 0
        if settled:
            for callback in list(self.on_settled):
                callback()

    async def sleep_until(self, when: datetime, *, from_function: bool = False) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            loop.call_soon_threadsafe(lambda: None if future.done() else future.set_result(None))

        waiter = self._register(when, resolve, from_function, is_async=True)
        if waiter is None:
            return
        try:
            await future
        finally:
            self._cancel(waiter)
            self._resumed(waiter)

    async def sleep(self, seconds: float) -> None:
        """An ``asyncio.sleep`` on this clock, for async functions (counts as a sleeping function)."""
        await self.sleep_until(self.now() + timedelta(seconds=max(0.0, seconds)), from_function=True)

    def sleep_blocking(self, seconds: float) -> None:
        event = threading.Event()
        waiter = self._register(self.now() + timedelta(seconds=max(0.0, seconds)), event.set, True, is_async=False)
        if waiter is None:
            return
        event.wait()
