"""Throughput benchmark: N concurrent monitor-shaped orchestrations on devhost, against the SDK's own floor.

    python benchmarks/monitor_bench.py [--n 200] [--k 10] [--store file|memory] [--status-rate 50]
                                       [--json] [--profile FILE]

Each orchestration (benchmarks/app) runs K iterations of "activity, then a 0 s durable timer", so it takes
2K+1 orchestration turns (start, K activity results, K timer firings). The host runs in this process
(``devhost.host.server.DevHost``) on a SQLite store — a file in a temporary directory by default — and on the
**real clock**: that is how ``python -m devhost`` runs, with no per-call virtual-time patching of functions
and no time-skipping bookkeeping. A 0 s timer needs no skipping anyway (its fire time is the episode's own
timestamp, already past when the engine next looks), so the virtual clock would only add test machinery.

While the orchestrations run, a client thread polls ``GET .../instances/{id}`` (http.client, one keep-alive
connection) at ``--status-rate`` requests/s; its latencies are the status-query figures. The thread shares
the GIL with the host, so they are an upper bound of what a separate client would see; serving them is host
work and counts in the host's time (the client thread's own CPU does not).

The floor is measured in the same run: the final history of every instance is cut back into the episodes
the host ran (each turn appended ``OrchestratorStarted, <delivered events>, <scheduled events>, ...,
OrchestratorCompleted``), each episode's context JSON is rebuilt with ``devhost.core.context.build_context``
(what the engine sends), and only the SDK's ``handle(context)`` calls are timed. The host is timed wall to
wall; its SDK share is the time spent inside the same ``handle`` during the host run. Target (the issue):
host steps/s >= 80 % of the floor's, i.e. host overhead under 25 % of SDK time.

This is a script, not a test: pytest only collects ``tests/``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import io
import json
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from devhost.clock import RealClock  # noqa: E402
from devhost.core.context import ReplaySettings, build_context  # noqa: E402
from devhost.core.model import EventType, HistoryEvent, Instance, InstanceQuery, RuntimeStatus, event_json  # noqa: E402
from devhost.host.server import DevHost  # noqa: E402
from devhost.http.paths import WEBHOOK_BASE_PATH  # noqa: E402
from devhost.runtime.loader import load_app  # noqa: E402
from devhost.runtime.registry import OrchestratorFunction  # noqa: E402

APP_DIR = Path(__file__).resolve().parent / "app"
ORCHESTRATOR = "bench_monitor"
TARGET_RATIO = 0.80

# Events a turn delivers to the orchestrator; they follow OrchestratorStarted at the head of the turn's
# block, before what the orchestrator scheduled (devhost.core.turn: new_events + scheduled + closing).
_DELIVERED = frozenset(
    {
        EventType.EXECUTION_STARTED, EventType.TASK_COMPLETED, EventType.TASK_FAILED,
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        EventType.TIMER_FIRED, EventType.EVENT_RAISED, EventType.GENERIC_EVENT,
    }
)  # fmt: skip


class TimedHandle:
    """The SDK's orchestrator ``handle``, counting calls and the wall and CPU time spent inside them."""

    def __init__(self, handle: Callable[[str], str]) -> None:
        self.handle = handle
        self.calls = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.episodes: Counter[tuple[int, int]] = Counter()
        """(hash of the context JSON, hash of the result JSON) of every call: what the floor must reproduce."""

    def __call__(self, context: str) -> str:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            result = self.handle(context)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - cpu_started
            self.calls += 1
        self.episodes[hash(context), hash(result)] += 1
        return result


class StatusPoller(threading.Thread):
    """GETs instance statuses at a steady rate from its own thread until stopped; keeps the latencies.

    One keep-alive connection (reopened after an error), as a polling client with a session would use.
    """

    def __init__(self, host: str, port: int, instance_ids: list[str], rate: float) -> None:
        super().__init__(name="status-poller", daemon=True)
        self.address = (host, port)
        self.paths = [f"{WEBHOOK_BASE_PATH}/instances/{i}" for i in instance_ids]
        self.interval = 1.0 / rate
        self.latencies: list[float] = []
        self.errors = 0
        self.cpu_seconds = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        due = time.perf_counter()
        count = 0
        while not self._stop_event.is_set():
            path = self.paths[count % len(self.paths)]
            count += 1
            started = time.perf_counter()
            try:
                connection = connection or http.client.HTTPConnection(*self.address, timeout=30)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                ok = response.status in (200, 202)
            except (http.client.HTTPException, OSError):
                ok = False
                if connection is not None:
                    connection.close()
                connection = None
            if ok:
                self.latencies.append(time.perf_counter() - started)
            else:
                self.errors += 1
            due += self.interval
            self._stop_event.wait(max(0.0, due - time.perf_counter()))
        if connection is not None:
            connection.close()
        self.cpu_seconds = time.thread_time()  # this thread's own CPU, taken out of the host's

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=60)


