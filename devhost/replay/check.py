"""The replay checker: does the current orchestrator code still make the decisions a recorded history shows?

A recorded execution is replayed episode by episode through the engine's own :func:`decide_turn`, so it is
judged exactly as the host would judge it on its next turn: each episode's inbound events (ExecutionStarted,
TaskCompleted, TimerFired, EventRaised, ...) are delivered as messages at that episode's time, and the
decisions in the resulting commit (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated,
ExecutionCompleted, continue-as-new) are compared with the recorded ones. The history then grows by the
*recorded* episode, and the cursor comes from the commit, as in the engine.

Two recording shapes are replayed (:mod:`devhost.replay.sources` reads them from files and stores):

- a raw history (the SDK shape the store keeps): episodes are cut at each OrchestratorStarted and compared
  strictly (event type, EventId, activity / sub-orchestration name, timer FireAt, final status);
- a status document's ``historyEvents`` (API notes B.3): no EventIds, no Orchestrator{Started,Completed},
  TaskScheduled folded into its completion. Episodes are rebuilt around the inbound events and the folded
  schedules are claimed by the decisions the current code makes (:mod:`devhost.replay.status`), so
  EventIds are not compared there and times are compared within a tolerance.

Sub-orchestration instance ids are random in the engine: only names are compared.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from dateutil import parser as dateparser

from devhost.core import events
from devhost.core.context import ReplaySettings, mark_played
from devhost.core.model import EventType, HistoryEvent, Instance, Message, RuntimeStatus, Turn, TurnCommit
from devhost.core.turn import TurnEnv, decide_turn
from devhost.runtime.registry import FunctionRegistry

NON_DETERMINISM_MARK = "Non-deterministic workflow detected"
"""The core's failure text when replayed actions contradict the cursor (devhost.core.turn)."""

STATUS_TIME_TOLERANCE = timedelta(seconds=1)
"""Slack for times rebuilt from a status document: the extension stamps each event when it writes it, a
little after the episode's OrchestratorStarted (which the document omits), so FireAt and ScheduledTime are
only known to about the duration of one episode."""

INBOUND = frozenset({
    EventType.EXECUTION_STARTED, EventType.TASK_COMPLETED, EventType.TASK_FAILED, EventType.TIMER_FIRED,
    EventType.EVENT_RAISED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED, EventType.EXECUTION_TERMINATED,
    EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED, EventType.EXECUTION_REWOUND,
    EventType.GENERIC_EVENT,  # the wake-up a rewind sends a throwing orchestrator (devhost.core.rewind)
})
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
_ORCHESTRATION_STATUS_NAMES = (
    "Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated", "Pending", "Suspended",
)


class RecordingError(ValueError):
    """A recording that cannot be replayed as given (malformed or incomplete); one-line message."""


# --- recordings --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Folded:
    """A TaskScheduled / SubOrchestrationInstanceCreated that a status document folded into its completion."""

    kind: EventType
    name: str
    input: Optional[str]
    time: datetime


@dataclass(frozen=True)
class StatusItem:
    """One ``historyEvents`` entry turned back into the raw shape (integer EventType, ids still unknown)."""

    event: HistoryEvent
    folded: Optional[Folded] = None


@dataclass(frozen=True)
class Recording:
    """One recorded execution of an orchestration, ready to replay.

    ``input`` is the instance's stored input text (``Instance.input``: what the SDK context's ``input`` is
    decoded from). Exactly one of ``history`` (raw SDK-shape events) and ``timeline`` (a status document's
    events, in document order) is used: ``timeline`` when it is not None.
    """

    instance_id: str
    name: str
    input: Optional[str]
    history: Tuple[HistoryEvent, ...] = ()
    timeline: Optional[Tuple[StatusItem, ...]] = None
    source: str = ""
    skip_reason: Optional[str] = None
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
    event_id: Optional[int] = None
    name: Optional[str] = None
    fire_at: Optional[datetime] = None
    status: Optional[str] = None
    failure: Optional[str] = None

    @classmethod
    def of(cls, event: HistoryEvent) -> "Decision":
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
                status = "Failed"
            if status == "ContinuedAsNew":
                return cls("ContinueAsNew")
            return cls("ExecutionCompleted", status=status, failure=_failure_text(event) if status == "Failed" else None)
        return cls(type_name(kind), event_id)

    def matches(self, other: "Decision", tolerance: timedelta = timedelta(0)) -> bool:
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
            if self.status == "Failed" and self.failure:
                return f"the orchestration failing ({_shorten(self.failure)})"
            return f"the orchestration ending {self.status} (ExecutionCompleted)"
        return f"{self.kind}{number}"


def describe(decision: Optional[Decision]) -> str:
    return "nothing" if decision is None else decision.describe()


def commit_decisions(commit: TurnCommit) -> List[HistoryEvent]:
    """The decision events of one commit (a continue-as-new commit replaces the history: one marker)."""
    if commit.replace_history and commit.instance.runtime_status is RuntimeStatus.CONTINUED_AS_NEW:
        return [{"EventType": int(EventType.CONTINUE_AS_NEW), "EventId": -1}]
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
    expected: Optional[Decision]
    actual: Optional[Decision]
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
    mismatch: Optional[Mismatch] = None
    skipped: Optional[str] = None
    error: Optional[str] = None

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


