"""The instance page's history reads: a page of annotated events, one event in full, and the timeline.

A long history must not stall the host: 5,000 events with 2 kB activity inputs are 10 MB of JSON. So the
history is read as the stored texts (:meth:`Store.load_turn` returns them unparsed, ``Turn.history_json``)
and only *peeked* at: every text starts with the four keys :func:`devhost.core.events._event` writes
(EventType, EventId, IsPlayed, Timestamp), then the one field the pairing needs (Name, FireAt,
TaskScheduledId or TimerId: the constructors' keyword order). One anchored regex reads those; an event that
does not match is parsed in full. Only the events shown (a page, their scheduling events) are parsed.

Large values are never sent in a page: a page carries a short preview and the size; :func:`history_event`
returns one event with its values in full, when a user asks for it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, NamedTuple

from devhost.core.errors import BadRequest, NotFound
from devhost.core.model import EventType, HistoryEvent
from devhost.service.queries import PREVIEW_CHARS, decode, decode_input, iso, parse_ms
from devhost.store.base import Store

MAX_HISTORY_PAGE = 500
MAX_TIMELINE_BARS = 1_000

EVENT_NAMES = {int(e): "".join(part.capitalize() for part in e.name.split("_")) for e in EventType}
_SCHEDULING: dict[int, str] = {
    EventType.TASK_SCHEDULED: "activity",
    EventType.SUB_ORCHESTRATION_INSTANCE_CREATED: "suborchestration",
    EventType.TIMER_CREATED: "timer",
}
_COMPLETION_OF: dict[int, tuple[int, str]] = {
    EventType.TASK_COMPLETED: (EventType.TASK_SCHEDULED, "completed"),
    EventType.TASK_FAILED: (EventType.TASK_SCHEDULED, "failed"),
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: (EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, "completed"),
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: (EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, "failed"),
    EventType.TIMER_FIRED: (EventType.TIMER_CREATED, "fired"),
}
_ENDS = frozenset({EventType.EXECUTION_COMPLETED, EventType.EXECUTION_TERMINATED, EventType.CONTINUE_AS_NEW})
_NEEDS: dict[int, str] = {
    EventType.TASK_SCHEDULED: "Name",
    EventType.SUB_ORCHESTRATION_INSTANCE_CREATED: "Name",
    EventType.TIMER_CREATED: "FireAt",
    EventType.TIMER_FIRED: "TimerId",
    **{kind: "TaskScheduledId" for kind in _COMPLETION_OF if kind != EventType.TIMER_FIRED},
}
"""The field each event kind's pairing needs; it follows Timestamp in what devhost.core.events writes."""
_PEEK = re.compile(
    r'\{"EventType":(\d+),"EventId":(-?\d+),"IsPlayed":(?:true|false),"Timestamp":"([^"\\]*)"'
    r'(?:,"(Name|FireAt|TaskScheduledId|TimerId)":("[^"\\]*(?:\\.[^"\\]*)*"|-?\d+|null))?'
)


class Peek(NamedTuple):
    kind: int
    event_id: int
    timestamp: str | None
    name: str | None = None
    fire_at: str | None = None
    ref: int | None = None
    """TaskScheduledId / TimerId: the scheduling event a completion answers."""


def peek(text: str) -> Peek:
    match = _PEEK.match(text)
    if match is not None:
        kind_text, id_text, timestamp, key, raw = match.groups()
        kind = int(kind_text)
        needs = _NEEDS.get(kind)
        if needs is None:
            return Peek(kind, int(id_text), timestamp)
        if needs == key:
            value = _value(raw)
            if key == "Name":
                return Peek(kind, int(id_text), timestamp, name=value)
            if key == "FireAt":
                return Peek(kind, int(id_text), timestamp, fire_at=value)
            return Peek(kind, int(id_text), timestamp, ref=value if isinstance(value, int) else None)
    event = json.loads(text)  # not the shape devhost writes: read it all
    ref = event.get("TaskScheduledId", event.get("TimerId"))
    return Peek(
        int(event.get("EventType", -1)),
        int(event.get("EventId", -1)),
        event.get("Timestamp"),
        event.get("Name"),
        event.get("FireAt"),
        ref if isinstance(ref, int) else None,
    )


