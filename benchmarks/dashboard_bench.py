"""Dashboard benchmark: is the dashboard fast with 10,000 instances and a 5,000-event history?

    python benchmarks/dashboard_bench.py [--instances 10000] [--events 5000] [--browser] [--json]

Fills a SQLite store (monitor-shaped instances with a custom status, plus one instance whose history holds
``--events`` events, each activity input 2 kB), starts the monitoring app on it in this process, and times the
dashboard's JSON reads over loopback HTTP (median and worst of several calls): the list's first page, a page deep
in the list (reached by following cursors), status / custom-status / orchestrator-name filters, the instance page's
reads, a history page and the timeline of the long history. With ``--browser`` it also loads both pages in
headless Chromium (/usr/bin/chromium) and times them until their rows are on screen.

Target (issue 9): no read stalls the host; every page read well under 100 ms at these sizes.
This is a script, not a test: pytest only collects ``tests/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devhost.clock import VirtualClock  # noqa: E402
from devhost.core import events  # noqa: E402
from devhost.core.model import Instance, Message, RuntimeStatus, TurnCommit  # noqa: E402
from devhost.store.sqlite import SqliteStore  # noqa: E402
from devhost.testing import durable_app  # noqa: E402

STATUSES = [RuntimeStatus.RUNNING, RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED]


def fill(store_path: Path, instances: int, history_events: int) -> None:
    start = VirtualClock().now()
    with SqliteStore(store_path) as store:
        for i in range(instances):
            created = start + timedelta(seconds=i)
            instance_id = f"job-{i:05d}"
            execution = uuid.uuid4().hex
            row = Instance(instance_id, "monitoring_job_orchestrator", execution, RuntimeStatus.PENDING, created, created)
            started = events.execution_started(
                created, instance_id=instance_id, execution_id=execution, name=row.name, input_text=None
            )
            store.create_instance(row, Message(instance_id, started, visible_at=created, execution_id=execution))
            custom = {
                "job_id": instance_id,
                "status": "Running",
                "check_count": i % 25,
                "progress_percent": i % 100,
                "alerts": [{"name": "low_success_rate", "severity": "critical", "message": "m"}] if i % 7 == 0 else [],
            }
            row.runtime_status = STATUSES[i % len(STATUSES)]
            row.custom_status = json.dumps(custom)
            store.commit_turn(TurnCommit(instance=row, new_history=[started], clear_pending=True))
        created = start + timedelta(seconds=instances)
        big = json.dumps({"blob": "x" * 2000})
        row = Instance("long", "monitoring_job_orchestrator", "e", RuntimeStatus.PENDING, created, created)
        started = events.execution_started(created, instance_id="long", execution_id="e", name=row.name, input_text=None)
        store.create_instance(row, Message("long", started, visible_at=created, execution_id="e"))
        history = [started]
        for task in range((history_events - 1) // 2):
            history += [
                events.task_scheduled(created, task, "check_job_status", big),
                events.task_completed(created, task, '"ok"'),
            ]
        row.runtime_status = RuntimeStatus.RUNNING
        store.commit_turn(TurnCommit(instance=row, new_history=history))


def timed(call: Callable[[], Any], repeat: int = 7) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        call()
        samples.append((time.perf_counter() - begin) * 1000)
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200, url
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--browser", action="store_true", help="also time both pages in headless Chromium")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"instances": args.instances, "history_events": args.events}
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as directory:
        begin = time.perf_counter()
        fill(Path(directory) / "store.sqlite3", args.instances, args.events)
        results["fill_s"] = round(time.perf_counter() - begin, 1)
        with durable_app(REPO, store_dir=directory) as app:
            api = app.base_url + "/_devhost/api"
            cursor = None
            for _ in range(100):  # 100 pages of 50 in: instance 5,000 onwards
                cursor = get(f"{api}/instances?top=50" + (f"&cursor={cursor}" if cursor else ""))["nextCursor"]
            reads: dict[str, Callable[[], Any]] = {
                "list first page (50)": lambda: get(f"{api}/instances?top=50"),
                "list page 101 (by cursor)": lambda: get(f"{api}/instances?top=50&cursor={cursor}"),
                "list status=Failed": lambda: get(f"{api}/instances?status=Failed"),
                "list custom status contains 'critical'": lambda: get(f"{api}/instances?q=critical"),
                "list name filter, no match (scan budget)": lambda: get(f"{api}/instances?name=nothing"),
                "list waiting=timer (a history read per row)": lambda: get(f"{api}/instances?waiting=timer"),
                "instance detail": lambda: get(f"{api}/instances/long"),
                f"history page (latest 100 of {args.events})": lambda: get(
                    f"{api}/instances/long/history?offset={args.events - 100}&limit=100"
                ),
                "one history event (2 kB input)": lambda: get(f"{api}/instances/long/history/1"),
                f"timeline ({args.events} events)": lambda: get(f"{api}/instances/long/timeline"),
            }
            results["reads"] = {name: timed(call) for name, call in reads.items()}
            if args.browser:
                results["browser"] = browser_loads(app.base_url)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{args.instances} instances, one {args.events}-event history (store filled in {results['fill_s']} s)")
        for name, figures in results["reads"].items():
            print(f"  {name:<48} median {figures['median_ms']:>7} ms   max {figures['max_ms']:>7} ms")
        for name, ms in results.get("browser", {}).items():
            print(f"  browser: {name:<39} {ms:>7} ms")
    return 0


def browser_loads(base_url: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--headless",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    out: dict[str, list[float]] = {"list page until rows shown": [], "instance page until history shown": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for _ in range(5):
            begin = time.perf_counter()
            page.goto(base_url + "/_devhost/")
            page.wait_for_selector("#instances tbody tr")
            out["list page until rows shown"].append((time.perf_counter() - begin) * 1000)
            begin = time.perf_counter()
            page.goto(base_url + "/_devhost/instances/long")
            page.wait_for_selector("#history tbody tr")
            page.wait_for_selector("#timeline svg")
            out["instance page until history shown"].append((time.perf_counter() - begin) * 1000)
        browser.close()
    return {name: round(statistics.median(samples), 1) for name, samples in out.items()}


if __name__ == "__main__":
    sys.exit(main())
