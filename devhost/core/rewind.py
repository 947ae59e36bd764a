"""Rewinding a Failed orchestration (the extension's preview ``rewind`` API), decided purely.

Rewind removes the failures from the history and runs what failed again: failed activities are scheduled
anew, failed sub-orchestrations are rewound in turn, and an orchestrator that threw by itself is replayed
(useful after a code fix). Failures inside ``-WithRetry`` calls are not rewound: their hidden retry-timer ids
(protocol doc §1.11) would no longer line up with a replay, so such an instance stays Failed and the rewind
is reported as not possible.
"""

from __future__ import annotations

from datetime import datetime

from devhost.core import events
from devhost.core.context import mark_played
from devhost.core.cursor import Cursor
from devhost.core.model import ActivityWorkItem, EventType, HistoryEvent, Message, RuntimeStatus, Turn, TurnCommit

_FAILURES = (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED)


def rewind(turn: Turn, message: Message, now: datetime) -> tuple[TurnCommit, str | None]:
    """The commit for a rewind request, and the reason it could not be done (None when it was)."""
    instance = turn.instance
    consumed = [message.id] if message.id is not None else []
    if instance.runtime_status is not RuntimeStatus.FAILED:
        return TurnCommit(instance=instance, consumed_message_ids=consumed), "the instance is not Failed"
    cursor = Cursor.loads(instance.cursor)
    user_ids = {seq for _, seq in cursor.seen if seq is not None}
    if any(e["EventType"] == EventType.TIMER_CREATED and e["EventId"] not in user_ids for e in turn.history):
        return TurnCommit(instance=instance, consumed_message_ids=consumed), "failures inside retried calls cannot be rewound"

    kept: list[HistoryEvent] = []
    failed: list[int] = []
    for event in turn.history:
        kind = event["EventType"]
        if kind == EventType.EXECUTION_COMPLETED:
            continue
        if kind in _FAILURES:
            failed.append(event["TaskScheduledId"])
            continue
        kept.append(event)
    schedules = (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED)
    scheduling = {e["EventId"]: e for e in kept if e["EventType"] in schedules}

    commit = TurnCommit(instance=instance, consumed_message_ids=consumed, replace_history=True)
    for task_id in failed:
        scheduled = scheduling.get(task_id)
        if scheduled is None:
            continue
        if scheduled["EventType"] == EventType.TASK_SCHEDULED:
            commit.new_activities.append(
                ActivityWorkItem(instance.instance_id, instance.execution_id, task_id, scheduled["Name"], scheduled.get("Input"))
            )
        else:
            child_rewind = dict(message.event, Timestamp=events.format_timestamp(now))
            commit.new_messages.append(Message(scheduled["InstanceId"], child_rewind, now))
    if not failed:
        # The orchestrator threw by itself: replay it (a GenericEvent wakes it without resolving any task).
        wake = events.generic_event(now, "rewind")
        commit.new_messages.append(Message(instance.instance_id, wake, now, instance.execution_id))
    marker = [events.orchestrator_started(now), dict(message.event), events.orchestrator_completed(now)]
    commit.new_history = kept + mark_played(marker)
    instance.runtime_status = RuntimeStatus.RUNNING
    instance.output = None
    instance.last_updated_time = now
    return commit, None