class History:
    """One instance's current history as stored texts, peeked, with scheduling and completion paired."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.peeks = [peek(text) for text in texts]
        self.done: dict[int, int] = {}
        """position of a scheduling event -> position of its completion"""
        self.started: dict[int, int] = {}
        """position of a completion -> position of its scheduling event"""
        scheduled: dict[tuple[int, int], int] = {}
        for position, p in enumerate(self.peeks):
            if p.kind in _SCHEDULING:
                scheduled[(p.kind, p.event_id)] = position
            elif p.kind in _COMPLETION_OF and p.ref is not None:
                start = scheduled.get((_COMPLETION_OF[p.kind][0], p.ref))
                if start is not None and start not in self.done:
                    self.done[start] = position
                    self.started[position] = start

    @classmethod
    def read(cls, store: Store, instance_id: str, now: datetime) -> History:
        # A read: the unparsed texts (and the deliverable messages, unused). The SQLite store may also drop
        # messages of a gone execution here, which its contract allows at any time.
        turn = store.load_turn(instance_id, now)
        if turn is None:
            raise NotFound(f"no instance with id {instance_id!r}")
        return cls(turn.history_json)

    def state(self, position: int) -> str:
        done = self.done.get(position)
        return _COMPLETION_OF[self.peeks[done].kind][1] if done is not None else "pending"


def history_page(
    store: Store, instance_id: str, now: datetime, offset: int = 0, limit: int = 100, *, last: bool = False
) -> dict[str, Any]:
    """Events ``offset`` .. ``offset+limit`` (with ``last``: the latest ``limit``) of the current execution, each
    annotated for display: the activity name on its result, the timer's due time and what is left of it, the
    sub-orchestration's id."""
    if offset < 0:
        raise BadRequest(f"offset must not be negative, got {offset}")
    history = History.read(store, instance_id, now)
    if last:
        offset = max(0, len(history.texts) - limit)
    rows = [_display(history, position, now) for position in range(offset, min(len(history.texts), offset + limit))]
    return {"instanceId": instance_id, "total": len(history.texts), "offset": offset, "events": rows, "now": iso(now)}


def history_event(store: Store, instance_id: str, position: int, now: datetime) -> dict[str, Any]:
    """One event with its JSON values decoded in full (what "show input" fetches)."""
    turn = store.load_turn(instance_id, now)
    if turn is None:
        raise NotFound(f"no instance with id {instance_id!r}")
    texts = turn.history_json
    if not 0 <= position < len(texts):
        raise NotFound(f"instance {instance_id!r} has no history event {position} (it has {len(texts)})")
    event = json.loads(texts[position])
    for key in ("Input", "Result"):
        if isinstance(event.get(key), str):
            event[key] = decode_input(event[key]) if key == "Input" else decode(event[key])
    event["EventTypeName"] = EVENT_NAMES.get(int(event.get("EventType", -1)), "Unknown")
    return dict(event)


def timeline(store: Store, instance_id: str, now: datetime) -> dict[str, Any]:
    """Activities, timers and sub-orchestrations as bars (start, end or None while pending), the newest
    :data:`MAX_TIMELINE_BARS` of them, plus the execution's start and end."""
    history = History.read(store, instance_id, now)
    bars: list[dict[str, Any]] = []
    start = end = None
    for position, p in enumerate(history.peeks):
        if p.kind == EventType.EXECUTION_STARTED:
            start = _ms(p.timestamp)
        elif p.kind in _ENDS:
            end = _ms(p.timestamp)
        elif p.kind in _SCHEDULING:
            done = history.done.get(position)
            bar: dict[str, Any] = {
                "kind": _SCHEDULING[p.kind],
                "name": p.name or "timer",
                "start": _ms(p.timestamp),
                "end": _ms(history.peeks[done].timestamp) if done is not None else None,
                "state": history.state(position),
            }
            if p.kind == EventType.TIMER_CREATED:
                bar["due"] = _ms(p.fire_at)
            bars.append(bar)
    return {
        "instanceId": instance_id,
        "start": start,
        "end": end,
        "now": iso(now),
        "waiting": _waiting(bars, now) if end is None else [],
        "total": len(bars),
        "bars": bars[-MAX_TIMELINE_BARS:],
    }


