"""Instances and histories written straight into a store, for tests of the dashboard's queries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from devhost.core import events
from devhost.core.model import (
    HistoryEvent,
    Instance,
    Message,
    RuntimeStatus,
    TurnCommit,
)
from devhost.store.sqlite import SqliteStore

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def add_instance(
    store: SqliteStore,
    instance_id: str,
    *,
    name: str = "monitor",
    seconds: float = 0.0,
    status: RuntimeStatus = RuntimeStatus.RUNNING,
    custom: dict[str, Any] | None = None,
    history: list[HistoryEvent] | None = None,
    output: str | None = None,
) -> Instance:
    """Create ``instance_id`` created ``seconds`` after T0, then commit ``history`` and its final row."""
    created = T0 + timedelta(seconds=seconds)
    instance = Instance(instance_id, name, f"exec-{instance_id}", RuntimeStatus.PENDING, created, created)
    start = events.execution_started(
        created, instance_id=instance_id, execution_id=instance.execution_id, name=name, input_text=None
    )
    store.create_instance(instance, Message(instance_id, start, visible_at=created, execution_id=instance.execution_id))
    final = Instance(
        instance_id,
        name,
        instance.execution_id,
        status,
        created,
        created,
        custom_status=json.dumps(custom) if custom is not None else None,
        output=output,
    )
    store.commit_turn(TurnCommit(instance=final, new_history=list(history or []), clear_pending=True))
    return final


def monitor_history(start: datetime, *, pending_timer_due: datetime | None = None) -> list[HistoryEvent]:
    """An orchestration that ran one activity, one sub-orchestration, and (optionally) waits on a timer."""
    later = start + timedelta(seconds=2)
    history = [
        events.orchestrator_started(start),
        events.execution_started(start, instance_id="x", execution_id="e", name="monitor", input_text='{"job_id":"j"}'),
        events.task_scheduled(start, 0, "check_job_status", json.dumps({"payload": "p" * 500})),
        events.orchestrator_completed(start),
        events.orchestrator_started(later),
        events.task_completed(later, 0, '{"status":"Running"}'),
        events.sub_orchestration_created(later, 1, "child", "child-1", None),
        events.sub_orchestration_completed(later + timedelta(seconds=1), 1, '"ok"'),
    ]
    if pending_timer_due is not None:
        history.append(events.timer_created(later, 2, pending_timer_due))
    return history
