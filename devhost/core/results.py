"""The messages an activity's outcome becomes: TaskCompleted or TaskFailed for its orchestration."""

from __future__ import annotations

from datetime import datetime

from devhost.core import events
from devhost.core.model import ActivityWorkItem, Message


def activity_result(item: ActivityWorkItem, now: datetime, result: str | None) -> Message:
    event = events.task_completed(now, item.task_id, result)
    return Message(item.instance_id, event, now, item.execution_id)


def activity_failure(item: ActivityWorkItem, now: datetime, reason: str, details: str | None) -> Message:
    event = events.task_failed(now, item.task_id, reason, details)
    return Message(item.instance_id, event, now, item.execution_id)
