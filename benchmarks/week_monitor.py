"""The monitoring app's longest monitor through the test kit: 7 days, polling every minute, on the virtual clock.

    python benchmarks/week_monitor.py [--wait-strategy activity|timer] [--no-memo] [--days 7] [--json]

Starts ``POST /api/start_monitoring_job`` on the unchanged app (repository root) inside
``devhost.testing.durable_app`` (the pytest fixture's pytest-free form: in-process host, SQLite store in a
temporary directory, VirtualClock) with a job that never finishes, a 60 s polling interval and the 7-day
maximum timeout, and waits for the monitor to time out: about 10,080 checks, a continue-as-new every 25
checks (about 400 generations). Prints the real (wall) time, the checks and generations, and the
orchestration turns per second. The target of issue 8: under a minute on the CI machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import benchkit  # noqa: F401  (puts the repository on sys.path when run as a plain script)

from devhost.runtime import sdk_speedups
from devhost.testing.local import durable_app

ROOT = Path(__file__).resolve().parents[1]
START = "/api/start_monitoring_job"
WEEK_SECONDS = 7 * 24 * 3600
INTERVAL_SECONDS = 60


def run(wait_strategy: str, memo: bool, days: float = 7.0) -> dict[str, Any]:
    timeout = round(days * 24 * 3600)
    body = {
        "job_id": "week-monitor",
        "polling_interval_seconds": INTERVAL_SECONDS,
        "timeout_seconds": timeout,
        "simulated_outcome": "stalled",
        "wait_strategy": wait_strategy,
        "enable_monitoring": True,
    }
    with durable_app(ROOT) as app:
        if not memo:
            sdk_speedups.uninstall()
        engine = app.host.engine
        turns_before = engine.turns
        started, cpu_started = time.perf_counter(), time.process_time()
        response = app.http.post(START, json_body=body)
        if response.status != 202:
            raise RuntimeError(f"start answered {response.status}: {response.text}")
        status = app.wait_for_completion(response.json()["id"], timeout=3600)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        turns = engine.turns - turns_before
        history: list[dict[str, Any]] = app.history("week-monitor")
    output = status.get("output") or {}
    checks = output.get("checks_performed")
    return {
        "wait_strategy": wait_strategy, "memo": memo, "runtime_status": status.get("runtimeStatus"),
        "final_status": output.get("final_status"), "checks": checks,
        "generations": None if checks is None else -(-checks // 25),
        "virtual_days": output.get("monitoring_duration_seconds", 0) / 86400,
        "wall_s": wall, "cpu_s": cpu, "turns": turns, "turns_per_s": turns / wall,
        "last_generation_history_events": len(history),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--wait-strategy",
        choices=("activity", "timer"),
        default="activity",
        help="how the monitor waits between checks (the app's default: activity)",
    )
    parser.add_argument("--no-memo", action="store_true", help="without the host's timestamp memo")
    parser.add_argument("--days", type=float, default=7.0, help="monitor timeout in days (default 7, the app's maximum)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not INTERVAL_SECONDS <= args.days * 86400 <= WEEK_SECONDS:
        parser.error("--days must be between one minute and 7 days")
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)  # the app logs every check once; keep the output to the figures
    result = run(args.wait_strategy, not args.no_memo, args.days)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.days:g}-day monitor, poll every {INTERVAL_SECONDS} s, wait by {result['wait_strategy']}, "
            f"memo {'on' if result['memo'] else 'off'}: {result['runtime_status']} / {result['final_status']} after "
            f"{result['checks']} checks in {result['generations']} generations ({result['virtual_days']:.2f} virtual days)"
        )
        print(
            f"  wall {result['wall_s']:.1f} s, CPU {result['cpu_s']:.1f} s, {result['turns']} turns, "
            f"{result['turns_per_s']:.0f} turns/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
