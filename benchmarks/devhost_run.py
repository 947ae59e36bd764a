"""Running a batch of orchestrations on devhost in this process, the way ``python -m devhost`` runs them.

The host (``devhost.host.server.DevHost``) runs on a SQLite store (a file in a temporary directory by
default) and on the **real clock**: no per-call virtual-time patching of functions and no time-skipping
bookkeeping. A 0 s timer needs no skipping anyway (its fire time is the episode's own timestamp, already past
when the engine next looks). Instances are started through the management service (what the HTTP API and
the SDK client's RPC calls do, without the socket); a client process may poll their statuses over HTTP.
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import io
import os
import pstats
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchkit import StatusPoller, TimedHandle, peak_rss_mb

from devhost.clock import RealClock
from devhost.core.context import ReplaySettings
from devhost.core.model import HistoryEvent, Instance, InstanceQuery, RuntimeStatus
from devhost.host.server import DevHost
from devhost.runtime import sdk_speedups
from devhost.runtime.loader import load_app
from devhost.runtime.registry import OrchestratorFunction

UNFINISHED = InstanceQuery(statuses=frozenset({RuntimeStatus.PENDING, RuntimeStatus.RUNNING}), top=1)


@dataclass
class HostRun:
    wall_seconds: float
    cpu_seconds: float
    """CPU time of the whole process (loop, activity threads) over the run (the status client is another process)."""
    loop_cpu_seconds: float
    """CPU time of the event loop's thread (this one) over the run."""
    turns: int
    sdk_calls: int
    sdk_seconds: float
    sdk_cpu_seconds: float
    peak_rss_mb: float
    latencies: list[float]
    status_errors: int
    replay_settings: ReplaySettings
    handle: Callable[[str], str]
    """The SDK's orchestrator handle the host called (a floor calls the very same one)."""
    episodes: Counter[tuple[int, int]]
    memo: bool
    worker_cpu_seconds: float = 0.0
    """CPU time of the worker processes (their whole life, start-up included) when the app runs in them."""
    instances: dict[str, Instance] = field(default_factory=dict)
    histories: dict[str, list[HistoryEvent]] = field(default_factory=dict)
    profile: str | None = None


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a live process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_host(
    app_dir: Path,
    orchestrator: str,
    inputs: dict[str, Any],
    *,
    store: str = "file",
    status_rate: float = 0.0,
    profile: str | None = None,
    memo: bool = True,
    warmup: tuple[str, Any] | None = None,
    keep_histories: bool = True,
    on_started: Callable[[DevHost], None] | None = None,
    workers: int = 0,
) -> HostRun:
    """Start every ``inputs`` instance (id -> input) back to back and run until all have finished.

    ``warmup`` (id, input) runs to completion first, untimed. ``memo=False`` takes the host's timestamp memo
    out (the SDK parses every timestamp itself). ``profile`` is a pstats sort key (e.g. "tottime").
    ``on_started(host)`` runs once the host is up, before the warm-up (e.g. to wrap its parts with timers).
    ``workers``: run the app in that many language-worker processes; the timed handle then wraps the round trip to
    a worker (summed over turns that run side by side), and ``worker_cpu_seconds`` is the workers' CPU.
    """
    registry = load_app(app_dir)
    if not memo:
        sdk_speedups.uninstall()
    local_handle = registry.orchestrators[orchestrator].handle
    timed = TimedHandle(local_handle)
    registry.orchestrators[orchestrator] = OrchestratorFunction(orchestrator, timed)
    if workers:
        os.environ["FUNCTIONS_WORKER_PROCESS_COUNT"] = str(workers)
    with tempfile.TemporaryDirectory(prefix="devhost-bench-") as tmp:
        host = DevHost(
            app_dir, host="127.0.0.1", port=0, registry=None if workers else registry, clock=RealClock(),
            store_path=Path(tmp) / "store.sqlite3", in_memory=store == "memory", workers=bool(workers),
        )  # fmt: skip
        await host.start()
        if workers:
            invoker: Any = host.invoker
            remote = invoker.remote_orchestrator

            def timed_remote(function: OrchestratorFunction, **kwargs: Any) -> Callable[[str], Awaitable[str]] | None:
                replay = remote(function, **kwargs)
                return None if replay is None else functools.partial(_timed_replay, timed, replay)

            invoker.remote_orchestrator = timed_remote
        try:
            if on_started is not None:
                on_started(host)
            if warmup is not None:
                host.management.start(orchestrator, warmup[0], warmup[1])
                await host.engine.run_until(lambda: not host.store.query_instances(UNFINISHED)[0], skip_time=False)
                timed.reset()  # forget the warm-up's calls
            turns_before = host.engine.turns
            run = await _drive(host, timed, orchestrator, inputs, status_rate, profile, keep_histories)
            run.turns -= turns_before
            run.memo = sdk_speedups.installed()
            if workers:
                run.handle = local_handle  # a floor replays in this process
                run.worker_cpu_seconds = sum(_process_cpu(w.pid) for w in host.invoker.workers)  # type: ignore[attr-defined]
            return run
        finally:
            await host.stop()


async def _timed_replay(timed: TimedHandle, replay: Callable[[str], Awaitable[str]], context: str) -> str:
    """A worker's replay, awaited on the host's loop, counted into ``timed`` (wall time only: the CPU is the worker's)."""
    started = time.perf_counter()
    try:
        result = await replay(context)
    finally:
        timed.seconds += time.perf_counter() - started
        timed.calls += 1
    timed.episodes[hash(context), hash(result)] += 1
    return result


async def _drive(
    host: DevHost,
    timed: TimedHandle,
    orchestrator: str,
    inputs: dict[str, Any],
    status_rate: float,
    profile: str | None,
    keep_histories: bool,
) -> HostRun:
    engine, store, management = host.engine, host.store, host.management
    ids = list(inputs)
    profiler = cProfile.Profile() if profile else None
    poller = StatusPoller("127.0.0.1", host.port, ids, status_rate) if status_rate > 0 else None

    if profiler:
        profiler.enable()
    started, cpu_started, loop_started = time.perf_counter(), time.process_time(), time.thread_time()
    for instance_id, value in inputs.items():
        management.start(orchestrator, instance_id, value)
    if poller:
        poller.start()
    await engine.run_until(lambda: not store.query_instances(UNFINISHED)[0], skip_time=False)
    wall, cpu, loop_cpu = time.perf_counter() - started, time.process_time() - cpu_started, time.thread_time() - loop_started
    if profiler:
        profiler.disable()
    peak = peak_rss_mb()  # before the status client's process is reaped (its RSS is not the host's)
    if poller:
        # Joined off the loop: the poller may be waiting for this very loop to answer its last request.
        await asyncio.to_thread(poller.stop)
        cpu -= poller.cpu_seconds

    report = None
    if profiler and profile:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(profile).print_stats(40)
        report = text.getvalue()
    return HostRun(
        wall_seconds=wall,
        cpu_seconds=cpu,
        loop_cpu_seconds=loop_cpu,
        turns=engine.turns,
        sdk_calls=timed.calls,
        sdk_seconds=timed.seconds,
        sdk_cpu_seconds=timed.cpu_seconds,
        peak_rss_mb=peak,
        latencies=poller.latencies if poller else [],
        status_errors=poller.errors if poller else 0,
        replay_settings=engine.decider.replay_settings,
        handle=timed.handle,
        episodes=timed.episodes,
        memo=True,
        instances={i: store.get_instance(i) for i in ids},
        histories={i: store.get_history(i) for i in ids} if keep_histories else {},
        profile=report,
    )
