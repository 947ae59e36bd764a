"""Turns that do not run the orchestrator: terminate, suspend and resume (decided purely, like core.turn)."""

from __future__ import annotations

import json
from datetime import datetime

from devhost.core import events
from devhost.core.context import mark_played
from devhost.core.model import EventType, Instance, Message, RuntimeStatus, TurnCommit


def terminate(instance: Instance, messages: list[Message], message: Message, now: datetime) -> TurnCommit:
    """Terminate now: the reason becomes the output; the parent (if any) hears of it as a failure."""
    reason = message.event.get("Input")
    output = json.dumps(reason)
    instance.runtime_status = RuntimeStatus.TERMINATED
    instance.output = output
    instance.last_updated_time = now
    history = [
        events.orchestrator_started(now),
        dict(message.event),
        events.execution_completed(now, RuntimeStatus.TERMINATED, output),
        events.orchestrator_completed(now),
    ]
    notify = notify_parent_failed(instance, now, f"Orchestration '{instance.name}' was terminated: {reason}")
    return TurnCommit(
        instance=instance,
        consumed_message_ids=[m.id for m in messages if m.id is not None],
        new_history=mark_played(history),
        new_messages=notify,
        clear_pending=True,
    )


def control(instance: Instance, message: Message, now: datetime, *, started: bool) -> TurnCommit:
    """Apply a suspend, resume or (no longer applicable) rewind message on its own."""
    kind = message.event["EventType"]
    consumed = [message.id] if message.id is not None else []
    status = instance.runtime_status
    if kind == EventType.EXECUTION_SUSPENDED and status in (RuntimeStatus.RUNNING, RuntimeStatus.PENDING):
        instance.runtime_status = RuntimeStatus.SUSPENDED
    elif kind == EventType.EXECUTION_RESUMED and status is RuntimeStatus.SUSPENDED:
        instance.runtime_status = RuntimeStatus.RUNNING if started else RuntimeStatus.PENDING
    else:
        # Suspending a suspended instance, resuming a running one, or a rewind of an instance that is
        # no longer Failed: acknowledged by the API, nothing to change.
        return TurnCommit(instance=instance, consumed_message_ids=consumed)
    instance.last_updated_time = now
    history = [events.orchestrator_started(now), dict(message.event), events.orchestrator_completed(now)]
    return TurnCommit(instance=instance, consumed_message_ids=consumed, new_history=mark_played(history))


def notify_parent_failed(instance: Instance, now: datetime, reason: str, details: str | None = None) -> list[Message]:
    if instance.parent_instance_id is None or instance.parent_task_id is None:
        return []
    event = events.sub_orchestration_failed(now, instance.parent_task_id, reason, details)
    return [Message(instance.parent_instance_id, event, now, instance.parent_execution_id)]
