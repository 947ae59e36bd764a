"""The one rule for skipping virtual time, used by the engine for every caller (the test kit included).

Skip to the earlier of the clock's next deadline (a sleeping function, a polling HTTP request) and the store's
next deliverable message (a durable timer, a delayed retry); only while the host is idle; never past an awaited
condition that already holds, and never past the limit a caller set (``advance``). This is how Temporal's
time-skipping test server behaves: time stands still while anything works and jumps while everything waits.

Only a clock that :attr:`~devhost.clock.Clock.can_skip` is ever moved; on the real clock nothing here acts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from devhost.clock import Clock
from devhost.store.base import Store

Condition = Callable[[], bool]


def next_wakeup(clock: Clock, store: Store) -> datetime | None:
    """The earlier of the clock's next deadline and the store's next deliverable message, or None."""
    upcoming = [moment for moment in (clock.next_deadline(), store.next_visible_at()) if moment is not None]
    return min(upcoming, default=None)


def release_sleepers(clock: Clock, max_steps: int = 10_000) -> None:
    """Advance a stopped host's clock through its deadlines until no function is asleep on it any more.

    Their threads would otherwise block forever on a clock nobody advances. A no-op on the real clock.
    """
    for _ in range(max_steps):
        if not clock.can_skip or not clock.sleeping_functions:
            return
        deadline = clock.next_deadline()
        if deadline is None:
            return
        clock.advance_to(deadline)


@dataclass(frozen=True)
class _Awaited:
    condition: Condition
    skip: bool
    limit: datetime | None


class TimeSkipper:
    """Decides whether and where time skips, for the conditions callers are awaiting (see the module doc)."""

    def __init__(self, clock: Clock, store: Store, is_idle: Callable[[], bool]) -> None:
        self.clock = clock
        self.store = store
        self._is_idle = is_idle
        self._awaited: list[_Awaited] = []
        self._settled_after: int | None = None
        """The clock's ``woken_on_loop`` when :meth:`skip_when_settled` last let the loop settle (None: never)."""

    @contextlib.contextmanager
    def awaiting(self, condition: Condition, *, skip: bool, limit: datetime | None = None) -> Iterator[None]:
        """While the block runs, ``condition`` is awaited: time skips (if ``skip``) but never past it or ``limit``."""
        awaited = _Awaited(condition, skip, limit)
        self._awaited.append(awaited)
        try:
            yield
        finally:
            self._awaited.remove(awaited)

    def target(self) -> datetime | None:
        """Where time should skip to now, or None to stay (checks everything but idleness)."""
        if not self.clock.can_skip or not any(awaited.skip for awaited in self._awaited):
            return None
        if any(awaited.condition() for awaited in self._awaited):
            # A waiter's condition already holds (say "the instance is Running"): it must see this moment
            # before time moves on, or a run of skips would carry the instance past it.
            return None
        upcoming = next_wakeup(self.clock, self.store)
        limit = self._limit()
        if limit is not None and (upcoming is None or upcoming > limit):
            upcoming = limit
        if upcoming is None or upcoming <= self.clock.now():
            return None
        return upcoming

    async def skip_when_settled(self) -> bool:
        """:meth:`skip_if_idle`, once what the last skip woke has run: the clock counts a sleeper as waking only
        until its own coroutine resumes, and whoever awaits that (asyncio.wait in the worker pool's function
        timeout) resumes one or two loop iterations later. True if time moved.

        When no advance has woken a coroutine since the loop last settled (a sleeping *thread*, say: it counts as
        running until its function returns), there is nothing to wait for, and the two loop iterations are saved."""
        if not self._is_idle():
            return False
        woken = self.clock.woken_on_loop
        if woken != self._settled_after:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            self._settled_after = woken
        return self.skip_if_idle()

    def skip_if_idle(self) -> bool:
        """Skip to :meth:`target` if the host is idle; True if time moved."""
        if not self._is_idle():
            return False
        upcoming = self.target()
        if upcoming is None:
            return False
        self.clock.advance_to(upcoming)
        return True

    def nothing_ahead(self) -> bool:
        """No deadline, no message and no caller's limit lies ahead: skipping can never make progress."""
        limit = self._limit()
        if self.clock.can_skip and limit is not None and limit > self.clock.now():
            return False
        return next_wakeup(self.clock, self.store) is None

    def _limit(self) -> datetime | None:
        limits = [awaited.limit for awaited in self._awaited if awaited.limit is not None]
        return min(limits, default=None)
