"""The one time-skipping rule: the earlier of the next deadline and the next message, only while idle,
never past an awaited condition that holds or a caller's limit."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from devhost.clock import RealClock, VirtualClock
from devhost.runtime.config import HostSettings
from devhost.runtime.engine import Engine
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry
from devhost.runtime.timeskip import TimeSkipper, next_wakeup, release_sleepers
from devhost.store.sqlite import SqliteStore

START = datetime(2030, 1, 1, tzinfo=timezone.utc)


class Messages:
    """A store fake: all the skipping rule asks of a store is when its next message becomes deliverable."""

    def __init__(self, next_at: datetime | None = None) -> None:
        self.next_at = next_at

    def next_visible_at(self) -> datetime | None:
        return self.next_at


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def clock_with_sleeper_until(seconds: float) -> VirtualClock:
    """A virtual clock with one function thread asleep on it for ``seconds``."""
    clock = VirtualClock(START)
    asleep = threading.Event()
    clock.on_function_sleep.append(asleep.set)
    threading.Thread(target=clock.sleep_blocking, args=(seconds,), daemon=True).start()
    assert asleep.wait(5)
    return clock


def skipper(clock: Any, store: Messages, *, idle: bool = True) -> TimeSkipper:
    return TimeSkipper(clock, store, lambda: idle)  # type: ignore[arg-type]


def test_next_wakeup_is_the_clock_deadline_when_it_comes_before_the_next_message() -> None:
    clock = clock_with_sleeper_until(30)

    upcoming = next_wakeup(clock, Messages(at(60)))  # type: ignore[arg-type]
    release_sleepers(clock)

    assert upcoming == at(30)


def test_next_wakeup_is_the_next_message_when_it_comes_before_the_clock_deadline() -> None:
    clock = clock_with_sleeper_until(30)

    upcoming = next_wakeup(clock, Messages(at(10)))  # type: ignore[arg-type]
    release_sleepers(clock)

    assert upcoming == at(10)


def test_an_idle_host_skips_to_the_earlier_of_deadline_and_message() -> None:
    clock = clock_with_sleeper_until(30)
    time = skipper(clock, Messages(at(10)))

    with time.awaiting(lambda: False, skip=True):
        skipped = time.skip_if_idle()
    now = clock.now()
    release_sleepers(clock)

    assert skipped is True
    assert now == at(10)


def test_a_busy_host_does_not_skip() -> None:
    clock = VirtualClock(START)
    time = skipper(clock, Messages(at(10)), idle=False)

    with time.awaiting(lambda: False, skip=True):
        skipped = time.skip_if_idle()

    assert skipped is False
    assert clock.now() == START


def test_time_never_skips_past_an_awaited_condition_that_already_holds() -> None:
    clock = VirtualClock(START)
    time = skipper(clock, Messages(at(10)))

    with time.awaiting(lambda: True, skip=True):
        skipped = time.skip_if_idle()

    assert skipped is False
    assert clock.now() == START


def test_time_skips_only_while_someone_awaits_with_skipping_on() -> None:
    clock = VirtualClock(START)
    time = skipper(clock, Messages(at(10)))

    nobody_waits = time.skip_if_idle()
    with time.awaiting(lambda: False, skip=False):
        waiting_without_skips = time.skip_if_idle()

    assert (nobody_waits, waiting_without_skips) == (False, False)
    assert clock.now() == START


def test_a_limit_caps_the_skip_and_counts_as_something_ahead() -> None:
    clock = VirtualClock(START)
    time = skipper(clock, Messages(at(60)))

    with time.awaiting(lambda: False, skip=True, limit=at(20)):
        ahead_before = not time.nothing_ahead()
        time.skip_if_idle()

    assert ahead_before is True
    assert clock.now() == at(20)


def test_with_no_deadline_no_message_and_no_limit_nothing_is_ahead() -> None:
    time = skipper(VirtualClock(START), Messages(None))

    with time.awaiting(lambda: False, skip=True):
        nothing = time.nothing_ahead()
        target = time.target()

    assert nothing is True
    assert target is None


def test_the_real_clock_is_never_skipped() -> None:
    clock = RealClock()
    time = skipper(clock, Messages(clock.now() + timedelta(hours=1)))

    with time.awaiting(lambda: False, skip=True):
        skipped = time.skip_if_idle()

    assert skipped is False


def test_release_sleepers_wakes_every_function_asleep_on_a_stopped_clock() -> None:
    clock = clock_with_sleeper_until(3600)

    release_sleepers(clock)

    assert clock.sleeping_functions == 0
    assert clock.now() == at(3600)


def test_the_engine_refuses_to_advance_a_real_clock() -> None:
    clock = RealClock()
    store = SqliteStore(None)
    engine = Engine(store, clock, FunctionRegistry(), HostSettings(), Invoker(clock))

    with pytest.raises(TypeError, match="can skip"):
        asyncio.run(engine.advance_to(clock.now() + timedelta(hours=1)))
    store.close()


@pytest.mark.asyncio
async def test_settling_yields_to_the_loop_only_when_an_advance_woke_a_coroutine_since_it_last_settled() -> None:
    clock = VirtualClock(START)
    time = skipper(clock, Messages(at(100)))
    passes = 0

    async def count_loop_passes() -> None:
        nonlocal passes
        while True:
            passes += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count_loop_passes())
    sleeper = asyncio.ensure_future(clock.sleep_until(at(10)))
    await asyncio.sleep(0)
    with time.awaiting(lambda: False, skip=True):
        assert await time.skip_when_settled()  # to the sleeper's deadline, waking it
        before = passes
        assert await time.skip_when_settled()  # the woken sleeper may still be resuming: settle first
        settled_passes = passes - before
        await sleeper
        before = passes
        assert not await time.skip_when_settled()  # nothing woken since: no need to let the loop run
        idle_passes = passes - before
    counter.cancel()

    assert clock.now() == at(100)
    assert settled_passes >= 2
    assert idle_passes == 0
