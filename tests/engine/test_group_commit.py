"""Group commit: turns run back to back share one store transaction, and so do activity results.

The engine runs on a real SqliteStore wrapped in a recorder that counts transactions (a ``batch()`` or a
write call outside one) — what the WAL is written for — against the turns and results committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, List

import pytest

from devhost.clock import VirtualClock
from devhost.core.model import EventType, InstanceQuery, RuntimeStatus
from devhost.engine import TURNS_PER_COMMIT, Engine
from devhost.invoke import Invoker
from devhost.loader import load_app
from devhost.management import Management
from devhost.store.sqlite import SqliteStore

APP_DIR = Path(__file__).parents[1] / "apps" / "engine_features"
INSTANCES = 3 * TURNS_PER_COMMIT
SAFETY_NET_SECONDS = 20.0


class RecordingStore:
    """A SqliteStore that counts its transactions and the writes made in each."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.depth = 0
        self.transactions: List[List[str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self.depth += 1
        if self.depth == 1:
            self.transactions.append([])
        try:
            with self.inner.batch():
                yield
        finally:
            self.depth -= 1

    def _write(self, kind: str) -> None:
        if self.depth:
            self.transactions[-1].append(kind)
        else:
            self.transactions.append([kind])

    def commit_turn(self, commit: Any) -> None:
        self._write("turn")
        self.inner.commit_turn(commit)

    def complete_activity(self, work_item_id: int, result: Any) -> bool:
        self._write("result")
        return self.inner.complete_activity(work_item_id, result)


async def _run_chains(tmp_path: Path) -> RecordingStore:
    store = RecordingStore(SqliteStore(tmp_path / "store.db"))
    clock = VirtualClock()
    registry = load_app(APP_DIR)
    invoker = Invoker(clock)
    engine = Engine(store, clock, registry, SimpleNamespace(max_concurrent_activities=INSTANCES), invoker)  # type: ignore[arg-type]
    management = Management(store, clock, registry, engine.notify, hub_name="GroupCommitHub")  # type: ignore[arg-type]
    for n in range(INSTANCES):
        management.start("chain", f"c{n}", {"city": f"city{n}"})
    unfinished = InstanceQuery(statuses=frozenset({RuntimeStatus.PENDING, RuntimeStatus.RUNNING}), top=1)
    await engine.start()
    try:
        await asyncio.wait_for(engine.run_until(lambda: not store.query_instances(unfinished)[0]), SAFETY_NET_SECONDS)
    finally:
        await engine.stop()
        invoker.close()
    return store


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[RecordingStore]:
    store = asyncio.run(_run_chains(tmp_path))
    yield store
    store.inner.close()


def test_turns_ready_together_are_committed_together(recorded: RecordingStore) -> None:
    turns_per_transaction = [t.count("turn") for t in recorded.transactions if "turn" in t]

    assert sum(turns_per_transaction) == 3 * INSTANCES  # start, two activity results each
    assert max(turns_per_transaction) == TURNS_PER_COMMIT
    assert len(turns_per_transaction) < sum(turns_per_transaction) / 2


def test_activity_results_that_finish_together_are_recorded_together(recorded: RecordingStore) -> None:
    results_per_transaction = [t.count("result") for t in recorded.transactions if "result" in t]

    assert sum(results_per_transaction) == 2 * INSTANCES
    assert max(results_per_transaction) > 1


def test_every_instance_completes_with_each_activity_recorded_once(recorded: RecordingStore) -> None:
    for n in range(INSTANCES):
        instance = recorded.inner.get_instance(f"c{n}")
        history = recorded.inner.get_history(f"c{n}")
        completed = [e["TaskScheduledId"] for e in history if e["EventType"] == EventType.TASK_COMPLETED]

        assert instance is not None and instance.runtime_status is RuntimeStatus.COMPLETED
        assert sorted(completed) == [0, 1]