@dataclass
class HostRun:
    wall_seconds: float
    cpu_seconds: float
    """CPU time of the whole process (loop, activity threads) over the run, minus the status client's."""
    turns: int
    sdk_calls: int
    sdk_seconds: float
    sdk_cpu_seconds: float
    peak_rss_mb: float
    latencies: list[float]
    status_errors: int
    replay_settings: ReplaySettings
    handle: Callable[[str], str]
    """The SDK's orchestrator handle the host called (the floor calls the very same one)."""
    episodes: Counter[tuple[int, int]]
    instances: dict[str, Instance] = field(default_factory=dict)
    histories: dict[str, list[HistoryEvent]] = field(default_factory=dict)
    profile: str | None = None
    worker_cpu_seconds: float = 0.0
    """CPU time of the worker processes (whole life: start-up included), when the app runs in them."""


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a live process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class FloorRun:
    episodes: int
    seconds: float
    cpu_seconds: float
    build_seconds: float
    """Wall time spent building the context JSON texts (not part of the floor; shown for reference)."""


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


async def run_host(n: int, k: int, store: str, status_rate: float, profile: bool, workers: int = 0) -> HostRun:
    registry = load_app(APP_DIR)
    local_handle = registry.orchestrators[ORCHESTRATOR].handle
    timed = TimedHandle(local_handle)
    registry.orchestrators[ORCHESTRATOR] = OrchestratorFunction(ORCHESTRATOR, timed)
    if workers:
        # The app runs in worker processes: the host loads it itself, and the timed handle wraps the round trip
        # to a worker (its "SDK" time is the worker's replay plus the pipe, summed over concurrent turns).
        os.environ["FUNCTIONS_WORKER_PROCESS_COUNT"] = str(workers)
    with tempfile.TemporaryDirectory(prefix="devhost-bench-") as tmp:
        host = DevHost(
            APP_DIR, host="127.0.0.1", port=0, registry=None if workers else registry, clock=RealClock(),
            store_path=Path(tmp) / "store.sqlite3", in_memory=store == "memory", workers=bool(workers),
        )  # fmt: skip
        await host.start()
        if workers:
            invoker: Any = host.invoker
            remote = invoker.orchestrator_handle

            def timed_remote(function: OrchestratorFunction) -> Callable[[str], str]:
                timed.handle = remote(function)
                return timed

            invoker.orchestrator_handle = timed_remote
        try:
            run = await _drive(host, timed, n, k, status_rate, profile)
            run.handle = local_handle  # the floor replays in this process
            if workers:
                run.worker_cpu_seconds = sum(_process_cpu(w.pid) for w in host.invoker.workers)  # type: ignore[attr-defined]
            return run
        finally:
            await host.stop()


async def _drive(host: DevHost, timed: TimedHandle, n: int, k: int, status_rate: float, profile: bool) -> HostRun:
    engine, store, management = host.engine, host.store, host.management
    ids = [f"bench-{index:05d}" for index in range(n)]
    unfinished = InstanceQuery(statuses=frozenset({RuntimeStatus.PENDING, RuntimeStatus.RUNNING}), top=1)
    profiler = cProfile.Profile() if profile else None
    poller = StatusPoller("127.0.0.1", host.port, ids, status_rate) if status_rate > 0 else None

    if profiler:
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    for instance_id in ids:
        management.start(ORCHESTRATOR, instance_id, {"job_id": instance_id, "iterations": k, "interval_seconds": 0})
    if poller:
        poller.start()
    await engine.run_until(lambda: not store.query_instances(unfinished)[0], skip_time=False)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler:
        profiler.disable()
    if poller:
        # Joined off the loop: the poller may be waiting for this very loop to answer its last request.
        await asyncio.to_thread(poller.stop)
        cpu -= poller.cpu_seconds
    rss = peak_rss_mb()

    report = None
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        report = text.getvalue()
    return HostRun(
        wall_seconds=wall,
        cpu_seconds=cpu,
        turns=engine.turns,
        sdk_calls=timed.calls,
        sdk_seconds=timed.seconds,
        sdk_cpu_seconds=timed.cpu_seconds,
        peak_rss_mb=rss,
        latencies=poller.latencies if poller else [],
        status_errors=poller.errors if poller else 0,
        replay_settings=engine.replay_settings,
        handle=timed.handle,
        episodes=timed.episodes,
        instances={i: store.get_instance(i) for i in ids},
        histories={i: store.get_history(i) for i in ids},
        profile=report,
    )


