"""HTTP handlers run between the turns of a dispatch round (so a status GET waits a few turns, not a round); a turn
whose instance a handler purged and started again meanwhile is dropped, never written over its successor."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from devhost.core.model import Turn
from devhost.runtime.config import HostSettings
from devhost.runtime.engine import TURNS_BETWEEN_YIELDS
from devhost.service.management import Management
from devhost.store.sqlite import SqliteStore
from tests.engine.conftest import run_chains

IDS = [chr(ord("a") + n) for n in range(TURNS_BETWEEN_YIELDS + 1)]


class HandlerInTheRound(SqliteStore):
    """The real store; when instance ``a``'s first turn is loaded, a 'handler' is queued on the loop that purges
    ``a`` and starts it again under the same id (it runs at the engine's next yield, after ``a`` was decided)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.management: Management | None = None
        self.turns_loaded: list[str] = []
        self.handler_ran_before: list[str] = []

    def load_turn(self, instance_id: str, now: datetime) -> Turn | None:
        turn = super().load_turn(instance_id, now)
        if turn is not None and turn.messages:
            self.turns_loaded.append(instance_id)
            if self.turns_loaded == ["a"]:
                asyncio.get_running_loop().call_soon(self._replace_a)
        return turn

    def _replace_a(self) -> None:
        assert self.management is not None
        self.handler_ran_before = list(self.turns_loaded)
        self.management.purge("a")
        self.management.start("chain", "a", {"city": "Bergen"})


@pytest.mark.asyncio
async def test_a_turn_whose_instance_was_purged_and_started_again_between_turns_is_dropped(tmp_path: Path) -> None:
    store = HandlerInTheRound(tmp_path / "store.sqlite3")
    first: list[str] = []

    def started(management: Management) -> None:
        store.management = management
        first.append(store.get_instance("a").execution_id)  # type: ignore[union-attr]

    # More instances than TURNS_BETWEEN_YIELDS: the first round lets handlers in before its last turn.
    await run_chains(store, HostSettings(), IDS, started=started)

    a = store.get_instance("a")
    history = store.get_history("a")
    store.close()
    # The handler ran inside the first round: after a's turn (and a few others), before the last instance's.
    assert store.handler_ran_before[0] == "a" and IDS[-1] not in store.handler_ran_before
    assert a is not None and a.execution_id != first[0]
    assert a.output == '["Hello Bergen!", "HELLO BERGEN!"]'
    assert [e["EventType"] for e in history].count(0) == 1  # one ExecutionStarted: nothing of the old turn
    assert [e["Input"] for e in history if e["EventType"] == 0] == ['{"city":"Bergen"}']
