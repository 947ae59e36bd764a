"""A handle bound to a host someone else runs (``func start``, a deployed app): HTTP only, real time.

The plugin returns one when ``DEVHOST_TARGET_URL`` is set, so the same tests can run against the real
Functions host: the base URL is the only seam. Waiting polls the instance's statusQueryGetUri in real time;
``advance`` really waits. What needs the in-process host (history from its store, stubbing an activity)
skips the test with a clear reason instead of failing it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, NoReturn

from devhost.clock import RealClock
from devhost.testing.handle import (
    TERMINAL_STATUSES,
    WEBHOOKS,
    ActivityStub,
    AppHandle,
    Seconds,
    Status,
    _quote,
    check_statuses,
    seconds_of,
)

TARGET_URL_VARIABLE = "DEVHOST_TARGET_URL"


class RemoteAppHandle(AppHandle):
    """An app served at ``base_url`` by another process (for example ``func start`` on port 7071)."""

    remote = True

    def __init__(self, base_url: str, *, poll_interval: float = 1.0) -> None:
        super().__init__(base_url)
        self.poll_interval = poll_interval
        self._clock = RealClock()

    @property
    def now(self) -> datetime:
        return self._clock.now()

    def advance(self, seconds: Seconds) -> datetime:
        """Really wait ``seconds`` (a real host's timers run on the wall clock)."""
        self._clock.sleep_blocking(seconds_of(seconds))
        return self.now

    def wait_for_completion(self, instance_id: str, *, timeout: float = 60.0) -> Status:
        """Poll statusQueryGetUri (backing off to every :attr:`poll_interval` s) until the instance finishes."""
        return self._poll(instance_id, TERMINAL_STATUSES, "finish", timeout)

    def wait_for_status(self, instance_id: str, *statuses: str, timeout: float = 60.0) -> Status:
        wanted = check_statuses(statuses)
        return self._poll(instance_id, wanted, f"reach {'/'.join(sorted(wanted))}", timeout)

    def _poll(self, instance_id: str, wanted: frozenset[str], goal: str, timeout: float) -> Status:
        status_uri = f"{WEBHOOKS}/instances/{_quote(instance_id)}"
        deadline = self._clock.now().timestamp() + timeout
        last: Any = None
        pause = min(0.05, self.poll_interval)
        while True:
            response = self.http.get(status_uri)
            if response.status in (200, 202, 500):  # 500: Failed with returnInternalServerErrorOnFailure
                last = response.json()
                if isinstance(last, dict) and last.get("runtimeStatus") in wanted:
                    return dict(last)
            if self._clock.now().timestamp() >= deadline:
                raise AssertionError(
                    f"instance {instance_id!r} did not {goal} within {timeout} s at {self.base_url}; "
                    f"last answer {response.status}: {last if last is not None else response.text[:500]}"
                )
            # Short orchestrations finish in milliseconds: start polling fast, back off to poll_interval.
            self._clock.sleep_blocking(pause)
            pause = min(pause * 2, self.poll_interval)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        _skip("history() reads the in-process store")

    def stub_activity(self, name: str, replacement: Callable[[Any], Any]) -> ActivityStub:
        _skip(f"stub_activity({name!r}) replaces a function inside the in-process host")


def _skip(what: str) -> NoReturn:
    import pytest

    pytest.skip(f"{what}; not available against {TARGET_URL_VARIABLE}")
