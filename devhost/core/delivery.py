"""Which queued messages an instance may receive now: the one rule every Store applies.

A message tied to an execution (a timer, an activity or sub-orchestration result) belongs to that execution
only: once the instance runs another one (continue-as-new, restart) it is never delivered and a store may
delete it. A Suspended instance receives only the messages that end a suspension (``ExecutionResumed``,
``ExecutionTerminated``); every other event stays queued until it is resumed.
"""

from __future__ import annotations

from devhost.core.protocol import EventType, RuntimeStatus

DELIVERED_WHILE_SUSPENDED: frozenset[int] = frozenset({int(EventType.EXECUTION_RESUMED), int(EventType.EXECUTION_TERMINATED)})
"""Event types a Suspended instance still receives."""


def is_stale(instance_execution_id: str, message_execution_id: str | None) -> bool:
    """True for a message of an execution the instance no longer runs: never deliverable."""
    return message_execution_id is not None and message_execution_id != instance_execution_id


def is_deliverable(status: RuntimeStatus, instance_execution_id: str, message_execution_id: str | None, event_type: int) -> bool:
    """Whether an instance in ``status`` running ``instance_execution_id`` may receive the message now
    (its ``visible_at`` having passed)."""
    if is_stale(instance_execution_id, message_execution_id):
        return False
    return status is not RuntimeStatus.SUSPENDED or int(event_type) in DELIVERED_WHILE_SUSPENDED
