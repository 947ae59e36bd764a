"""The Durable protocol's names and tables, defined once: runtime statuses, DTFx event types, and the texts
and labels other layers recognise (protocol doc §1).

Everything that reads or writes one of these imports it from here (``devhost.core.model`` re-exports the two
enums for the records that carry them).
"""

from __future__ import annotations

import enum
from typing import Any


class RuntimeStatus(str, enum.Enum):
    """The extension's ``OrchestrationRuntimeStatus`` names (the JSON uses these strings)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    PENDING = "Pending"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES: frozenset[RuntimeStatus] = frozenset(
    {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.CANCELED, RuntimeStatus.TERMINATED}
)

ORCHESTRATION_STATUS_BY_NUMBER: tuple[RuntimeStatus, ...] = (
    RuntimeStatus.RUNNING,
    RuntimeStatus.COMPLETED,
    RuntimeStatus.CONTINUED_AS_NEW,
    RuntimeStatus.FAILED,
    RuntimeStatus.CANCELED,
    RuntimeStatus.TERMINATED,
    RuntimeStatus.PENDING,
    RuntimeStatus.SUSPENDED,
)
"""DTFx's ``OrchestrationStatus`` enum by number (0 = Running ... 7 = Suspended): the form
``ExecutionCompleted.OrchestrationStatus`` takes in histories written by the extension."""


def status_from_number(raw: Any) -> RuntimeStatus | None:
    """The status a DTFx ``OrchestrationStatus`` number (int or digit string) stands for; None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, int) and 0 <= raw < len(ORCHESTRATION_STATUS_BY_NUMBER):
        return ORCHESTRATION_STATUS_BY_NUMBER[raw]
    return None


class EventType(enum.IntEnum):
    """DTFx ``EventType`` numbers, as the SDK reads them (protocol doc §1.3)."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_INSTANCE_CREATED = 7
    SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
    SUB_ORCHESTRATION_INSTANCE_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20
    EXECUTION_REWOUND = 21


EVENT_TYPE_NAMES: dict[EventType, str] = {kind: "".join(part.capitalize() for part in kind.name.split("_")) for kind in EventType}
"""The .NET names of the event types (``TaskScheduled``), as the status API writes them."""

_EVENT_TYPES_BY_NAME: dict[str, EventType] = {name: kind for kind, name in EVENT_TYPE_NAMES.items()}


def event_type_name(kind: EventType) -> str:
    return EVENT_TYPE_NAMES[kind]


def parse_event_type(raw: Any) -> EventType | None:
    """An ``EventType`` given as a number (int or digit string, as the SDK JSON has it) or a .NET name, like
    .NET's ``Enum.TryParse``; None when it is neither or names no known type."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        if raw in _EVENT_TYPES_BY_NAME:
            return _EVENT_TYPES_BY_NAME[raw]
        if not raw.lstrip("-").isdigit():
            return None
        raw = int(raw)
    if isinstance(raw, int):
        try:
            return EventType(raw)
        except ValueError:
            return None
    return None


OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"
"""The SDK reports a failed episode as an exception whose message ends with this label and the state (§1.9)."""

HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"
"""The activity name a ``call_http`` action is scheduled under (the extension's built-in HTTP activity)."""

NON_DETERMINISM_MARK = "Non-deterministic workflow detected"
"""How a failure caused by replayed actions contradicting the history begins (devhost.core.turn); the replay
checker recognises such failures by it."""
