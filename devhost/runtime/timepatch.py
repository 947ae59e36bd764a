"""Virtual time inside invoked functions: ``time.time``, ``time.sleep`` and ``asyncio.sleep`` follow the host clock.

:func:`install` replaces those three (plus the SDK client module's own ``time``/``sleep`` names, which it
bound with ``from time import time`` / ``from asyncio import sleep`` and uses in
``wait_for_completion_or_create_check_status_response``) with thin wrappers. A wrapper looks at one
context variable: unset (always, with the real clock) → the original function, so the only cost is a
``ContextVar.get``; set to the host clock's :meth:`~devhost.clock.Clock.function_clock` (by
:func:`using_clock` / :func:`run_with_clock` around a function invocation) → that clock's time and sleeps.
Context variables are per thread and per asyncio task, so the host's own code and other requests never see a
function's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Callable, TypeVar

from devhost.clock import FunctionClock

T = TypeVar("T")

_SDK_CLIENT_MODULE = "azure.durable_functions.models.DurableOrchestrationClient"


_current: contextvars.ContextVar[FunctionClock | None] = contextvars.ContextVar("devhost_function_clock", default=None)

_original_time: Callable[[], float] = time.time
_original_sleep: Callable[[float], None] = time.sleep
_original_async_sleep: Callable[..., Any] = asyncio.sleep

_install_lock = threading.Lock()
_installed = False


def _time() -> float:
    clock = _current.get()
    if clock is None:
        return _original_time()
    return float(clock.now().timestamp())


def _sleep(seconds: float) -> None:
    clock = _current.get()
    if clock is None:
        return _original_sleep(seconds)
    clock.sleep_blocking(seconds)


async def _async_sleep(delay: float, result: Any = None) -> Any:
    clock = _current.get()
    # asyncio.sleep(0) means "yield to the loop", not "wait": keep its real meaning.
    if clock is None or delay <= 0:
        return await _original_async_sleep(delay, result)
    await clock.sleep(delay)
    return result


_time.__wrapped__ = _original_time  # type: ignore[attr-defined]
_sleep.__wrapped__ = _original_sleep  # type: ignore[attr-defined]
_async_sleep.__wrapped__ = _original_async_sleep  # type: ignore[attr-defined]

# What each original is replaced by wherever it is found as a module attribute.
_REPLACEMENTS: dict[int, Callable[..., Any]] = {
    id(_original_time): _time,
    id(_original_sleep): _sleep,
    id(_original_async_sleep): _async_sleep,
}


def rebind_module(module: ModuleType) -> None:
    """Point a module's globals bound to the originals (``from time import sleep``) at the wrappers."""
    namespace = vars(module)
    for name, value in list(namespace.items()):
        replacement = _REPLACEMENTS.get(id(value))
        if replacement is not None and value is not replacement:
            namespace[name] = replacement


def install() -> None:
    """Install the wrappers (idempotent, thread-safe). Imports the SDK client module to patch its names."""
    global _installed
    with _install_lock:
        if _installed:
            return
        time.time = _time
        time.sleep = _sleep  # type: ignore[assignment]  # takes a float, as every caller passes
        asyncio.sleep = _async_sleep
        asyncio.tasks.sleep = _async_sleep
        __import__(_SDK_CLIENT_MODULE)
        rebind_module(sys.modules[_SDK_CLIENT_MODULE])
        _installed = True


def current_clock() -> FunctionClock | None:
    """The clock functions in this context see, or None (real time)."""
    return _current.get()


@contextlib.contextmanager
def using_clock(clock: FunctionClock | None) -> Iterator[None]:
    """Run the block (and tasks it creates) on ``clock``'s time. ``None`` means real time."""
    install()
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)


def run_with_clock(clock: FunctionClock | None, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` with the clock set; meant for worker threads, which do not inherit context variables."""
    with using_clock(clock):
        return fn(*args, **kwargs)
