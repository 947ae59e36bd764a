"""host.json maxConcurrentOrchestratorFunctions bounds the turns the engine runs in one dispatch round.

After that many turns the engine hands out the activities they scheduled before it takes the next instance,
so the order in which the store sees turns and activity hand-outs shows the bound.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import pytest

from devhost.core.model import ActivityWorkItem, Turn
from devhost.runtime.config import HostSettings
from devhost.store.sqlite import SqliteStore
from tests.engine.conftest import run_chains


class LoggingStore(SqliteStore):
    """The real SQLite store, noting each turn the engine runs and each activity it takes, in order."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.log: list[str] = []

    def load_turn(self, instance_id: str, now: datetime) -> Turn | None:
        turn = super().load_turn(instance_id, now)
        if turn is not None and turn.messages:
            self.log.append(f"turn {instance_id}")
        return turn

    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> list[ActivityWorkItem]:
        items = super().pending_activities(limit, exclude)
        self.log.extend(f"activity {item.name} for {item.instance_id}" for item in items)
        return items


async def run_two_chains(tmp_path: Path, settings: HostSettings) -> list[str]:
    """Start two ``chain`` orchestrations before the engine runs, run both to completion, return the log."""
    store = LoggingStore(tmp_path / "store.sqlite3")
    try:
        await run_chains(store, settings, ["a", "b"])
    finally:
        store.close()
    return store.log


@pytest.mark.asyncio
async def test_max_concurrent_orchestrator_functions_of_one_runs_one_turn_per_dispatch_round(tmp_path: Path) -> None:
    log = await run_two_chains(tmp_path, HostSettings(max_concurrent_orchestrations=1))

    # a's first turn, then its activity is handed out before b gets its first turn.
    assert log[:4] == ["turn a", "activity greet for a", "turn b", "activity greet for b"]


@pytest.mark.asyncio
async def test_a_larger_limit_runs_every_ready_turn_before_handing_out_activities(tmp_path: Path) -> None:
    log = await run_two_chains(tmp_path, HostSettings(max_concurrent_orchestrations=2))

    assert log[:4] == ["turn a", "turn b", "activity greet for a", "activity greet for b"]
