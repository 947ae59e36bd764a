"""What the replay checker reads and reports: recordings, the decisions it compares, mismatches and results.

Also the classification of history events into what an episode receives (:data:`INBOUND`) and what it
decides (:func:`is_decision`), and small readers for recorded timestamps and event types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from dateutil import parser as dateparser

from devhost.core import events
from devhost.core.context import ReplaySettings
from devhost.core.model import EventType, HistoryEvent, RuntimeStatus, TurnCommit
from devhost.core.protocol import NON_DETERMINISM_MARK, event_type_name, parse_event_type, status_from_number
from devhost.runtime.registry import FunctionRegistry

STATUS_TIME_TOLERANCE = timedelta(seconds=1)
"""Slack for times rebuilt from a status document: the extension stamps each event when it writes it, a
little after the episode's OrchestratorStarted (which the document omits), so FireAt and ScheduledTime are
only known to about the duration of one episode."""

INBOUND = frozenset(
    {
        EventType.EXECUTION_STARTED,
        EventType.TASK_COMPLETED,
        EventType.TASK_FAILED,
        EventType.TIMER_FIRED,
        EventType.EVENT_RAISED,
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        EventType.EXECUTION_TERMINATED,
        EventType.EXECUTION_SUSPENDED,
        EventType.EXECUTION_RESUMED,
        EventType.EXECUTION_REWOUND,
        EventType.GENERIC_EVENT,  # the wake-up a rewind sends a throwing orchestrator (devhost.core.rewind)
    }
)
"""Events an episode receives (delivered as messages); every other non-structural event is a decision."""

STRUCTURAL = frozenset({EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED})
IGNORED = frozenset({EventType.HISTORY_STATE})
SCHEDULES = frozenset({EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED})
COMPLETIONS = {
    EventType.TASK_COMPLETED: EventType.TASK_SCHEDULED,
    EventType.TASK_FAILED: EventType.TASK_SCHEDULED,
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
}
_FAILED = RuntimeStatus.FAILED.value


class RecordingError(ValueError):
    """A recording that cannot be replayed as given (malformed or incomplete); one-line message."""


# --- recordings --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Folded:
    """A TaskScheduled / SubOrchestrationInstanceCreated that a status document folded into its completion."""

    kind: EventType
    name: str
    input: str | None
    time: datetime


@dataclass(frozen=True)
class StatusItem:
    """One ``historyEvents`` entry turned back into the raw shape (integer EventType, ids still unknown)."""

    event: HistoryEvent
    folded: Folded | None = None


@dataclass(frozen=True)
class Recording:
    """One recorded execution of an orchestration, ready to replay.

    ``input`` is the instance's stored input text (``Instance.input``: what the SDK context's ``input`` is
    decoded from). Exactly one of ``history`` (raw SDK-shape events) and ``timeline`` (a status document's
    events, in document order) is used: ``timeline`` when it is not None.
    """

    instance_id: str
    name: str
    input: str | None
    history: tuple[HistoryEvent, ...] = ()
    timeline: tuple[StatusItem, ...] | None = None
    source: str = ""
    skip_reason: str | None = None
    """Set when there is nothing to replay (e.g. a Pending instance); the checker reports it as skipped."""


@dataclass(frozen=True)
class ReplayTarget:
    """The current code a recording is judged against, with the settings the host would send the SDK."""

    registry: FunctionRegistry
    settings: ReplaySettings = ReplaySettings()
    default_version: str = ""


# --- decisions ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What one decision event asks for, in the terms the checker compares."""

    kind: str
    event_id: int | None = None
    name: str | None = None
    fire_at: datetime | None = None
    status: str | None = None
    failure: str | None = None

    @classmethod
    def of(cls, event: HistoryEvent) -> Decision:
        kind = event_type(event)
        event_id = event.get("EventId")
        event_id = event_id if isinstance(event_id, int) and not isinstance(event_id, bool) else None
        if kind in SCHEDULES or kind is EventType.EVENT_SENT:
            return cls(type_name(kind), event_id, name=event.get("Name"))
        if kind is EventType.TIMER_CREATED:
            return cls(type_name(kind), event_id, fire_at=parse_time(event.get("FireAt")))
        if kind is EventType.CONTINUE_AS_NEW:
            return cls("ContinueAsNew")
        if kind in (EventType.EXECUTION_COMPLETED, EventType.EXECUTION_FAILED):
            status = _status_name(event.get("OrchestrationStatus"))
            if kind is EventType.EXECUTION_FAILED:
                status = _FAILED
            if status == RuntimeStatus.CONTINUED_AS_NEW.value:
                return cls("ContinueAsNew")
            return cls("ExecutionCompleted", status=status, failure=_failure_text(event) if status == _FAILED else None)
        return cls(type_name(kind), event_id)

    def matches(self, other: Decision, tolerance: timedelta = timedelta(0)) -> bool:
        """Same kind, id (when both have one), name, final status, and FireAt within ``tolerance``."""
        if (self.kind, self.name, self.status) != (other.kind, other.name, other.status):
            return False
        if self.event_id is not None and other.event_id is not None and self.event_id != other.event_id:
            return False
        if (self.fire_at is None) != (other.fire_at is None):
            return False
        if self.fire_at is not None and other.fire_at is not None and abs(self.fire_at - other.fire_at) > tolerance:
            return False
        # A replay that now fails on non-determinism never matches a recording that did not.
        return _is_non_deterministic(self.failure) == _is_non_deterministic(other.failure)

    def describe(self) -> str:
        number = f" #{self.event_id}" if self.event_id is not None else ""
        if self.kind == "TaskScheduled":
            return f"activity '{self.name}' (TaskScheduled{number})"
        if self.kind == "SubOrchestrationInstanceCreated":
            return f"sub-orchestration '{self.name}' (SubOrchestrationInstanceCreated{number})"
        if self.kind == "TimerCreated":
            return f"timer firing at {format_time(self.fire_at)} (TimerCreated{number})"
        if self.kind == "EventSent":
            return f"event '{self.name}' sent (EventSent{number})"
        if self.kind == "ContinueAsNew":
            return "continue-as-new"
        if self.kind == "ExecutionCompleted":
            if self.status == _FAILED and self.failure:
                return f"the orchestration failing ({_shorten(self.failure)})"
            return f"the orchestration ending {self.status} (ExecutionCompleted)"
        return f"{self.kind}{number}"


