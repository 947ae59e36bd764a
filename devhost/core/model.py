"""Records the core, the store and the HTTP layer share: instances, messages, work items, turn commits.

The status and event-type enums they carry live in :mod:`devhost.core.protocol` and are re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from devhost.core.protocol import TERMINAL_STATUSES as TERMINAL_STATUSES
from devhost.core.protocol import EventType as EventType
from devhost.core.protocol import RuntimeStatus as RuntimeStatus

if TYPE_CHECKING:
    from devhost.core.entities import EntityMessage

HistoryEvent = dict[str, Any]
"""One history event in the SDK's JSON shape: PascalCase keys, integer ``EventType``."""

_EVENT_ENCODER = json.JSONEncoder(separators=(",", ":"))


def event_json(event: HistoryEvent) -> str:
    """The one serialisation of a history event: what the store keeps and the SDK's context splices in.

    Compact and key-order preserving, so parsing a stored text and serialising it again gives the same text.
    """
    return _EVENT_ENCODER.encode(event)


@dataclass
class Instance:
    """One orchestration instance: its current execution's row.

    JSON-bearing fields hold JSON *text* exactly as it travels on the wire (protocol doc §1.12):
    ``input`` is what the SDK context receives as ``input``; ``output`` and ``custom_status`` are the
    serialized values the status API returns decoded.
    """

    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    created_time: datetime
    last_updated_time: datetime
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    version: str = ""
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    cursor: str = "{}"
    """Engine bookkeeping for the current execution (JSON of :class:`devhost.core.cursor.Cursor`)."""
    trace_parent: str | None = None
    """The W3C ``traceparent`` of the request that started the instance (None: it had none). Kept for the
    instance's life (continue-as-new included), inherited by its sub-orchestrations, and handed to every
    orchestrator and activity invocation as the function context's trace context."""
    trace_state: str | None = None
    """The W3C ``tracestate`` that came with :attr:`trace_parent` (None: none)."""

    def copy(self) -> Instance:
        """A shallow copy (what ``copy.copy`` gives, without its generic protocol: a turn copies its instance)."""
        twin = object.__new__(Instance)
        twin.__dict__.update(self.__dict__)
        return twin


@dataclass
class Message:
    """An inbound event for an orchestration instance, delivered once ``visible_at`` has passed.

    ``event`` is the history event it becomes when delivered (``TaskCompleted``, ``TimerFired``,
    ``EventRaised``, ``ExecutionStarted``, ``ExecutionTerminated``, ...). Messages with an
    ``execution_id`` belong to that execution only (timers, activity results) and are dropped when the
    instance moves on (continue-as-new, restart); messages without one (raised events, terminate)
    go to whatever execution is current.
    """

    instance_id: str
    event: HistoryEvent
    visible_at: datetime
    execution_id: str | None = None
    id: int | None = None


@dataclass
class ActivityWorkItem:
    """An activity invocation the host owes: run ``name`` with ``input`` and report to ``task_id``."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None
    id: int | None = None
    trace_parent: str | None = None
    """The instance's trace context (:attr:`Instance.trace_parent`), filled in by ``pending_activities``."""
    trace_state: str | None = None


@dataclass
class Notification:
    """A lifecycle notification owed to a receiver (the outbox): written in the transaction of the state
    change it reports, deleted once delivered or given up, so a host killed before sending still sends it.

    ``body`` is the exact request body (the extension's Event Grid event array as JSON text), fixed when the
    transition commits so every attempt sends the same event id and time.
    """

    instance_id: str
    body: str
    due_at: datetime
    """When the next attempt may run (the transition's time at first, later the retry time)."""
    attempts: int = 0
    """Attempts made so far (0 until the first send fails)."""
    id: int | None = None


@dataclass
class Turn:
    """What one orchestration turn reads: the instance, its history, and the messages it may consume.

    The history comes as the stored JSON text of each event (``history_json``): a normal episode only
    splices those texts into the SDK's context payload, so parsing them would be wasted work that grows with
    every episode. :attr:`history` parses them on first use for the paths that inspect events (rewind).
    """

    instance: Instance
    history_json: list[str]
    messages: list[Message]
    _parsed: list[HistoryEvent] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of_events(cls, instance: Instance, history: list[HistoryEvent], messages: list[Message]) -> Turn:
        """A Turn from parsed events (callers that keep the history as dicts: the replay checker, tests)."""
        return cls(instance, [event_json(event) for event in history], messages)

    @property
    def history(self) -> list[HistoryEvent]:
        """The history events, parsed from ``history_json`` once."""
        if self._parsed is None:
            self._parsed = [json.loads(text) for text in self.history_json]
        return self._parsed


@dataclass
class TurnCommit:
    """Everything one orchestration turn writes, committed by the store in one transaction."""

    instance: Instance
    consumed_message_ids: list[int] = field(default_factory=list)
    new_history: list[HistoryEvent] = field(default_factory=list)
    replace_history: bool = False
    """True on continue-as-new: the history becomes ``new_history`` and this execution's messages go."""
    new_messages: list[Message] = field(default_factory=list)
    new_activities: list[ActivityWorkItem] = field(default_factory=list)
    new_instances: list[Instance] = field(default_factory=list)
    """Sub-orchestrations to create; their ``ExecutionStarted`` messages are in ``new_messages``."""
    new_entity_messages: list[EntityMessage] = field(default_factory=list)
    """Entity requests this turn sent (signals and calls), queued for their entities in this order."""
    clear_pending: bool = False
    """True when the instance reached a terminal state: drop its remaining messages and work items."""
    notifications: list[Notification] = field(default_factory=list)
    """Lifecycle notifications this turn's transition owes (the outbox, committed with the turn)."""


@dataclass
class InstanceQuery:
    """Filters of the list/purge APIs (``GET/DELETE .../instances?...``). None means no filter."""

    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[RuntimeStatus] | None = None
    instance_id_prefix: str | None = None
    top: int | None = None
    continuation_token: str | None = None
