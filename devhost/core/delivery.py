"""Which queued messages an instance may receive now: the one rule every Store applies.

A message tied to an execution (a timer, an activity or sub-orchestration result) belongs to that execution
only: once the instance runs another one (continue-as-new, restart) it is never delivered and a store may
delete it. A Suspended instance receives only the messages that end a suspension (``ExecutionResumed``,
``ExecutionTerminated``); every other event stays queued until it is resumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from devhost.core.model import Message
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


def with_arriving(
    status: RuntimeStatus, execution_id: str, queued: list[Message], arriving: Sequence[tuple[int, Message]], now: datetime
) -> list[Message]:
    """A turn's messages with the activity results that arrived and are not stored yet, in the order a store
    would deliver them had each been queued just before the turn was loaded: after every queued message of the
    same ``visible_at`` (a store's ids only grow), among themselves in the order they came.

    ``queued`` are the turn's deliverable messages as a store gives them, in (visible_at, id) order;
    ``arriving`` are ``(work item id, result message)`` pairs. A result is delivered under the provisional id
    ``-work_item_id``, by which :meth:`devhost.store.base.Store.commit_group` consumes it together with the turn
    (so it is never queued); results this instance may not receive now stay out, and are queued by the commit.
    """
    extra = [
        Message(m.instance_id, dict(m.event), m.visible_at, m.execution_id, -work_item_id)
        for work_item_id, m in arriving
        if m.visible_at <= now and is_deliverable(status, execution_id, m.execution_id, int(m.event["EventType"]))
    ]
    if not extra:
        return queued
    return sorted([*queued, *extra], key=lambda m: m.visible_at)  # stable: queued first within one visible_at