def episodes_of(history: list[HistoryEvent]) -> list[tuple[list[HistoryEvent], list[HistoryEvent]]]:
    """The (played, new) event lists of every episode the host ran, cut from a final history."""
    episodes: list[tuple[list[HistoryEvent], list[HistoryEvent]]] = []
    start = 0
    while start < len(history):
        if history[start]["EventType"] != EventType.ORCHESTRATOR_STARTED:
            raise ValueError(f"history event {start} does not start an episode: {history[start]}")
        end = start + 1
        while end < len(history) and history[end]["EventType"] in _DELIVERED:
            end += 1
        new = [dict(event, IsPlayed=False) for event in history[start:end]]
        episodes.append((history[:start], new))
        while history[end]["EventType"] != EventType.ORCHESTRATOR_COMPLETED:
            end += 1
        start = end + 1
    return episodes


def run_floor(run: HostRun, k: int) -> FloorRun:
    """Replay every episode of every instance through the SDK alone; time only the ``handle`` calls."""
    seconds = cpu_seconds = build_seconds = 0.0
    count = 0
    episodes: Counter[tuple[int, int]] = Counter()
    for instance_id, history in run.histories.items():
        instance = run.instances[instance_id]
        state: dict[str, Any] = {}
        for played, new in episodes_of(history):
            building = time.perf_counter()
            context = build_context(instance, [event_json(e) for e in played], new, run.replay_settings)
            build_seconds += time.perf_counter() - building
            started, cpu_started = time.perf_counter(), time.thread_time()
            result = run.handle(context)
            seconds += time.perf_counter() - started
            cpu_seconds += time.thread_time() - cpu_started
            count += 1
            episodes[hash(context), hash(result)] += 1
            state = json.loads(result)
        expected = {"job_id": instance_id, "checks": k, "final_status": "Completed"}
        if not state.get("isDone") or state.get("output") != expected:
            raise AssertionError(f"floor replay of {instance_id} did not end as the host did: {state}")
    if episodes != run.episodes:
        # Same contexts byte for byte, same answers: the floor replayed exactly the host's episodes.
        raise AssertionError(f"the floor's episodes differ from the host's ({count} vs {sum(run.episodes.values())})")
    return FloorRun(episodes=count, seconds=seconds, cpu_seconds=cpu_seconds, build_seconds=build_seconds)


def check_host_results(run: HostRun, k: int) -> None:
    for instance_id, instance in run.instances.items():
        expected = {"job_id": instance_id, "checks": k, "final_status": "Completed"}
        if instance.runtime_status is not RuntimeStatus.COMPLETED or json.loads(instance.output or "null") != expected:
            raise AssertionError(f"{instance_id} ended {instance.runtime_status.value}: {instance.output}")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(args: argparse.Namespace, run: HostRun, floor: FloorRun) -> dict[str, Any]:
    f: dict[str, Any] = {
        "n": args.n,
        "k": args.k,
        "store": args.store,
        "clock": "real",
        "workers": args.workers,
        "worker_cpu_s": run.worker_cpu_seconds,
        "turns": run.turns,
        "sdk_episodes": run.sdk_calls,
        "status_requests": len(run.latencies),
        "status_errors": run.status_errors,
        "status_p50_ms": percentile(run.latencies, 0.50) * 1000,
        "status_p99_ms": percentile(run.latencies, 0.99) * 1000,
        "status_max_ms": max(run.latencies) * 1000 if run.latencies else float("nan"),
        "peak_rss_mb": run.peak_rss_mb,
        "context_build_s": floor.build_seconds,
    }
    # Wall time is what a user waits; CPU time is the same work without the other processes of a busy
    # machine (and without GIL waits), so it is the steadier basis for the host/floor comparison.
    for basis, host_s, sdk_s, floor_s in (
        ("wall", run.wall_seconds, run.sdk_seconds, floor.seconds),
        ("cpu", run.cpu_seconds, run.sdk_cpu_seconds, floor.cpu_seconds),
    ):
        host_rate, floor_rate = run.turns / host_s, floor.episodes / floor_s
        f[f"{basis}_host_s"] = host_s
        f[f"{basis}_host_steps_per_s"] = host_rate
        f[f"{basis}_sdk_in_host_s"] = sdk_s
        f[f"{basis}_sdk_share"] = sdk_s / host_s
        f[f"{basis}_host_overhead_vs_sdk"] = (host_s - sdk_s) / sdk_s
        f[f"{basis}_floor_s"] = floor_s
        f[f"{basis}_floor_steps_per_s"] = floor_rate
        f[f"{basis}_host_over_floor"] = host_rate / floor_rate
        f[f"{basis}_target_met"] = host_rate / floor_rate >= TARGET_RATIO
    return f


