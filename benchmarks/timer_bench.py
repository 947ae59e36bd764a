"""Timer triggers on the virtual clock: how long one virtual hour of a 5-minute timer-triggered starter takes.

    python benchmarks/timer_bench.py [--hours 1] [--repeat 3]

Runs tests/apps/timer_starter (``@app.timer_trigger(schedule="0 */5 * * * *")`` + a durable client starting an
orchestration that calls one activity) under the test kit and ``advance``s it ``--hours`` virtual hours, ``--repeat``
times in one process. The first round includes importing the SDK and the app; the issue's target ("12 firings in
one virtual hour, well under a second") is about the warm rounds. A script, not a test: pytest only collects tests/.
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from devhost.testing import durable_app

APP = Path(__file__).resolve().parent.parent / "tests" / "apps" / "timer_starter"
START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    for round_number in range(1, args.repeat + 1):
        began = time.perf_counter()
        with durable_app(APP, start_time=START) as app:
            started = time.perf_counter()
            app.advance(args.hours * 3600)
            advanced = time.perf_counter()
            fired = sum(app.host.timers.fired.values()) if app.host.timers else 0
        done = time.perf_counter()
        print(
            f"round {round_number}: {fired} firings; start {started - began:.3f} s, "
            f"advance {advanced - started:.3f} s, total {done - began:.3f} s"
        )


if __name__ == "__main__":
    main()
