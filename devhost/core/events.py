"""Constructors for history events in the exact JSON shape the SDK reads (protocol doc §1.3).

Every event carries the four keys the SDK requires (EventType, EventId, IsPlayed, Timestamp);
EventId is the task sequence number on events that schedule something and -1 elsewhere.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any

from devhost.core.model import EventType, HistoryEvent, RuntimeStatus


@functools.lru_cache(maxsize=16)  # a turn stamps all its events with the same few times
def format_timestamp(when: datetime) -> str:
    """UTC with 7 fractional digits and ``Z``, as .NET writes it (the SDK parses it with dateutil)."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _event(event_type: EventType, timestamp: datetime, event_id: int = -1, **fields: Any) -> HistoryEvent:
    event: dict[str, Any] = {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_timestamp(timestamp),
    }
    event.update(fields)
    return event


def orchestrator_started(now: datetime) -> HistoryEvent:
    return _event(EventType.ORCHESTRATOR_STARTED, now)


def orchestrator_completed(now: datetime) -> HistoryEvent:
    return _event(EventType.ORCHESTRATOR_COMPLETED, now)


def execution_started(
    now: datetime,
    *,
    instance_id: str,
    execution_id: str,
    name: str,
    input_text: str | None,
    version: str = "",
    parent_instance_id: str | None = None,
    parent_execution_id: str | None = None,
    parent_task_id: int | None = None,
) -> HistoryEvent:
    # SDK >= 1.3.3 reads ExecutionStarted.Version unconditionally: the key must exist.
    parent = None
    if parent_instance_id is not None:
        parent = {
            "Name": None,
            "OrchestrationInstance": {"InstanceId": parent_instance_id, "ExecutionId": parent_execution_id},
            "TaskScheduleId": parent_task_id,
        }
    return _event(
        EventType.EXECUTION_STARTED,
        now,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=parent,
        Name=name,
        Version=version,
        Input=input_text,
        Tags=None,
    )


def execution_completed(now: datetime, status: RuntimeStatus, result: str | None, failure: str | None = None) -> HistoryEvent:
    return _event(
        EventType.EXECUTION_COMPLETED,
        now,
        OrchestrationStatus=status.value,
        Result=result,
        FailureDetails=None if failure is None else {"ErrorMessage": failure},
    )


def execution_terminated(now: datetime, reason: str | None) -> HistoryEvent:
    return _event(EventType.EXECUTION_TERMINATED, now, Input=reason)


def execution_suspended(now: datetime, reason: str | None) -> HistoryEvent:
    return _event(EventType.EXECUTION_SUSPENDED, now, Reason=reason)


def execution_resumed(now: datetime, reason: str | None) -> HistoryEvent:
    return _event(EventType.EXECUTION_RESUMED, now, Reason=reason)


def execution_rewound(now: datetime, reason: str | None) -> HistoryEvent:
    """The rewind request (DTFx's ExecutionRewoundEvent carries the caller's Reason)."""
    return _event(EventType.EXECUTION_REWOUND, now, Reason=reason)


def generic_event(now: datetime, data: str | None) -> HistoryEvent:
    """DTFx's GenericEvent: delivered to an orchestrator, it wakes it without resolving any task."""
    return _event(EventType.GENERIC_EVENT, now, Data=data)


def task_scheduled(now: datetime, task_id: int, name: str, input_text: str | None) -> HistoryEvent:
    return _event(EventType.TASK_SCHEDULED, now, task_id, Name=name, Version="", Input=input_text, Tags=None)


def task_completed(now: datetime, task_id: int, result: str | None) -> HistoryEvent:
    return _event(EventType.TASK_COMPLETED, now, TaskScheduledId=task_id, Result=result)


def task_failed(now: datetime, task_id: int, reason: str, details: str | None) -> HistoryEvent:
    return _event(EventType.TASK_FAILED, now, TaskScheduledId=task_id, Reason=reason, Details=details, FailureDetails=None)


def sub_orchestration_created(
    now: datetime, task_id: int, name: str, instance_id: str, input_text: str | None, version: str = ""
) -> HistoryEvent:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        now,
        task_id,
        Name=name,
        Version=version,
        InstanceId=instance_id,
        Input=input_text,
    )


def sub_orchestration_completed(now: datetime, task_id: int, result: str | None) -> HistoryEvent:
    return _event(EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, now, TaskScheduledId=task_id, Result=result)


def sub_orchestration_failed(now: datetime, task_id: int, reason: str, details: str | None) -> HistoryEvent:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        now,
        TaskScheduledId=task_id,
        Reason=reason,
        Details=details,
        FailureDetails=None,
    )


def timer_created(now: datetime, timer_id: int, fire_at: datetime) -> HistoryEvent:
    return _event(EventType.TIMER_CREATED, now, timer_id, FireAt=format_timestamp(fire_at))


def timer_fired(now: datetime, timer_id: int, fire_at: datetime) -> HistoryEvent:
    return _event(EventType.TIMER_FIRED, now, TimerId=timer_id, FireAt=format_timestamp(fire_at))


def event_sent(now: datetime, event_id: int, instance_id: str, name: str, input_text: str | None) -> HistoryEvent:
    """DTFx's EventSentEvent: what an orchestration sent to another instance (an entity request)."""
    return _event(EventType.EVENT_SENT, now, event_id, InstanceId=instance_id, Name=name, Input=input_text)


def event_raised(now: datetime, name: str, input_text: str | None) -> HistoryEvent:
    return _event(EventType.EVENT_RAISED, now, Name=name, Input=input_text)


def continue_as_new(now: datetime, input_text: str | None) -> HistoryEvent:
    return _event(EventType.CONTINUE_AS_NEW, now, OrchestrationStatus=RuntimeStatus.CONTINUED_AS_NEW.value, Result=input_text)
