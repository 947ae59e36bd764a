"""Throughput benchmark: N concurrent monitor-shaped orchestrations on devhost, against the SDK's own floor.

    python benchmarks/monitor_bench.py [--n 200] [--k 10] [--store file|memory] [--status-rate 50]
                                       [--no-memo] [--json] [--profile FILE]

Each orchestration (benchmarks/app) runs K iterations of "activity, custom status, 0 s durable timer", so it
takes 2K+1 orchestration turns (start, K activity results, K timer firings). The host runs in this process
on a SQLite file store and the real clock (benchmarks/devhost_run.py). While the orchestrations run, a client
thread polls ``GET .../instances/{id}`` at ``--status-rate`` requests/s; its latencies are the status-query
figures (the thread shares the GIL with the host: an upper bound of what a separate client would see).

The floor is measured in the same run, twice: the final history of every instance is cut back into the
episodes the host ran, each episode's context JSON is rebuilt exactly as the engine built it, and only the
SDK's ``handle(context)`` calls are timed — once with the SDK as published ("plain": dateutil parses every
timestamp) and once with the host's timestamp memo (devhost.runtime.sdk_speedups). Both must reproduce the
host's answers byte for byte. The host is timed wall to wall; its SDK share is the time inside the same
``handle`` during the host run. Target (issue 8): host steps/s >= 2x the plain floor's.

This is a script, not a test: pytest only collects ``tests/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchkit import FloorRun, contexts_of, percentile, replay_floor
from devhost_run import HostRun, run_host

from devhost.core.model import RuntimeStatus

APP_DIR = Path(__file__).resolve().parent / "app"
ORCHESTRATOR = "bench_monitor"
TARGET_RATIO = 2.0


def run_floors(run: HostRun) -> tuple[dict[str, FloorRun], float]:
    """Replay every episode of every instance through the SDK alone, plain and with the memo; also returns
    the seconds spent building the contexts (not part of either floor)."""
    building = time.perf_counter()
    contexts: list[str] = []
    for instance_id, history in run.histories.items():
        contexts += contexts_of(run.instances[instance_id], history, run.replay_settings)
    build_seconds = time.perf_counter() - building
    floors = {"plain": replay_floor(run.handle, contexts, memo=False), "memo": replay_floor(run.handle, contexts, memo=True)}
    for name, floor in floors.items():
        if Counter(floor.results) != run.episodes:
            # Same contexts byte for byte, same answers: the floor replayed exactly the host's episodes.
            raise AssertionError(f"the {name} floor's episodes differ from the host's ({floor.episodes} vs {run.sdk_calls})")
    return floors, build_seconds


def check_host_results(run: HostRun, k: int) -> None:
    for instance_id, instance in run.instances.items():
        expected = {"job_id": instance_id, "checks": k, "final_status": "Completed"}
        if instance.runtime_status is not RuntimeStatus.COMPLETED or json.loads(instance.output or "null") != expected:
            raise AssertionError(f"{instance_id} ended {instance.runtime_status.value}: {instance.output}")


def figures(args: argparse.Namespace, run: HostRun, floors: dict[str, FloorRun], build_seconds: float) -> dict[str, Any]:
    f: dict[str, Any] = {
        "n": args.n, "k": args.k, "store": args.store, "clock": "real", "memo_in_host": run.memo,
        "turns": run.turns, "sdk_episodes": run.sdk_calls,
        "status_requests": len(run.latencies), "status_errors": run.status_errors,
        "status_p50_ms": percentile(run.latencies, 0.50) * 1000,
        "status_p99_ms": percentile(run.latencies, 0.99) * 1000,
        "status_max_ms": max(run.latencies) * 1000 if run.latencies else float("nan"),
        "peak_rss_mb": run.peak_rss_mb, "context_build_s": build_seconds,
        "host_ms_per_turn_wall": 1000 * run.wall_seconds / run.turns,
        "host_only_ms_per_turn_wall": 1000 * (run.wall_seconds - run.sdk_seconds) / run.turns,
        "host_only_ms_per_turn_cpu": 1000 * (run.cpu_seconds - run.sdk_cpu_seconds) / run.turns,
    }  # fmt: skip
    # Wall time is what a user waits; CPU time is the same work without the other processes of a busy
    # machine (and without GIL waits), so it is the steadier basis for the host/floor comparison.
    for basis, host_s, sdk_s in (("wall", run.wall_seconds, run.sdk_seconds), ("cpu", run.cpu_seconds, run.sdk_cpu_seconds)):
        host_rate = run.turns / host_s
        f[f"{basis}_host_s"] = host_s
        f[f"{basis}_host_steps_per_s"] = host_rate
        f[f"{basis}_sdk_in_host_s"] = sdk_s
        f[f"{basis}_sdk_share"] = sdk_s / host_s
        for name, floor in floors.items():
            floor_s = floor.seconds if basis == "wall" else floor.cpu_seconds
            f[f"{basis}_floor_{name}_s"] = floor_s
            f[f"{basis}_floor_{name}_steps_per_s"] = floor.episodes / floor_s
            f[f"{basis}_host_over_floor_{name}"] = host_rate / (floor.episodes / floor_s)
        f[f"{basis}_target_met"] = f[f"{basis}_host_over_floor_plain"] >= TARGET_RATIO
    return f


def table(f: dict[str, Any]) -> str:
    def both(key: str, fmt: str) -> tuple[str, str]:
        return fmt.format(f[f"wall_{key}"]), fmt.format(f[f"cpu_{key}"])

    def verdict(basis: str) -> str:
        return f"{f[f'{basis}_host_over_floor_plain']:.2f}x ({'met' if f[f'{basis}_target_met'] else 'MISSED'})"

    pairs = [
        ("host run", both("host_s", "{:.2f} s")),
        ("host steps/s (turns)", both("host_steps_per_s", "{:.0f}")),
        ("SDK replay inside the host", both("sdk_in_host_s", "{:.2f} s")),
        ("SDK share of host time", both("sdk_share", "{:.1%}")),
        ("floor, SDK as published", both("floor_plain_s", "{:.2f} s")),
        ("floor, SDK with the memo", both("floor_memo_s", "{:.2f} s")),
        ("floor steps/s: plain / memo", tuple(  # type: ignore[arg-type]
            f"{f[f'{b}_floor_plain_steps_per_s']:.0f} / {f[f'{b}_floor_memo_steps_per_s']:.0f}" for b in ("wall", "cpu"))),
        ("host / memo floor", both("host_over_floor_memo", "{:.2f}x")),
        (f"host / plain floor (target {TARGET_RATIO:.1f}x)", (verdict("wall"), verdict("cpu"))),
    ]  # fmt: skip
    store = "SQLite file" if f["store"] == "file" else "in-memory"
    singles = [
        ("workload", f"{f['n']} orchestrations x {f['k']} iterations, {store} store, {f['clock']} clock"),
        ("orchestration steps", f"{f['turns']} turns ({f['sdk_episodes']} SDK episodes, replayed again for the floors)"),
        ("timestamp memo in the host", "on" if f["memo_in_host"] else "off (--no-memo)"),
        ("host ms per turn: all / host only", f"{f['host_ms_per_turn_wall']:.3f} / {f['host_only_ms_per_turn_wall']:.3f} ms"
                                               f" wall ({f['host_only_ms_per_turn_cpu']:.3f} ms CPU host only)"),
        ("status GET p50 / p99 / max", f"{f['status_p50_ms']:.1f} / {f['status_p99_ms']:.1f} / {f['status_max_ms']:.1f} ms"
                                       f" ({f['status_requests']} requests, {f['status_errors']} errors)"),
        ("peak RSS", f"{f['peak_rss_mb']:.0f} MB"),
        ("context JSON build (floor input)", f"{f['context_build_s']:.2f} s, not counted in the floors"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in pairs + singles)
    col = max(len(value) for _, values in pairs for value in values)
    lines = [f"{label:<{width}}  {value}" for label, value in singles]
    lines.append(f"{'':<{width}}  {'wall':>{col}}  {'CPU':>{col}}")
    lines += [f"{label:<{width}}  {wall:>{col}}  {cpu:>{col}}" for label, (wall, cpu) in pairs]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="concurrent orchestrations (default 200)")
    parser.add_argument("--k", type=int, default=10, help="iterations (activity + 0 s timer) each (default 10)")
    parser.add_argument(
        "--store", choices=("file", "memory"), default="file", help="SQLite file (default) or the in-memory store"
    )
    parser.add_argument(
        "--status-rate", type=float, default=50.0, help="status GETs per second while running; 0 disables (default 50)"
    )
    parser.add_argument("--no-memo", action="store_true", help="run the host without its timestamp memo")
    parser.add_argument(
        "--workers", type=int, default=0, help="run the app in this many worker processes (default 0: in the host)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="cProfile the host run; write the 40 top functions by own time to FILE"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.k < 1:
        parser.error("--n and --k must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs = {f"bench-{i:05d}": {"job_id": f"bench-{i:05d}", "iterations": args.k, "interval_seconds": 0} for i in range(args.n)}
    run = asyncio.run(
        run_host(
            APP_DIR,
            ORCHESTRATOR,
            inputs,
            store=args.store,
            status_rate=args.status_rate,
            profile="tottime" if args.profile else None,
            memo=not args.no_memo,
            workers=args.workers,
        )
    )
    if args.workers:
        print(f"{args.workers} worker process(es), their CPU: {run.worker_cpu_seconds:.2f} s (not in the CPU column)")
    check_host_results(run, args.k)
    floors, build_seconds = run_floors(run)
    if args.profile is not None and run.profile:
        args.profile.write_text(run.profile)
        print(f"profile written to {args.profile}; the host figures below include cProfile's overhead", file=sys.stderr)
    result = figures(args, run, floors, build_seconds)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
