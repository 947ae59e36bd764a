"""Virtual time inside invoked functions, real time everywhere else. No test here sleeps for real."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types

import pytest

from devhost.clock import VirtualClock
from devhost.runtime import timepatch

SAFETY_NET_SECONDS = 10.0  # only reached if the code under test is broken
SDK_CLIENT = "azure.durable_functions.models.DurableOrchestrationClient"


@pytest.fixture(autouse=True)
def installed() -> None:
    timepatch.install()


def function_started_sleeping(clock: VirtualClock) -> threading.Event:
    started = threading.Event()
    clock.on_function_sleep.append(started.set)
    return started


def test_install_is_idempotent_and_patches_the_stdlib_and_sdk_names() -> None:
    timepatch.install()
    client_module = sys.modules[SDK_CLIENT]

    assert time.time is timepatch._time and time.sleep is timepatch._sleep
    assert asyncio.sleep is timepatch._async_sleep
    assert client_module.time is timepatch._time  # type: ignore[attr-defined]
    assert client_module.sleep is timepatch._async_sleep  # type: ignore[attr-defined]


def test_outside_a_clock_context_time_is_real() -> None:
    real = timepatch._original_time()

    assert timepatch.current_clock() is None
    assert abs(time.time() - real) < 60


def test_inside_a_clock_context_time_is_the_clocks_everywhere_it_was_patched() -> None:
    clock = VirtualClock()
    client_module = sys.modules[SDK_CLIENT]

    with timepatch.using_clock(clock):
        inside = (time.time(), client_module.time())  # type: ignore[attr-defined]
    outside = time.time()

    assert inside == (clock.now().timestamp(), clock.now().timestamp())
    assert outside != clock.now().timestamp()


def test_a_thread_sleeping_in_a_function_blocks_until_the_clock_advances() -> None:
    clock = VirtualClock()
    started = function_started_sleeping(clock)
    slept: list[float] = []
    worker = threading.Thread(target=lambda: slept.append(timepatch.run_with_clock(clock, _timed_sleep, 5)))

    worker.start()
    assert started.wait(SAFETY_NET_SECONDS)
    clock.advance(4.9)
    still_sleeping = clock.sleeping_functions
    clock.advance(0.1)
    worker.join(SAFETY_NET_SECONDS)

    assert still_sleeping == 1
    assert not worker.is_alive()
    assert slept == [5.0]


def _timed_sleep(seconds: float) -> float:
    before = time.time()
    time.sleep(seconds)
    return time.time() - before


def test_other_threads_keep_real_time_while_a_function_sleeps_virtually() -> None:
    clock = VirtualClock()
    started = function_started_sleeping(clock)
    sleeper = threading.Thread(target=timepatch.run_with_clock, args=(clock, time.sleep, 30))
    seen_elsewhere: list[float] = []

    sleeper.start()
    assert started.wait(SAFETY_NET_SECONDS)
    observer = threading.Thread(target=lambda: seen_elsewhere.append(time.time()))
    observer.start()
    observer.join(SAFETY_NET_SECONDS)
    clock.advance(30)
    sleeper.join(SAFETY_NET_SECONDS)

    assert abs(seen_elsewhere[0] - timepatch._original_time()) < 60
    assert not sleeper.is_alive()


def test_the_context_is_reset_after_run_with_clock() -> None:
    clock = VirtualClock()

    inside = timepatch.run_with_clock(clock, timepatch.current_clock)

    assert inside is clock
    assert timepatch.current_clock() is None


@pytest.mark.asyncio
async def test_asyncio_sleep_in_a_function_waits_for_virtual_time_and_returns_its_result() -> None:
    clock = VirtualClock()
    started = function_started_sleeping(clock)

    async def function() -> str:
        return await asyncio.sleep(60, result="done")

    with timepatch.using_clock(clock):
        task = asyncio.ensure_future(function())
    while not started.is_set():
        await asyncio.sleep(0)
    sleeping_before = clock.sleeping_functions
    clock.advance(59)
    await asyncio.sleep(0)
    finished_early = task.done()
    clock.advance(1)
    result = await asyncio.wait_for(task, SAFETY_NET_SECONDS)

    assert sleeping_before == 1
    assert finished_early is False
    assert result == "done"


@pytest.mark.asyncio
async def test_asyncio_sleep_zero_still_yields_inside_a_function() -> None:
    clock = VirtualClock()
    order: list[str] = []

    async def other() -> None:
        order.append("other")

    with timepatch.using_clock(clock):
        pending = asyncio.ensure_future(other())
        await asyncio.sleep(0)
        order.append("after-yield")
    await pending

    assert order == ["other", "after-yield"]
    assert clock.sleeping_functions == 0


@pytest.mark.asyncio
async def test_the_sdk_client_module_sleep_follows_the_clock() -> None:
    clock = VirtualClock()
    started = function_started_sleeping(clock)
    sdk_sleep = sys.modules[SDK_CLIENT].sleep  # type: ignore[attr-defined]

    with timepatch.using_clock(clock):
        task = asyncio.ensure_future(sdk_sleep(1.5))
    while not started.is_set():
        await asyncio.sleep(0)
    clock.advance(1.5)
    await asyncio.wait_for(task, SAFETY_NET_SECONDS)

    assert task.done() and clock.sleeping_functions == 0


def test_rebind_module_replaces_names_bound_to_the_originals() -> None:
    module = types.ModuleType("app_helper")
    module.sleep = timepatch._original_sleep  # as after `from time import sleep` before install()
    module.now = timepatch._original_time
    module.unrelated = len

    timepatch.rebind_module(module)

    assert module.sleep is timepatch._sleep
    assert module.now is timepatch._time
    assert module.unrelated is len
