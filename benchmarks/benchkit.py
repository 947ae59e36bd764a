"""Pieces the benchmark scripts share: timing the SDK's orchestrator handle, polling statuses under load,
cutting a final history back into the episodes the host ran, and replaying them through the SDK alone.

Not a test module and not part of devhost: the scripts in this folder import it as a sibling.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import status_client

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from devhost.core.context import ReplaySettings, build_context  # noqa: E402
from devhost.core.model import EventType, HistoryEvent, Instance, event_json  # noqa: E402
from devhost.http.paths import WEBHOOK_BASE_PATH  # noqa: E402
from devhost.runtime import sdk_speedups  # noqa: E402

# Events a turn delivers to the orchestrator; they follow OrchestratorStarted at the head of the turn's
# block, before what the orchestrator scheduled (devhost.core.turn: new_events + scheduled + closing).
DELIVERED = frozenset(
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
        self.reset()

    def reset(self) -> None:
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


class StatusPoller:
    """GETs instance statuses at a steady rate from a process of its own until stopped; keeps the latencies.

    A separate process, as a real client is: its CPU is not the host's, and it does not compete with the host
    for one interpreter lock (a client thread in the host's process waited up to a switch interval, 5 ms, at
    every hand-off, which made the latencies mostly the lock's).
    """

    def __init__(self, host: str, port: int, instance_ids: list[str], rate: float) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads and an event loop
        self._stop_event = context.Event()
        self._results, sender = context.Pipe(duplex=False)
        paths = [f"{WEBHOOK_BASE_PATH}/instances/{i}" for i in instance_ids]
        self._process = context.Process(
            target=status_client.poll, args=((host, port), paths, 1.0 / rate, self._stop_event, sender), daemon=True
        )
        self.latencies: list[float] = []
        self.errors = 0
        self.cpu_seconds = 0.0
        """Always 0: none of the client's CPU is in the host's process."""

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._stop_event.set()
        if self._results.poll(60):
            self.latencies, self.errors = self._results.recv()
        self._process.join(timeout=10)


def peak_rss_mb() -> float:
    """Peak RSS of this process and its waited-for children (ru_maxrss is KiB on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) * scale / 2**20


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def episodes_of(history: list[HistoryEvent]) -> list[tuple[list[HistoryEvent], list[HistoryEvent]]]:
    """The (played, new) event lists of every episode the host ran, cut from a final history."""
    episodes: list[tuple[list[HistoryEvent], list[HistoryEvent]]] = []
    start = 0
    while start < len(history):
        if history[start]["EventType"] != EventType.ORCHESTRATOR_STARTED:
            raise ValueError(f"history event {start} does not start an episode: {history[start]}")
        end = start + 1
        while end < len(history) and history[end]["EventType"] in DELIVERED:
            end += 1
        new = [dict(event, IsPlayed=False) for event in history[start:end]]
        episodes.append((history[:start], new))
        while history[end]["EventType"] != EventType.ORCHESTRATOR_COMPLETED:
            end += 1
        start = end + 1
    return episodes


def contexts_of(instance: Instance, history: list[HistoryEvent], settings: ReplaySettings) -> Iterator[str]:
    """The context JSON of every episode of ``history``, byte for byte what the engine sent."""
    for played, new in episodes_of(history):
        yield build_context(instance, [event_json(e) for e in played], new, settings)


@dataclass
class FloorRun:
    episodes: int
    seconds: float
    cpu_seconds: float
    per_episode: list[float]
    """Wall seconds of each timed ``handle`` call, in order."""
    results: list[tuple[int, int]]
    """(hash of the context, hash of the answer) of every call."""


def replay_floor(
    handle: Callable[[str], str], contexts: Sequence[str], *, memo: bool, sample: Callable[[int], bool] | None = None
) -> FloorRun:
    """Call the SDK ``handle`` on each context (or on those ``sample(index)`` picks), timing only the calls,
    with the host's timestamp memo on or off; the memo is put back as it was afterwards."""
    was = sdk_speedups.installed()
    (sdk_speedups.install if memo else sdk_speedups.uninstall)()
    if sdk_speedups.installed() != memo:
        raise RuntimeError("the SDK's timestamp parsing could not be switched (SDK version?)")
    seconds = cpu_seconds = 0.0
    per_episode: list[float] = []
    results: list[tuple[int, int]] = []
    try:
        for index, context in enumerate(contexts):
            if sample is not None and not sample(index):
                continue
            started, cpu_started = time.perf_counter(), time.thread_time()
            result = handle(context)
            elapsed = time.perf_counter() - started
            seconds += elapsed
            cpu_seconds += time.thread_time() - cpu_started
            per_episode.append(elapsed)
            results.append((hash(context), hash(result)))
    finally:
        (sdk_speedups.install if was else sdk_speedups.uninstall)()
    return FloorRun(len(per_episode), seconds, cpu_seconds, per_episode, results)