def table(f: dict[str, Any]) -> str:
    def both(key: str, fmt: str) -> tuple[str, str]:
        return fmt.format(f[f"wall_{key}"]), fmt.format(f[f"cpu_{key}"])

    def verdict(basis: str) -> str:
        return f"{100 * f[f'{basis}_host_over_floor']:.1f} % ({'met' if f[f'{basis}_target_met'] else 'MISSED'})"

    pairs = [
        ("host run", both("host_s", "{:.2f} s")),
        ("host steps/s", both("host_steps_per_s", "{:.0f}")),
        ("SDK replay inside the host", both("sdk_in_host_s", "{:.2f} s")),
        ("SDK share of host time", both("sdk_share", "{:.1%}")),
        ("host overhead vs SDK time", both("host_overhead_vs_sdk", "{:.1%}")),
        ("floor: SDK-only replay", both("floor_s", "{:.2f} s")),
        ("floor steps/s", both("floor_steps_per_s", "{:.0f}")),
        (f"host / floor (target {TARGET_RATIO:.0%})", (verdict("wall"), verdict("cpu"))),
    ]
    store = "SQLite file" if f["store"] == "file" else "in-memory"
    singles = [
        ("workload", f"{f['n']} orchestrations x {f['k']} iterations, {store} store, {f['clock']} clock"),
        ("orchestration steps", f"{f['turns']} turns ({f['sdk_episodes']} SDK episodes, replayed again for the floor)"),
        ("status GET p50 / p99 / max", f"{f['status_p50_ms']:.1f} / {f['status_p99_ms']:.1f} / {f['status_max_ms']:.1f} ms"
                                       f" ({f['status_requests']} requests, {f['status_errors']} errors)"),
        ("peak RSS", f"{f['peak_rss_mb']:.0f} MB"),
        ("worker processes, their CPU", f"{f['workers']}, {f['worker_cpu_s']:.2f} s (not in the CPU column)"),
        ("context JSON build (floor input)", f"{f['context_build_s']:.2f} s, not counted in the floor"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in pairs + singles)
    col = max(len(value) for _, values in pairs for value in values)
    lines = [f"{label:<{width}}  {value}" for label, value in singles]
    lines.append(f"{'':<{width}}  {'wall':>{col}}  {'CPU':>{col}}")
    lines += [f"{label:<{width}}  {wall:>{col}}  {cpu:>{col}}" for label, (wall, cpu) in pairs]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="concurrent orchestrations (default 200)")
    parser.add_argument("--k", type=int, default=10, help="iterations (activity + 0 s timer) each (default 10)")
    parser.add_argument(
        "--store", choices=("file", "memory"), default="file", help="SQLite file (default) or the in-memory store"
    )
    parser.add_argument(
        "--status-rate", type=float, default=50.0, help="status GETs per second while running; 0 disables (default 50)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="run the app in this many worker processes (default 0: in the host)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="cProfile the host run; write the 30 top functions by own time to FILE"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.k < 1:
        parser.error("--n and --k must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = asyncio.run(run_host(args.n, args.k, args.store, args.status_rate, args.profile is not None, args.workers))
    check_host_results(run, args.k)
    floor = run_floor(run, args.k)
    if args.profile is not None and run.profile:
        args.profile.write_text(run.profile)
        print(f"profile written to {args.profile}; the host figures below include cProfile's overhead", file=sys.stderr)
    result = figures(args, run, floor)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
