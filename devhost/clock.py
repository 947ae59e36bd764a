"""The one source of time for the host: a real clock for the CLI and a virtual one for tests.

Everything that needs "now" or has to wait asks a :class:`Clock`. Nothing else in devhost reads the system
time, so the virtual clock controls every timestamp in histories and statuses, every durable timer, and every
function that sleeps through :mod:`devhost.runtime.timepatch`.

The protocol also carries what the engine and the test kit need to *drive* time (whether it can skip, the next
deadline, moving to it, the idle bookkeeping of sleeping functions, wake-up subscriptions, the clock functions
see), so no caller has to ask which clock it holds. :class:`RealClock` answers honestly: it never skips, keeps
no schedule and announces nothing.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

UTC = timezone.utc

Unsubscribe = Callable[[], None]


class FunctionClock(Protocol):
    """The time an invoked function sees through :mod:`devhost.runtime.timepatch` (``time.time``/``sleep``)."""

    def now(self) -> datetime: ...

    def sleep_blocking(self, seconds: float) -> None: ...

    async def sleep(self, seconds: float) -> None: ...


class Clock(Protocol):
    """What the host needs from time, and what a driver of time (the engine, the test kit) may ask of it."""

    @property
    def can_skip(self) -> bool:
        """True when time moves only through :meth:`advance_to` (virtual), so idle time can be skipped."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when``. Cancellable."""

    def sleep_blocking(self, seconds: float) -> None:
        """Block the calling (worker) thread for ``seconds`` of this clock's time."""

    def next_deadline(self) -> datetime | None:
        """The earliest moment a sleeper on this clock waits for, or None (also: a clock keeping no schedule)."""

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (never back), waking the sleepers it reaches; returns the new now.

        Only for a clock that :attr:`can_skip`; the real clock raises TypeError.
        """

    @property
    def sleeping_functions(self) -> int:
        """Invoked functions asleep on this clock: waiting for time, not working (the idle check counts them)."""

    @property
    def waking(self) -> int:
        """Coroutines an advance has woken that have not resumed yet: about to work, so not idle."""

    @property
    def woken_on_loop(self) -> int:
        """How many coroutines advances have woken so far (a running count): while it stays the same, no advance
        has woken anything on the event loop that whoever awaits it still has to resume."""

    def subscribe(self, callback: Callable[[], None]) -> Unsubscribe:
        """Call ``callback`` (from any thread) whenever the host may have become idle or time moved.

        That is: a function started sleeping, time advanced, or the coroutines an advance woke have all
        resumed. Returns the function that cancels the subscription.
        """

    def function_clock(self) -> FunctionClock | None:
        """The clock invoked functions should see, or None for real time (then nothing is patched per call)."""


class RealClock:
    """Wall-clock time. The only place in devhost that reads the system clock.

    It never skips: time moves by itself, sleepers wake through the event loop's own timers (so it keeps no
    schedule and has no deadline to report), and functions sleep in real time, unpatched.
    """

    can_skip = False
    sleeping_functions = 0
    waking = 0
    woken_on_loop = 0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    def sleep_blocking(self, seconds: float) -> None:
        threading.Event().wait(max(0.0, seconds))

    def next_deadline(self) -> datetime | None:
        return None

    def advance_to(self, when: datetime) -> datetime:
        raise TypeError("the real clock cannot be advanced: its time moves by itself (use a VirtualClock)")

    def subscribe(self, callback: Callable[[], None]) -> Unsubscribe:
        return _nothing_to_cancel

    def function_clock(self) -> FunctionClock | None:
        return None


def _nothing_to_cancel() -> None:
    return None


class _Waiter:
    __slots__ = ("deadline", "resolve", "done", "from_function", "on_loop", "woken")

    def __init__(self, deadline: datetime, resolve: Callable[[], None], from_function: bool, on_loop: bool) -> None:
        self.deadline = deadline
        self.resolve = resolve
        self.done = False
        self.from_function = from_function
        self.on_loop = on_loop
        """A coroutine (resumes on a later loop iteration, so counts as ``waking`` until it has), not a thread."""
        self.woken = False


class VirtualClock:
    """Time that moves only when told to: by :meth:`advance_to`, from the test kit or the engine's time skipping.

    Waiters are kept in deadline order. Advancing wakes every waiter whose deadline has been reached,
    in order. Blocking sleeps from function threads count as ``sleeping_functions`` so the host can tell
    "every running function is waiting on the clock" (idle) from "a function is still working" (busy).
    Thread-safe: function threads sleep on it while the event loop advances it.
    """

    can_skip = True

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2030, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._heap: list[tuple[datetime, int, _Waiter]] = []
        self._counter = itertools.count()
        self._sleeping_functions = 0
        self._waking = 0
        self._woken_on_loop = 0
        self._subscribers: list[Callable[[], None]] = []
        self.on_function_sleep: list[Callable[[], None]] = []
        """Called (from any thread) when a function starts sleeping, after the subscribers."""

    def now(self) -> datetime:
        with self._lock:
            return self._now

    @property
    def sleeping_functions(self) -> int:
        with self._lock:
            return self._sleeping_functions

    @property
    def waking(self) -> int:
        with self._lock:
            return self._waking

    @property
    def woken_on_loop(self) -> int:
        with self._lock:
            return self._woken_on_loop

    def subscribe(self, callback: Callable[[], None]) -> Unsubscribe:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _announce(self, hooks: tuple[Callable[[], None], ...] = ()) -> None:
        for callback in (*self._subscribers, *hooks):
            callback()

    def function_clock(self) -> FunctionClock | None:
        return self

    def next_deadline(self) -> datetime | None:
        with self._lock:
            while self._heap and self._heap[0][2].done:
                heapq.heappop(self._heap)
            return self._heap[0][0] if self._heap else None

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        return self.advance_to(self.now() + timedelta(seconds=seconds))

    def advance_to(self, when: datetime) -> datetime:
        due: list[_Waiter] = []
        with self._lock:
            if when > self._now:
                self._now = when
            while self._heap and self._heap[0][0] <= self._now:
                waiter = heapq.heappop(self._heap)[2]
                if not waiter.done:
                    waiter.done = True
                    if waiter.from_function:
                        self._sleeping_functions -= 1
                    if waiter.on_loop:
                        waiter.woken = True
                        self._waking += 1
                        self._woken_on_loop += 1
                    due.append(waiter)
            now = self._now
        for waiter in due:
            waiter.resolve()
        self._announce()
        return now

    def _register(self, deadline: datetime, resolve: Callable[[], None], from_function: bool, on_loop: bool) -> _Waiter | None:
        with self._lock:
            if deadline <= self._now:
                return None
            waiter = _Waiter(deadline, resolve, from_function, on_loop)
            if from_function:
                self._sleeping_functions += 1
            heapq.heappush(self._heap, (deadline, next(self._counter), waiter))
        if from_function:
            self._announce(tuple(self.on_function_sleep))
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
            self._announce()

    async def sleep_until(self, when: datetime, *, from_function: bool = False) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():  # cancelled meanwhile
                future.set_result(None)

        def resolve() -> None:
            loop.call_soon_threadsafe(wake)

        waiter = self._register(when, resolve, from_function, on_loop=True)
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
        waiter = self._register(self.now() + timedelta(seconds=max(0.0, seconds)), event.set, True, on_loop=False)
        if waiter is None:
            return
        event.wait()
