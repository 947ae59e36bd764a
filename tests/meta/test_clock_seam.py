"""Time has one way in: devhost reads the system clock only in ``devhost/clock.py``, the app only in
``job_monitor/clock.py``. Everything else asks a ``Clock`` (devhost) or ``job_monitor.clock`` (the app), so a
virtual clock drives all of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clock_reads import clock_reads, clock_reads_in_source

REPO = Path(__file__).resolve().parents[2]

THE_CLOCK_MODULES = {"devhost/clock.py", "job_monitor/clock.py"}

# Not reads for the caller's own use, each named with why.
ALLOWED: dict[str, set[str]] = {
    # The time patch keeps the original time.time to pass calls made outside an invoked function (the SDK, a
    # library, the host's own threads) through unchanged; inside a function its wrapper answers from the Clock.
    "devhost/runtime/timepatch.py": {"time.time"},
}


def test_nothing_outside_the_clock_modules_reads_the_system_clock() -> None:
    found = clock_reads(REPO, "devhost", "job_monitor", "function_app.py")

    offending = [
        str(read) for read in found if read.path not in THE_CLOCK_MODULES and read.expression not in ALLOWED.get(read.path, set())
    ]

    assert offending == [], "read the time from the Clock (devhost/clock.py) or job_monitor.clock instead"


def test_the_clock_modules_are_where_the_clock_is_read() -> None:
    """Guards the guard: if the scan stopped recognising these modules' reads it would pass anything."""
    found = {read.path for read in clock_reads(REPO, "devhost", "job_monitor")}

    assert THE_CLOCK_MODULES <= found


@pytest.mark.parametrize(
    "source",
    [
        "import time\nt = time.time()",
        "import time\nt = time.monotonic()",
        "import time\nt = time.perf_counter_ns()",
        "import time as t\nx = t.time_ns()",
        "import time\nclock = time.monotonic",  # a reference reads the clock later
        "import time\nx = time.localtime()",
        "from time import monotonic\nx = monotonic()",
        "from time import perf_counter as pc\nx = pc()",
        "from datetime import datetime\nnow = datetime.now()",
        "from datetime import datetime\nnow = datetime.utcnow()",
        "from datetime import date\nday = date.today()",
        "from datetime import datetime as dt\nnow = dt.now(tz=None)",
        "import datetime\nnow = datetime.datetime.now()",
        "import datetime as d\nday = d.date.today()",
        "import asyncio\nt = asyncio.get_running_loop().time()",
        "def f(loop):\n    return loop.time()",
        "class C:\n    def f(self):\n        return self._loop.time()",
        "def f():\n    import time\n    return time.time()",
    ],
)
def test_the_scan_finds_each_way_of_reading_the_clock(source: str) -> None:
    assert clock_reads_in_source(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.sleep(1)",
        "import time\ntime.time = lambda: 0.0",  # replacing it is not reading it
        "import time\nx = time.localtime(0)",
        "from datetime import datetime\nx = datetime.fromisoformat('2030-01-01T00:00:00')",
        "from datetime import datetime, timezone\nx = datetime.fromtimestamp(0, tz=timezone.utc)",
        "def f(clock):\n    return clock.now()",
        "def f(context):\n    return context.current_utc_datetime",
        "def f(row):\n    return row.time()",
    ],
)
def test_the_scan_leaves_code_that_does_not_read_the_clock(source: str) -> None:
    assert clock_reads_in_source(source) == []
