"""The Clock protocol: the real and the virtual clock both answer everything a driver of time may ask."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest

from devhost.clock import Clock, RealClock, VirtualClock

START = datetime(2030, 1, 1, tzinfo=timezone.utc)
PROTOCOL_MEMBERS = sorted(name for name in vars(Clock) if not name.startswith("_"))


@pytest.mark.parametrize("clock", [RealClock(), VirtualClock(START)], ids=["real", "virtual"])
def test_both_clocks_offer_every_member_of_the_protocol(clock: Clock) -> None:
    missing = [name for name in PROTOCOL_MEMBERS if not hasattr(clock, name)]

    assert "next_deadline" in PROTOCOL_MEMBERS and "advance_to" in PROTOCOL_MEMBERS
    assert missing == []
    assert clock.now().tzinfo is not None


def test_the_real_clock_never_skips_keeps_no_schedule_and_patches_no_function() -> None:
    clock = RealClock()
    heard: list[str] = []
    unsubscribe = clock.subscribe(lambda: heard.append("woken"))

    with pytest.raises(TypeError, match="cannot be advanced"):
        clock.advance_to(clock.now() + timedelta(hours=1))
    unsubscribe()

    assert clock.can_skip is False
    assert clock.next_deadline() is None
    assert (clock.sleeping_functions, clock.waking) == (0, 0)
    assert clock.function_clock() is None
    assert heard == []


def test_the_virtual_clock_skips_and_is_the_clock_its_functions_see() -> None:
    clock = VirtualClock(START)

    assert clock.can_skip is True
    assert clock.function_clock() is clock
    assert clock.next_deadline() is None


def test_next_deadline_is_the_earliest_sleeper_and_advance_to_wakes_it() -> None:
    clock = VirtualClock(START)
    woke: list[datetime] = []
    sleepers = [threading.Thread(target=lambda s=s: (clock.sleep_blocking(s), woke.append(clock.now()))) for s in (60, 30)]
    asleep = threading.Semaphore(0)
    clock.on_function_sleep.append(asleep.release)
    for sleeper in sleepers:
        sleeper.start()
    for _ in sleepers:
        assert asleep.acquire(timeout=5)

    first_deadline = clock.next_deadline()
    now = clock.advance_to(first_deadline)  # type: ignore[arg-type]
    sleepers[1].join(5)
    still_asleep = clock.sleeping_functions
    clock.advance_to(START + timedelta(seconds=60))
    sleepers[0].join(5)

    assert first_deadline == START + timedelta(seconds=30)
    assert now == first_deadline
    assert still_asleep == 1
    assert woke == [START + timedelta(seconds=30), START + timedelta(seconds=60)]
    assert clock.next_deadline() is None and clock.sleeping_functions == 0


def test_advance_to_never_moves_time_back() -> None:
    clock = VirtualClock(START)
    clock.advance_to(START + timedelta(seconds=10))

    now = clock.advance_to(START)

    assert now == START + timedelta(seconds=10)


def test_subscribers_hear_function_sleeps_and_advances_until_they_unsubscribe() -> None:
    clock = VirtualClock(START)
    heard: list[str] = []
    unsubscribe = clock.subscribe(lambda: heard.append("wake-up"))
    asleep = threading.Event()
    clock.on_function_sleep.append(asleep.set)
    sleeper = threading.Thread(target=clock.sleep_blocking, args=(5,))

    sleeper.start()
    assert asleep.wait(5)
    heard_at_sleep = len(heard)
    clock.advance(5)
    sleeper.join(5)
    heard_at_advance = len(heard)
    unsubscribe()
    clock.advance(5)

    assert (heard_at_sleep, heard_at_advance) == (1, 2)
    assert len(heard) == 2


@pytest.mark.asyncio
async def test_a_coroutine_woken_by_an_advance_counts_as_waking_until_it_resumes() -> None:
    clock = VirtualClock(START)
    settled: list[int] = []
    sleeping = asyncio.ensure_future(clock.sleep_until(START + timedelta(seconds=1)))
    await asyncio.sleep(0)

    clock.advance(1)
    waking_after_advance = clock.waking
    clock.subscribe(lambda: settled.append(clock.waking))
    await sleeping

    assert waking_after_advance == 1
    assert clock.waking == 0
    assert settled == [0]


@pytest.mark.asyncio
async def test_woken_on_loop_counts_the_coroutines_advances_woke_and_not_the_threads() -> None:
    clock = VirtualClock(START)
    asleep = threading.Event()
    clock.on_function_sleep.append(asleep.set)
    thread = threading.Thread(target=clock.sleep_blocking, args=(1,), daemon=True)
    thread.start()
    assert asleep.wait(5)
    coroutine = asyncio.ensure_future(clock.sleep_until(START + timedelta(seconds=2)))
    await asyncio.sleep(0)

    clock.advance(1)
    after_the_thread = clock.woken_on_loop
    clock.advance(1)
    await coroutine
    thread.join(5)

    assert (after_the_thread, clock.woken_on_loop) == (0, 1)
