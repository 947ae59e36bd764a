"""The app's only source of wall-clock time and of blocking waits.

Everything outside the orchestrator that needs "now" calls :func:`utc_now`, and the polling
activity waits with :func:`sleep`. Both go through the ``time`` *module attribute*
(``time.time()`` / ``time.sleep()``) on purpose, never ``from time import time, sleep``:
a local host such as devhost swaps exactly ``time.time``, ``time.sleep`` and ``asyncio.sleep``
while it runs a function, so that a virtual clock drives the app without any host-specific code
here, and tests can replace ``job_monitor.clock.time`` with a fake. A name imported with
``from time import ...`` would keep pointing at the real functions and escape both.

The orchestrator never uses this module: it must take time from
``context.current_utc_datetime`` to stay deterministic on replay.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


def utc_now() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.fromtimestamp(time.time(), tz=timezone.utc)


def sleep(seconds: float) -> None:
    """Block the calling thread for ``seconds`` (negative values count as zero)."""
    time.sleep(max(0.0, seconds))
