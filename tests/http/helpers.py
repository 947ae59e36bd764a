"""Test helpers: stand in for the engine by writing instance progress straight through the store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from devhost.clock import VirtualClock
from devhost.core.model import HistoryEvent, Instance, Message, RuntimeStatus, TurnCommit
from devhost.store.base import Store

_UNSET: Any = object()
T = TypeVar("T")


def progress(
    store: Store,
    instance_id: str,
    status: RuntimeStatus,
    *,
    output: Any = _UNSET,
    custom_status: Any = _UNSET,
    history: Sequence[HistoryEvent] = (),
    at: datetime | None = None,
) -> Instance:
    """Commit a turn that moves ``instance_id`` to ``status`` (values are JSON-encoded like the engine does)."""
    instance = store.get_instance(instance_id)
    assert instance is not None, f"no instance {instance_id}"
    instance.runtime_status = status
    if output is not _UNSET:
        instance.output = None if output is None else json.dumps(output)
    if custom_status is not _UNSET:
        instance.custom_status = None if custom_status is None else json.dumps(custom_status)
    if at is not None:
        instance.last_updated_time = at
    store.commit_turn(TurnCommit(instance=instance, new_history=list(history)))
    return instance


def queued(store: Store, instance_id: str, now: datetime) -> list[Message]:
    """Messages the instance could consume now (or a long way ahead), oldest first."""
    turn = store.load_turn(instance_id, now + timedelta(days=3650))
    assert turn is not None
    return turn.messages


async def eventually(predicate: Callable[[], bool], attempts: int = 100_000) -> None:
    """Yield to the event loop (no real delay) until ``predicate()`` holds."""
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def drive(clock: VirtualClock, task: asyncio.Future[T]) -> T:
    """Run ``task`` to completion, jumping the virtual clock to each deadline something waits for."""
    while not task.done():
        await eventually(lambda: task.done() or clock.next_deadline() is not None)
        deadline = clock.next_deadline()
        if not task.done() and deadline is not None:
            clock.advance_to(deadline)
    return task.result()