# --- the checker -------------------------------------------------------------------------------------------
def check(
    recording: Recording, target: ReplayTarget, *, time_tolerance: timedelta = STATUS_TIME_TOLERANCE
) -> ReplayResult:
    """Replay one recording against ``target``; never raises for a bad recording (it becomes ``error``).

    ``time_tolerance`` only applies to status documents; raw histories compare times exactly.
    """
    if recording.skip_reason is not None:
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0, skipped=recording.skip_reason)
    try:
        if recording.timeline is not None:
            from devhost.replay.status import check_status  # the status-document replay builds on this module

            return check_status(recording, target, time_tolerance)
        return _check_raw(recording, target)
    except RecordingError as exc:
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0, error=str(exc))
    except Exception as exc:  # an event the core cannot digest (a missing key, an odd value): report, go on
        text = str(exc).splitlines()[0] if str(exc) else ""
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0,
                            error=f"cannot replay: {type(exc).__name__}: {text}")


def check_all(recordings: Iterable[Recording], target: ReplayTarget, **options: Any) -> List[ReplayResult]:
    return [check(recording, target, **options) for recording in recordings]


class Runner:
    """Feeds episodes to :func:`decide_turn` the way the engine does, keeping history and cursor between them."""

    def __init__(self, recording: Recording, target: ReplayTarget, started: HistoryEvent) -> None:
        self.target = target
        self.ids = itertools.count(1)
        self.history: List[HistoryEvent] = []
        origin = started.get("OrchestrationInstance") or {}
        parent = started.get("ParentInstance") or {}
        parent_instance = parent.get("OrchestrationInstance") or {}
        created = parse_time(started.get("Timestamp")) or datetime(1970, 1, 1, tzinfo=timezone.utc)
        self.instance = Instance(
            instance_id=recording.instance_id,
            name=recording.name,
            execution_id=str(origin.get("ExecutionId") or "replay"),
            runtime_status=RuntimeStatus.PENDING,
            created_time=created,
            last_updated_time=created,
            input=recording.input,
            version=started.get("Version") or "",
            parent_instance_id=parent_instance.get("InstanceId"),
            parent_execution_id=parent_instance.get("ExecutionId"),
            parent_task_id=parent.get("TaskScheduleId"),
        )

    def turn(self, delivered: Sequence[HistoryEvent], now: datetime) -> Tuple[TurnCommit, List[HistoryEvent]]:
        """One episode; returns the commit and the delivered events it did not consume."""
        placeholder = not delivered
        if placeholder:
            # An episode whose only message was not deliverable (a TimerFired of a timer no longer open):
            # a TimerFired for no open timer reproduces it.
            delivered = [events.timer_fired(now, -1, now)]
        messages = [
            Message(self.instance.instance_id, _inbound(event), now, self.instance.execution_id, id=next(self.ids))
            for event in delivered
        ]
        registry = self.target.registry
        function = registry.orchestrators.get(self.instance.name)
        env = TurnEnv(
            now=now,
            orchestrator=function.handle if function is not None else None,
            known_orchestrators=registry.orchestrators.keys(),
            new_id=lambda: f"replay-{next(self.ids)}",
            settings=self.target.settings,
            default_version=self.target.default_version,
        )
        commit = decide_turn(Turn.of_events(replace(self.instance), self.history, messages), env)
        consumed = set(commit.consumed_message_ids)
        left = [] if placeholder else [m.event for m in messages if m.id not in consumed]
        return commit, left

    def advance(self, recorded: Sequence[HistoryEvent], commit: TurnCommit) -> None:
        """The history grows by the *recorded* episode; the bookkeeping comes from the commit."""
        self.history.extend(mark_played(list(recorded)))
        self.instance = commit.instance


def _inbound(event: HistoryEvent) -> HistoryEvent:
    copy = dict(event)
    copy["IsPlayed"] = False
    return copy


def input_from_started(started: HistoryEvent) -> Optional[str]:
    """Best guess of the stored input from ExecutionStarted.Input alone.

    The host stores a top-level start's input text as is (ExecutionStarted.Input == Instance.input) but a
    sub-orchestration's or continue-as-new's as ``json.dumps(text)`` (devhost.core.turn). A parent marks a
    sub-orchestration; otherwise a JSON string holding JSON is an SDK client's double-encoded start, and a
    JSON string holding plain text can only be a continue-as-new string. Other values decode the same
    either way. (A continue-as-new string that is itself valid JSON, e.g. "123", is guessed wrong: save the
    input with the history to avoid guessing.)
    """
    text = started.get("Input")
    if text is None:
        return None
    text = str(text)
    if started.get("ParentInstance"):
        return json.dumps(text)
    try:
        value = json.loads(text)
    except ValueError:
        return json.dumps(text)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return json.dumps(text)
    return text


def started_event(history: Iterable[HistoryEvent]) -> HistoryEvent:
    for event in history:
        if event_type(event) is EventType.EXECUTION_STARTED:
            return event
    raise RecordingError("the history has no ExecutionStarted event")


