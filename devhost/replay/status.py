"""Replaying a status document (``GET .../instances/{id}?showHistory=true&showHistoryOutput=true``, API notes B.3).

The extension shapes the history before it returns it: EventType names instead of numbers, no EventId or
IsPlayed, no Orchestrator{Started,Completed}, each TaskScheduled / SubOrchestrationInstanceCreated folded
into its completion (FunctionName, ScheduledTime, Input), TimerFired without TimerId, results decoded.
:func:`status_recording` undoes what can be undone event by event; :func:`check_status` rebuilds the rest
while replaying, with the current code's decisions as the guide (see its docstring).

Limits (inherent to the shape):

- EventIds are not compared: the document has none, the current code's are adopted.
- Which episode made a folded schedule is only known from its ScheduledTime, matched within a tolerance
  (default 1 s): decisions closer together than that cannot be told apart, so a fan-out and a chain of the
  same activities look alike when the activities took less than the tolerance (always, on a virtual clock,
  where every time is equal).
- Several schedules of the same activity in one episode are paired with completions by input, then by
  completion order; with equal inputs, results may be paired with the wrong call.
- Completions delivered in one batch are regrouped heuristically (see :func:`check_status`); a task_any whose
  winners arrived together may then look different from the recorded run.
- Retries replay as long as their hidden TimerCreated/TimerFired events are in the document (the extension
  keeps them); timer FireAt and episode times are matched within the tolerance, as the document has no
  OrchestratorStarted times.
- The parent of a sub-orchestration and the ExecutionId are unknown (not used by the SDK's decisions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from devhost.core import events
from devhost.core.model import EventType, HistoryEvent
from devhost.replay.model import (
    COMPLETIONS,
    INBOUND,
    Decision,
    Folded,
    Mismatch,
    Recording,
    RecordingError,
    ReplayResult,
    ReplayTarget,
    StatusItem,
    commit_decisions,
    event_type,
    parse_time,
    type_name,
)
from devhost.replay.runner import Runner, failed_result, input_from_started, started_event, unconsumed

_RESULT_EVENTS = (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, EventType.EXECUTION_COMPLETED)
_FOLD_KEYS = ("FunctionName", "ScheduledTime", "Input")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_GROUPING = frozenset(
    {
        EventType.EXECUTION_STARTED,
        EventType.TASK_COMPLETED,
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        EventType.EVENT_RAISED,
    }
)


# --- reading the document ------------------------------------------------------------------------------------
def status_recording(doc: dict[str, Any], source: str, default_id: str) -> Recording:
    shaped = doc.get("historyEvents")
    if not isinstance(shaped, list):
        raise RecordingError("historyEvents must be a list")
    items = [item for item in (_unshape(e, doc.get("instanceId") or default_id) for e in shaped) if item is not None]
    started = next((i.event for i in items if i.event["EventType"] == EventType.EXECUTION_STARTED), None)
    name = doc.get("name") or (started or {}).get("Name")
    instance_id = str(doc.get("instanceId") or default_id)
    if started is None:
        return Recording(instance_id, str(name or "?"), None, source=source, skip_reason="no history yet")
    if not name:
        raise RecordingError("no orchestrator name (neither 'name' nor ExecutionStarted.FunctionName)")
    if "input" in doc:
        input_text = None if doc["input"] is None else json.dumps(doc["input"])
    else:
        input_text = input_from_started(started)
    return Recording(instance_id, str(name), input_text, timeline=tuple(items), source=source)


def _unshape(shaped: Any, instance_id: str) -> StatusItem | None:
    if not isinstance(shaped, dict) or "EventType" not in shaped:
        raise RecordingError("every historyEvents entry needs an EventType")
    kind = event_type(shaped)
    if kind in (
        EventType.ORCHESTRATOR_STARTED,
        EventType.ORCHESTRATOR_COMPLETED,
        EventType.GENERIC_EVENT,
        EventType.HISTORY_STATE,
    ):
        return None
    event: dict[str, Any] = {k: v for k, v in shaped.items() if k not in ("EventType", "EventId", "IsPlayed")}
    # Inbound events carry -1 like every non-scheduling event; a decision's id is unknown until replayed.
    event = {"EventType": int(kind), "EventId": -1 if kind in INBOUND else None, "IsPlayed": True, **event}
    if parse_time(event.get("Timestamp")) is None:
        raise RecordingError(f"{type_name(kind)} has no valid Timestamp")
    if kind is EventType.EXECUTION_STARTED:
        event["Name"] = event.pop("FunctionName", None)
        event.setdefault("Input", None)
        event.update(
            OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": None}, ParentInstance=None, Version="", Tags=None
        )
        return StatusItem(event)
    if kind in _RESULT_EVENTS and "Result" not in event:
        raise RecordingError(f"{type_name(kind)} has no Result (fetch the status with showHistoryOutput=true)")
    if kind in _RESULT_EVENTS:
        # The extension decoded results once (ParseToJToken); the SDK reads JSON text.
        event["Result"] = None if event["Result"] is None else json.dumps(event["Result"])
    if kind in COMPLETIONS:
        if not event.get("FunctionName"):
            raise RecordingError(
                f"{type_name(kind)} at {event.get('Timestamp')} has no FunctionName (its TaskScheduled is not in the document)"
            )
        scheduled = parse_time(event.get("ScheduledTime"))
        if scheduled is None:
            raise RecordingError(f"{type_name(kind)} at {event.get('Timestamp')} has no valid ScheduledTime")
        folded = Folded(COMPLETIONS[kind], str(event["FunctionName"]), event.get("Input"), scheduled)
        for key in _FOLD_KEYS:
            event.pop(key, None)
        event["TaskScheduledId"] = None
        return StatusItem(event, folded)
    if kind is EventType.TIMER_FIRED:
        event["TimerId"] = None
    return StatusItem(event)


# --- replaying -----------------------------------------------------------------------------------------------
@dataclass
class _Claim:
    """A folded schedule waiting for the current code to make it (its EventId is the code's)."""

    folded: Folded
    completion: int
    """Index in the timeline of the completion that carried it."""
    event_id: int | None = None


def check_status(recording: Recording, target: ReplayTarget, tolerance: timedelta) -> ReplayResult:
    """Replay a status document, rebuilding what the extension's shaping dropped.

    The timeline keeps inbound events and unfolded decisions (TimerCreated, ExecutionCompleted, pending
    schedules) in history order; only the folded schedules lost their place. An episode starts at an inbound
    event and takes the decisions that follow it in the document ("in place", matched in order), plus folded
    schedules the current code asks for at that time (claimed: same kind and name, ScheduledTime within the
    tolerance of the episode's time). A folded schedule whose completion comes next must have been claimed
    by the end of the episode. Following completions and raised events join the episode when nothing
    separates them and what they complete was already scheduled (one delivered batch, as the engine would).
    """
    items = list(recording.timeline or ())
    runner = Runner(recording, target, started_event(item.event for item in items))
    claims = {index: _Claim(item.folded, index) for index, item in enumerate(items) if item.folded is not None}
    timers: list[tuple[datetime, int]] = []  # (FireAt, TimerId) of timers created and not fired yet
    position = 0
    number = 0
    while position < len(items):
        if not _is_inbound(items[position]):
            kind = type_name(event_type(items[position].event))
            raise RecordingError(f"{kind} is not preceded by any event that could cause it")
        number += 1
        batch = [position]
        position += 1
        while position < len(items) and _joins_batch(items, batch[0], position, claims):
            batch.append(position)
            position += 1
        in_place: list[HistoryEvent] = []
        while position < len(items) and not _is_inbound(items[position]):
            in_place.append(items[position].event)
            position += 1
        now = _episode_time(items, batch, in_place, position, claims, tolerance)
        delivered = [_resolve_inbound(items[i], claims.get(i), timers, tolerance) for i in batch]
        commit, left = runner.turn(delivered, now)
        actual = commit_decisions(commit)
        recorded, mismatch = _match_episode(number, actual, in_place, claims, position, now, tolerance)
        if mismatch is None and left:
            mismatch = unconsumed(number, left)
        if mismatch is not None:
            return failed_result(recording, number, mismatch)
        for event in recorded:
            if event_type(event) is EventType.TIMER_CREATED:
                timers.append((parse_time(event.get("FireAt")) or now, int(event["EventId"])))
        episode = [events.orchestrator_started(now), *delivered, *recorded, events.orchestrator_completed(now)]
        runner.advance(episode, commit)
    return ReplayResult(recording.instance_id, recording.name, recording.source, number)


def _is_inbound(item: StatusItem) -> bool:
    return event_type(item.event) in INBOUND


def _joins_batch(items: list[StatusItem], first: int, index: int, claims: dict[int, _Claim]) -> bool:
    """Whether ``items[index]`` was delivered together with the batch starting at ``items[first]``."""
    # Failures and timer firings may belong to a retry, which the engine delivers alone (core.turn
    # ``_batch``), and control events run alone: only a start, completions and raised events group.
    if event_type(items[first].event) not in _GROUPING or event_type(items[index].event) not in _GROUPING:
        return False
    kind = event_type(items[index].event)
    if kind is EventType.EVENT_RAISED:
        return True
    if kind is EventType.EXECUTION_STARTED:
        return False
    claim = claims.get(index)  # a completion joins only if what it completes was already scheduled
    return claim is not None and claim.event_id is not None


def _episode_time(
    items: list[StatusItem],
    batch: list[int],
    in_place: list[HistoryEvent],
    next_position: int,
    claims: dict[int, _Claim],
    tolerance: timedelta,
) -> datetime:
    """The episode's OrchestratorStarted time: the first in-place decision's, else the earliest unclaimed
    schedule made after the batch arrived (and before the next inbound event), else the batch's latest event."""
    if in_place:
        stamp = parse_time(in_place[0].get("Timestamp"))
        if stamp is not None:
            return stamp
    arrived = max(parse_time(items[i].event.get("Timestamp")) or _EPOCH for i in batch)
    following = parse_time(items[next_position].event.get("Timestamp")) if next_position < len(items) else None
    candidates = [c.folded.time for c in claims.values() if c.event_id is None and c.folded.time >= arrived - tolerance]
    if candidates:
        earliest = min(candidates)
        if following is None or earliest <= following + tolerance:
            return earliest
    return arrived


def _resolve_inbound(
    item: StatusItem, claim: _Claim | None, timers: list[tuple[datetime, int]], tolerance: timedelta
) -> HistoryEvent:
    """The inbound event with the ids the document dropped: TaskScheduledId from its claimed schedule,
    TimerId from the open timer with that FireAt."""
    event = dict(item.event)
    kind = event_type(event)
    if kind in COMPLETIONS:
        if claim is None or claim.event_id is None:
            # Only reachable when a claim check was skipped; keep the replay going with an impossible id.
            event["TaskScheduledId"] = -1
        else:
            event["TaskScheduledId"] = claim.event_id
    elif kind is EventType.TIMER_FIRED:
        fire_at = parse_time(event.get("FireAt"))
        match = next((t for t in timers if fire_at is not None and abs(t[0] - fire_at) <= tolerance), None)
        if match is None:
            raise RecordingError(f"TimerFired at {event.get('FireAt')} has no TimerCreated before it")
        timers.remove(match)
        event["TimerId"] = match[1]
    return event


def _match_episode(
    number: int,
    actual_events: list[HistoryEvent],
    in_place: list[HistoryEvent],
    claims: dict[int, _Claim],
    next_position: int,
    now: datetime,
    tolerance: timedelta,
) -> tuple[list[HistoryEvent], Mismatch | None]:
    """Pair the current code's decisions with the document's; returns the recorded decisions (with the
    code's EventIds) in the code's order, or the first mismatch."""
    queue = list(in_place)
    recorded: list[HistoryEvent] = []
    for index, event in enumerate(actual_events):
        got = Decision.of(event)
        if queue and Decision.of(queue[0]).matches(got, tolerance):
            recorded.append(dict(queue.pop(0), EventId=event.get("EventId", -1)))
            continue
        schedules = got.kind in ("TaskScheduled", "SubOrchestrationInstanceCreated")
        claim = _best_claim(claims, got, event, now, tolerance) if schedules else None
        if claim is not None:
            claim.event_id = got.event_id
            recorded.append(_schedule_event(claim, got.event_id))
            continue
        return recorded, Mismatch(number, index, _expected(queue, claims, next_position), got)
    if queue:
        return recorded, Mismatch(number, len(actual_events), Decision.of(queue[0]), None)
    overdue = _overdue(claims, next_position)
    if overdue is not None:
        return recorded, Mismatch(number, len(actual_events), _folded_decision(overdue), None)
    return recorded, None


def _best_claim(
    claims: dict[int, _Claim], got: Decision, event: HistoryEvent, now: datetime, tolerance: timedelta
) -> _Claim | None:
    kind = EventType.TASK_SCHEDULED if got.kind == "TaskScheduled" else EventType.SUB_ORCHESTRATION_INSTANCE_CREATED
    fits = [
        c
        for c in claims.values()
        if c.event_id is None and c.folded.kind is kind and c.folded.name == got.name and abs(c.folded.time - now) <= tolerance
    ]
    if not fits:
        return None
    # Closest in time, then the same input, then the one completed first.
    return min(fits, key=lambda c: (abs(c.folded.time - now), c.folded.input != event.get("Input"), c.completion))


def _overdue(claims: dict[int, _Claim], next_position: int) -> _Claim | None:
    """An unclaimed schedule whose completion is delivered next (it had to be made by now)."""
    late = [c for c in claims.values() if c.event_id is None and c.completion <= next_position]
    return min(late, key=lambda c: c.completion) if late else None


def _expected(queue: list[HistoryEvent], claims: dict[int, _Claim], next_position: int) -> Decision | None:
    if queue:
        return Decision.of(queue[0])
    overdue = _overdue(claims, next_position)
    return _folded_decision(overdue) if overdue is not None else None


def _folded_decision(claim: _Claim) -> Decision:
    return Decision(type_name(claim.folded.kind), name=claim.folded.name)


def _schedule_event(claim: _Claim, event_id: int | None) -> HistoryEvent:
    folded = claim.folded
    seq = -1 if event_id is None else event_id
    if folded.kind is EventType.TASK_SCHEDULED:
        return events.task_scheduled(folded.time, seq, folded.name, folded.input)
    return events.sub_orchestration_created(folded.time, seq, folded.name, f"replay-child-{seq}", folded.input)
