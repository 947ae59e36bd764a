"""Where a turn's time goes in the host: the peer workload on devhost, with timers around the host's parts.

    python benchmarks/turn_profile.py [-n 200] [-k 10] [--status-rate 50] [--no-memo] [--json]

Runs the peer harness's monitor workload (benchmarks/peer_app, SQLite file store, real clock) and wraps the
live host's parts with timers (no devhost code is changed): the SDK's ``handle``; the core's ``decide_turn``
(minus the SDK inside it: building the context, reading the answer, deciding the commit); the store's
``load_turn``, ``commit_group`` (a round's turns and activity results), ``ready_instances``,
``pending_activities``, ``ready_entities``, ``next_visible_at``; the status queries
(``Management.get_status``); ``Management.start``. All of these run on the event loop's thread (this script's
main thread), so their sum against that thread's CPU time leaves the rest: asyncio and aiohttp machinery,
hand-offs to and from the activity threads, engine bookkeeping. Activity threads' CPU is the process CPU minus
the loop thread's and the status client's. Per-turn figures divide by the turns of the run. Timers add about a
microsecond per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

from devhost_run import run_host

import devhost.runtime.turns as turns_module
from devhost.host.server import DevHost

APP_DIR = Path(__file__).resolve().parent / "peer_app"
ORCHESTRATOR = "monitor"


class Meter:
    """Wall and thread-CPU seconds and calls, per named part."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        slot = self.parts.setdefault(name, [0.0, 0.0, 0])

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                slot[0] += time.perf_counter() - wall
                slot[1] += time.thread_time() - cpu
                slot[2] += 1

        return timed

    def reset(self) -> None:
        for slot in self.parts.values():
            slot[:] = [0.0, 0.0, 0]


def instrument(meter: Meter) -> Callable[[DevHost], None]:
    def on_started(host: DevHost) -> None:
        store, management = host.store, host.management
        for name in ("load_turn", "commit_group", "ready_instances", "pending_activities", "ready_entities", "next_visible_at"):
            setattr(store, name, meter.wrap(f"store.{name}", getattr(store, name)))
        management.get_status = meter.wrap("status query (management.get_status)", management.get_status)  # type: ignore[method-assign]
        management.start = meter.wrap("management.start", management.start)  # type: ignore[method-assign]
        for function in host.registry.orchestrators.values():
            object.__setattr__(function, "handle", meter.wrap("SDK handle", function.handle))
        turns_module.decide_turn = meter.wrap("decide_turn (incl. SDK)", turns_module.decide_turn)

    return on_started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--status-rate", type=float, default=50.0)
    parser.add_argument("--no-memo", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    meter = Meter()
    inputs = {f"job-{i}": {"job_id": f"job-{i}", "k": args.k} for i in range(args.n)}
    run = asyncio.run(
        run_host(
            APP_DIR,
            ORCHESTRATOR,
            inputs,
            status_rate=args.status_rate,
            memo=not args.no_memo,
            on_started=instrument(meter),
            keep_histories=False,
        )
    )
    parts = {name: {"wall_s": w, "cpu_s": c, "calls": n} for name, (w, c, n) in meter.parts.items()}
    sdk = parts.get("SDK handle", {"wall_s": 0.0, "cpu_s": 0.0})
    decide = parts.pop("decide_turn (incl. SDK)")
    parts["decide_turn without the SDK"] = {
        "wall_s": decide["wall_s"] - sdk["wall_s"],
        "cpu_s": decide["cpu_s"] - sdk["cpu_s"],
        "calls": decide["calls"],
    }
    measured_cpu = sum(p["cpu_s"] for p in parts.values())
    loop_cpu = run.loop_cpu_seconds
    parts["rest of the loop thread (asyncio, aiohttp, hand-offs, engine)"] = {
        "wall_s": float("nan"),
        "cpu_s": loop_cpu - measured_cpu,
        "calls": 0,
    }
    parts["activity threads (process CPU - loop thread - status client)"] = {
        "wall_s": float("nan"),
        "cpu_s": run.cpu_seconds - loop_cpu,
        "calls": 0,
    }
    result = {
        "n": args.n,
        "k": args.k,
        "turns": run.turns,
        "wall_s": run.wall_seconds,
        "cpu_s": run.cpu_seconds,
        "loop_cpu_s": loop_cpu,
        "memo": run.memo,
        "status_requests": len(run.latencies),
        "parts": parts,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.n} x K={args.k}: {run.turns} turns in {run.wall_seconds:.2f} s wall, {run.cpu_seconds:.2f} s CPU "
        f"(loop thread {loop_cpu:.2f} s), memo {'on' if run.memo else 'off'}, {len(run.latencies)} status GETs"
    )
    print(f"{'part':<64} {'calls':>7} {'wall s':>8} {'CPU s':>8} {'CPU ms/turn':>12} {'share':>6}")
    for name, p in sorted(parts.items(), key=lambda item: -item[1]["cpu_s"]):
        print(
            f"{name:<64} {p['calls']:>7} {p['wall_s']:>8.2f} {p['cpu_s']:>8.2f} {1000 * p['cpu_s'] / run.turns:>12.3f} "
            f"{p['cpu_s'] / run.cpu_seconds:>6.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
