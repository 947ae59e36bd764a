"""An asyncio loop on a background thread, so synchronous tests can drive the async host."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running on its own daemon thread until :meth:`close`."""

    def __init__(self, name: str = "devhost-test-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait (at most ``timeout`` real seconds) for its result.

        On timeout the coroutine is cancelled and :class:`TimeoutError` raised. Never call this from the
        loop's own thread (it would wait for itself).
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run() called from the loop's own thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            try:  # let the cancellation run (finally blocks restore the engine's state)
                future.result(5)
            except BaseException:
                pass
            raise TimeoutError(f"did not finish within {timeout} s") from None

    def close(self) -> None:
        """Stop the loop, join the thread, close the loop (idempotent)."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            # On the loop's own thread: this thread may have another loop marked running (Playwright's sync API).
            asyncio.run_coroutine_threadsafe(self.loop.shutdown_asyncgens(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()