def pending_kinds(store: Store, instance_id: str, now: datetime) -> frozenset[str]:
    """The kinds of work (``timer``, ``activity``, ``suborchestration``) the current execution has scheduled
    and not yet got back: what the list's "waiting on" filter asks of each row."""
    try:
        history = History.read(store, instance_id, now)
    except NotFound:  # purged between the list query and this read
        return frozenset()
    return frozenset(
        _SCHEDULING[p.kind] for position, p in enumerate(history.peeks) if p.kind in _SCHEDULING and position not in history.done
    )


def _waiting(bars: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """What a running execution waits on: its pending activities, timers (with the time left) and
    sub-orchestrations, oldest first, at most 20. (An external event it waits for leaves no trace in the
    history until it arrives, so it cannot be listed.)"""
    waiting = []
    for bar in bars:
        if bar["state"] != "pending":
            continue
        item = {"kind": bar["kind"], "name": bar["name"], "since": bar["start"]}
        due = parse_ms(bar.get("due"))
        if due is not None:
            item["due"] = bar["due"]
            item["remainingSeconds"] = max(0.0, round((due - now).total_seconds(), 3))
        waiting.append(item)
    return waiting[:20]


def _display(history: History, position: int, now: datetime) -> dict[str, Any]:
    event: HistoryEvent = json.loads(history.texts[position])
    p = history.peeks[position]
    row: dict[str, Any] = {
        "index": position,
        "type": EVENT_NAMES.get(p.kind, f"EventType{p.kind}"),
        "timestamp": _ms(p.timestamp),
        "name": event.get("Name"),
        "taskId": p.ref,
    }
    if p.kind in _SCHEDULING:
        row["taskId"] = p.event_id
        row["state"] = history.state(position)
    start = history.started.get(position)
    if start is not None:
        row["name"] = history.peeks[start].name or row["name"]
        row["scheduledAt"] = _ms(history.peeks[start].timestamp)
    if p.kind in (EventType.TIMER_CREATED, EventType.TIMER_FIRED):
        due = parse_ms(event.get("FireAt"))
        row["fireAt"] = iso(due) if due else None
        if p.kind == EventType.TIMER_CREATED and due is not None and row.get("state") == "pending":
            row["remainingSeconds"] = max(0.0, round((due - now).total_seconds(), 3))
    if event.get("InstanceId"):
        row["subInstanceId"] = event["InstanceId"]
    for key, label in (("Input", "input"), ("Result", "result"), ("Reason", "reason"), ("Details", "details")):
        value = event.get(key)
        if isinstance(value, str):
            row[label] = {"size": len(value), "preview": value[:PREVIEW_CHARS]}
    failure = event.get("FailureDetails")
    if isinstance(failure, dict) and failure.get("ErrorMessage"):
        row["failure"] = str(failure["ErrorMessage"])[:PREVIEW_CHARS]
    return row


def _value(raw: str | None) -> Any:
    if raw is None or raw == "null":
        return None
    if raw[0] == '"':
        return raw[1:-1] if "\\" not in raw else json.loads(raw)
    return int(raw)


def _ms(text: Any) -> str | None:
    """A stored timestamp (``...:SS.fffffffZ``, :func:`devhost.core.events.format_timestamp`) at millisecond
    precision; sliced when it has that exact shape (thousands per timeline), parsed otherwise."""
    if isinstance(text, str) and len(text) == 28 and text[19] == "." and text[27] == "Z" and text[10] == "T":
        return text[:23] + "Z"
    parsed = parse_ms(text)
    return iso(parsed) if parsed is not None else None
