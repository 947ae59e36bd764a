"""A dispatch round in progress is never idle: between its commit and starting the activities that commit scheduled,
no function runs, yet the host has work (a waiter that judged it idle then would report a stall)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from devhost.core.model import ActivityWorkItem
from devhost.runtime.config import HostSettings
from devhost.runtime.engine import Engine
from devhost.store.sqlite import SqliteStore
from tests.engine.conftest import run_chains


class IdleProbe(SqliteStore):
    """The real SQLite store, asking the engine whether it is idle whenever a round looks for activities to start."""

    engine: Engine | None = None

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.answers: list[bool] = []

    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> list[ActivityWorkItem]:
        if self.engine is not None:
            self.answers.append(self.engine.is_idle())
        return super().pending_activities(limit, exclude)


@pytest.mark.asyncio
async def test_the_engine_is_not_idle_while_a_round_starts_activities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = IdleProbe(tmp_path / "store.sqlite3")
    original = Engine.__init__

    def remember(engine: Engine, *args: object, **kwargs: object) -> None:
        original(engine, *args, **kwargs)  # type: ignore[arg-type]
        store.engine = engine

    monkeypatch.setattr(Engine, "__init__", remember)
    try:
        await run_chains(store, HostSettings(), ["a"])
    finally:
        store.close()

    assert store.answers and not any(store.answers)