# --- raw histories -----------------------------------------------------------------------------------------
@dataclass
class Episode:
    """One recorded episode of a raw history: OrchestratorStarted up to OrchestratorCompleted."""

    now: datetime
    events: List[HistoryEvent] = field(default_factory=list)

    @property
    def delivered(self) -> List[HistoryEvent]:
        return [e for e in self.events if event_type(e) in INBOUND]

    @property
    def decisions(self) -> List[HistoryEvent]:
        return [e for e in self.events if is_decision(e)]


def split_episodes(history: Sequence[HistoryEvent]) -> List[Episode]:
    """Cut a raw history at each OrchestratorStarted (events before the first one form their own episode)."""
    episodes: List[Episode] = []
    for event in history:
        kind = event_type(event)
        if kind is EventType.ORCHESTRATOR_STARTED or not episodes:
            now = parse_time(event.get("Timestamp"))
            if now is None:
                raise RecordingError(f"event {type_name(kind)} has no valid Timestamp")
            episodes.append(Episode(now))
        episodes[-1].events.append(event)
    return episodes


def _check_raw(recording: Recording, target: ReplayTarget) -> ReplayResult:
    episodes = split_episodes(recording.history)
    runner = Runner(recording, target, started_event(recording.history))
    if any(event_type(e) is EventType.GENERIC_EVENT for e in recording.history) and \
            any(event_type(e) is EventType.EXECUTION_REWOUND for e in recording.history):
        # A rewind after the orchestrator threw drops the failed episode's outcome and lets a later wake-up
        # make its decisions: the history no longer says which episode decided what.
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0,
                            skipped="the history was rewritten by a rewind of a throwing orchestrator")
    for number, episode in enumerate(episodes, 1):
        if [event_type(e) for e in episode.delivered] == [EventType.EXECUTION_REWOUND]:
            # The rewind rewrote the history before this marker; replaying it, the instance never failed.
            runner.history.extend(mark_played(episode.events))
            continue
        commit, left = runner.turn(episode.delivered, episode.now)
        expected = [Decision.of(e) for e in episode.decisions]
        actual = [Decision.of(e) for e in commit_decisions(commit)]
        mismatch = first_difference(number, expected, actual)
        if mismatch is None and left:
            mismatch = unconsumed(number, left)
        if mismatch is not None:
            return failed_result(recording, number, mismatch)
        runner.advance(episode.events, commit)
    return ReplayResult(recording.instance_id, recording.name, recording.source, len(episodes))


def unconsumed(episode: int, left: Sequence[HistoryEvent]) -> Mismatch:
    """The recording delivered ``left`` in this episode, but the engine would hold it back (retry events
    are delivered alone, devhost.core.turn ``_batch``)."""
    return Mismatch(episode, 0, None, None, note=(
        f"the recording delivers {type_name(event_type(left[0]))} in this episode, but the current code would "
        "take it in a later one (was a retry policy added or removed?)"))


def first_difference(
    episode: int, expected: Sequence[Decision], actual: Sequence[Decision], tolerance: timedelta = timedelta(0)
) -> Optional[Mismatch]:
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        if want is None or got is None or not want.matches(got, tolerance):
            return Mismatch(episode, index, want, got)
    return None


def failed_result(recording: Recording, episodes: int, mismatch: Mismatch) -> ReplayResult:
    return ReplayResult(recording.instance_id, recording.name, recording.source, episodes, mismatch=mismatch)


# --- small helpers -----------------------------------------------------------------------------------------
def parse_time(value: Any) -> Optional[datetime]:
    """A history timestamp (.NET or ISO 8601, 'Z' or offset) as an aware UTC datetime; None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def format_time(when: Optional[datetime]) -> str:
    if when is None:
        return "?"
    text = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def event_type(event: HistoryEvent) -> EventType:
    raw = event.get("EventType")
    try:
        if isinstance(raw, str) and not raw.lstrip("-").isdigit():
            return EventType[_snake(raw)]
        return EventType(int(raw))  # type: ignore[arg-type]
    except (KeyError, ValueError, TypeError):
        raise RecordingError(f"unknown EventType {raw!r}") from None


def _snake(name: str) -> str:
    return "".join(f"_{ch}" if ch.isupper() and i else ch for i, ch in enumerate(name)).upper()


def type_name(kind: EventType) -> str:
    return "".join(part.capitalize() for part in kind.name.split("_"))


def _status_name(raw: Any) -> Optional[str]:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(_ORCHESTRATION_STATUS_NAMES):
        return _ORCHESTRATION_STATUS_NAMES[raw]
    return None if raw is None else str(raw)


def _failure_text(event: HistoryEvent) -> Optional[str]:
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


def _is_non_deterministic(text: Optional[str]) -> bool:
    return bool(text) and NON_DETERMINISM_MARK in str(text)


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "Decision", "Episode", "Folded", "Mismatch", "Recording", "RecordingError", "ReplayResult", "ReplayTarget",
    "StatusItem", "check", "check_all", "commit_decisions", "first_difference", "split_episodes",
    "STATUS_TIME_TOLERANCE",
]