def describe(decision: Decision | None) -> str:
    return "nothing" if decision is None else decision.describe()


def commit_decisions(commit: TurnCommit) -> list[HistoryEvent]:
    """The decision events of one commit (a continue-as-new commit replaces the history: one marker)."""
    if commit.replace_history and commit.instance.runtime_status is RuntimeStatus.CONTINUED_AS_NEW:
        return [events.continue_as_new(commit.instance.last_updated_time, commit.instance.input)]
    return [e for e in commit.new_history if is_decision(e)]


def is_decision(event: HistoryEvent) -> bool:
    kind = event_type(event)
    return kind not in INBOUND and kind not in STRUCTURAL and kind not in IGNORED


# --- results -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    episode: int
    """1-based episode number."""
    index: int
    """0-based position of the diverging decision among the episode's decisions."""
    expected: Decision | None
    actual: Decision | None
    note: str = ""

    def describe(self) -> str:
        if self.expected is None and self.actual is None:
            return f"episode {self.episode}: {self.note}"
        text = f"episode {self.episode}, decision {self.index}: expected {describe(self.expected)}, got {describe(self.actual)}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class ReplayResult:
    instance_id: str
    name: str
    source: str
    episodes: int
    """Episodes replayed (all of them when the recording matches)."""
    mismatch: Mismatch | None = None
    skipped: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.mismatch is None and self.error is None

    def line(self) -> str:
        if self.error is not None:
            return f"ERROR {self.instance_id} {self.name}: {self.error}"
        if self.skipped is not None:
            return f"SKIP {self.instance_id} {self.name}: {self.skipped}"
        if self.mismatch is not None:
            return f"FAIL {self.instance_id} {self.name}: {self.mismatch.describe()}"
        plural = "" if self.episodes == 1 else "s"
        return f"OK   {self.instance_id} {self.name} ({self.episodes} episode{plural})"


# --- small helpers -----------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """A history timestamp (.NET or ISO 8601, 'Z' or offset) as an aware UTC datetime; None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when: datetime = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def format_time(when: datetime | None) -> str:
    if when is None:
        return "?"
    text = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def event_type(event: HistoryEvent) -> EventType:
    """The event's type, given as a number or a .NET name; RecordingError when it names none."""
    raw = event.get("EventType")
    kind = parse_event_type(raw)
    if kind is None:
        raise RecordingError(f"unknown EventType {raw!r}")
    return kind


def type_name(kind: EventType) -> str:
    return event_type_name(kind)


def _status_name(raw: Any) -> str | None:
    status = status_from_number(raw)
    if status is not None:
        return status.value
    return None if raw is None else str(raw)


def _failure_text(event: HistoryEvent) -> str | None:
    details = event.get("FailureDetails")
    if isinstance(details, dict) and details.get("ErrorMessage"):
        return str(details["ErrorMessage"])
    result = event.get("Result")
    if isinstance(result, str):
        try:
            decoded = json.loads(result)
        except ValueError:
            return result
        return decoded if isinstance(decoded, str) else result
    return None


def _is_non_deterministic(text: str | None) -> bool:
    return bool(text) and NON_DETERMINISM_MARK in str(text)


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
