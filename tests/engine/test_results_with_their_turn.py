"""An activity result and the turn it wakes are written in one transaction: the round sees the result before it is
stored, and the group commit records it and consumes it together (``Store.commit_group``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from devhost.core.errors import Conflict
from devhost.core.model import EventType, Message, TurnCommit
from devhost.runtime.config import HostSettings
from devhost.store.sqlite import SqliteStore
from tests.engine.conftest import run_chains


class GroupLoggingStore(SqliteStore):
    """The real SQLite store, noting how many turns and activity results each group commit carried."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.groups: list[tuple[int, int]] = []

    def commit_group(
        self, turns: Sequence[TurnCommit], activity_results: Sequence[tuple[int, Message]] = ()
    ) -> list[Conflict | None]:
        self.groups.append((len(turns), len(activity_results)))
        return super().commit_group(turns, activity_results)


@pytest.mark.asyncio
async def test_each_activity_result_commits_with_the_turn_it_wakes(tmp_path: Path) -> None:
    store = GroupLoggingStore(tmp_path / "store.sqlite3")
    try:
        await run_chains(store, HostSettings(), ["a"])
        history = [event["EventType"] for event in store.get_history("a")]
        left = store.load_turn("a", store.get_instance("a").last_updated_time)  # type: ignore[union-attr]
    finally:
        store.close()

    # The start, then greet's result with the turn that schedules shout, then shout's result with the last turn.
    assert store.groups == [(1, 0), (1, 1), (1, 1)]
    assert history.count(EventType.TASK_SCHEDULED) == history.count(EventType.TASK_COMPLETED) == 2
    assert left is not None and left.messages == []
