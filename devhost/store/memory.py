"""The in-memory Store: the same contract as the SQLite store, kept in dicts, gone when the process ends.

``devhost serve --in-memory`` and tests that want a real store without a file use it. It follows the
:class:`devhost.store.base.Store` protocol exactly (``tests/store_contract.py`` runs against both stores):
one lock makes every call atomic with respect to the others, and a write that can fail checks and encodes
everything first, then changes state, so a failing call changes nothing.

Callers cannot alias stored state: records are copied on the way in and on the way out, and events are
kept as their :func:`~devhost.core.model.event_json` text (each read parses a fresh copy), so mutating a
returned Instance, Message or history event changes nothing stored. Ids are never reused, like the SQLite
store's AUTOINCREMENT keys.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.core.delivery import is_deliverable, is_stale
from devhost.core.errors import Conflict, InstanceExists, NotFound
from devhost.core.model import (
    ActivityWorkItem,
    HistoryEvent,
    Instance,
    InstanceQuery,
    Message,
    Notification,
    RuntimeStatus,
    Turn,
    TurnCommit,
    event_json,
)
from devhost.store.codec import decode_token, encode_token, from_text, page_size, to_text, to_utc
from devhost.store.grouping import consumed_ids, unqueued, unrecorded
from devhost.store.memory_entities import MemoryEntityStore
from devhost.store.memory_outbox import MemoryOutbox


@dataclass(frozen=True)
class _Queued:
    """A queued message as stored: its event as JSON text, its time as sortable text."""

    id: int
    instance_id: str
    execution_id: str | None
    event_text: str
    event_type: int
    visible_at: str

    def to_message(self) -> Message:
        return Message(self.instance_id, json.loads(self.event_text), from_text(self.visible_at), self.execution_id, self.id)


@dataclass(frozen=True)
class _Row:
    """An instance as stored: an immutable copy, plus its created time as sortable text."""

    instance: Instance
    created: str

    def copy(self) -> Instance:
        return copy.copy(self.instance)


class MemoryStore(MemoryEntityStore, MemoryOutbox):
    """The :class:`devhost.store.base.Store` in process memory; the entity methods are in
    :mod:`devhost.store.memory_entities`, the notification outbox's in :mod:`devhost.store.memory_outbox`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._ids = itertools.count(1)  # one sequence for messages and work items: never reused
        self._lifecycle = 0
        self._instances: dict[str, _Row] = {}
        self._history: dict[str, list[str]] = {}
        self._messages: dict[str, dict[int, _Queued]] = {}  # by instance, in id order
        self._activities: dict[int, ActivityWorkItem] = {}  # in id (creation) order
        self._notifications: dict[int, Notification] = {}  # the outbox, in id order
        self._init_entities()

    # --- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Drop everything. Closing twice is harmless; any other call after close raises."""
        with self._lock:
            self._closed = True
            self._instances, self._history, self._messages, self._activities = {}, {}, {}, {}
            self._notifications = {}
            self._init_entities()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            yield

    # --- instances -------------------------------------------------------------------------------
    def create_instance(self, instance: Instance, start: Message) -> None:
        if start.instance_id != instance.instance_id:
            raise ValueError(f"start message is for {start.instance_id!r}, not {instance.instance_id!r}")
        row = _row(instance)
        with self._guard():
            self._check_replaceable(instance.instance_id, self._status(instance.instance_id))
            queued = self._queued(start)
            self._insert_instance(row)
            self._enqueue(queued)
            self._lifecycle += 1

    @property
    def lifecycle_version(self) -> int:
        return self._lifecycle

    def get_instance(self, instance_id: str) -> Instance | None:
        with self._guard():
            row = self._instances.get(instance_id)
            return None if row is None else row.copy()

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        with self._guard():
            return [json.loads(text) for text in self._history.get(instance_id, ())]

    def query_instances(self, query: InstanceQuery) -> tuple[list[Instance], str | None]:
        top = page_size(query.top)
        after = None if query.continuation_token is None else decode_token(query.continuation_token)
        with self._guard():
            rows = self._matching(query, query.statuses)
            if after is not None:
                rows = [row for row in rows if (row.created, row.instance.instance_id) > after]
            page = rows[:top]
            token = encode_token(page[-1].created, page[-1].instance.instance_id) if len(rows) > top else None
            return [row.copy() for row in page], token

    def purge_instance(self, instance_id: str) -> int:
        with self._guard():
            self._lifecycle += 1
            return self._drop(instance_id)

    def purge_instances(self, query: InstanceQuery) -> int:
        with self._guard():
            self._lifecycle += 1
            return sum(self._drop(row.instance.instance_id) for row in self._matching(query, query.statuses))

    # --- messages --------------------------------------------------------------------------------
    def send_message(self, message: Message) -> int:
        with self._guard():
            if message.instance_id not in self._instances:
                raise NotFound(f"instance {message.instance_id!r} not found")
            return self._enqueue(self._queued(message))

    def ready_instances(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        if limit <= 0:
            return []
        cutoff = to_text(now)
        excluded = set(exclude)
        with self._guard():
            firsts: list[tuple[str, int, str]] = []
            for instance_id, queue in self._messages.items():
                if instance_id in excluded:
                    continue
                visible = [(q.visible_at, q.id) for q in self._deliverable(instance_id, queue) if q.visible_at <= cutoff]
                if visible:
                    firsts.append((*min(visible), instance_id))
        return [instance_id for _, _, instance_id in sorted(firsts)[:limit]]

    def next_visible_at(self) -> datetime | None:
        with self._guard():
            times = [q.visible_at for iid, queue in self._messages.items() for q in self._deliverable(iid, queue)]
            times.extend(q.visible_at for queue in self._entity_queues.values() for q in queue.values())
        return from_text(min(times)) if times else None

    def load_turn(self, instance_id: str, now: datetime) -> Turn | None:
        cutoff = to_text(now)
        with self._guard():
            row = self._instances.get(instance_id)
            if row is None:
                return None
            instance = row.instance
            queue = self._messages.get(instance_id, {})
            visible = sorted((q for q in queue.values() if q.visible_at <= cutoff), key=lambda q: (q.visible_at, q.id))
            for q in visible:
                if is_stale(instance.execution_id, q.execution_id):
                    del queue[q.id]  # for an execution that is gone: never deliverable
            messages = [
                q.to_message()
                for q in visible
                if is_deliverable(instance.runtime_status, instance.execution_id, q.execution_id, q.event_type)
            ]
            return Turn(row.copy(), list(self._history.get(instance_id, ())), messages)

    def commit_turn(self, commit: TurnCommit) -> None:
        """Apply one turn (see the Store protocol): everything is checked and encoded before anything
        changes, then applied in the SQLite store's order, so both stores end in the same state."""
        self._commit_turn(commit, commit.consumed_message_ids)

    def _commit_turn(self, commit: TurnCommit, consumed: Sequence[int]) -> None:
        instance_id = commit.instance.instance_id
        with self._guard():
            old = self._instances.get(instance_id)
            if old is None:
                return  # purged while the turn ran: the purge wins
            row = _row(commit.instance)
            history = [event_json(e) for e in commit.new_history]
            children = [_row(child) for child in commit.new_instances]
            statuses = {instance_id: row.instance.runtime_status}
            for child in children:
                child_id = child.instance.instance_id
                self._check_replaceable(child_id, statuses.get(child_id, self._status(child_id)))
                statuses[child_id] = child.instance.runtime_status
            messages = [self._queued(m) for m in commit.new_messages]
            activities = [copy.copy(a) for a in commit.new_activities]
            # Times normalised to UTC as the SQLite store returns them (a naive one fails here, before any change).
            notifications = [Notification(n.instance_id, n.body, to_utc(n.due_at), n.attempts) for n in commit.notifications]
            entity_messages = [copy.deepcopy(m) for m in commit.new_entity_messages]

            old_execution_id = old.instance.execution_id
            self._instances[instance_id] = row
            queue = self._messages.setdefault(instance_id, {})
            for message_id in consumed:
                queue.pop(message_id, None)
            if commit.replace_history:
                self._history[instance_id] = []
                self._remove_messages(instance_id, lambda q: q.execution_id == old_execution_id)
                self._remove_activities(lambda a: a.instance_id == instance_id and a.execution_id == old_execution_id)
            self._history.setdefault(instance_id, []).extend(history)
            for child in children:
                self._insert_instance(child)
            for message in messages:
                addressee = self._instances.get(message.instance_id)
                # A purged addressee (a parent) or one that moved on to another execution: dropped.
                if addressee is not None and not is_stale(addressee.instance.execution_id, message.execution_id):
                    self._enqueue(message)
            for request in entity_messages:
                self._queue_request(request)
            for item in activities:
                item.id = next(self._ids)
                self._activities[item.id] = item
            if commit.clear_pending:
                self._messages[instance_id] = {}
                self._remove_activities(lambda a: a.instance_id == instance_id)
            for n in notifications:
                n.id = next(self._ids)
                self._notifications[n.id] = n

    def commit_group(
        self, turns: Sequence[TurnCommit], activity_results: Sequence[tuple[int, Message]] = ()
    ) -> list[Conflict | None]:
        """Group commit (see the Store protocol): under the one lock, so no reader sees part of the group.
        Each part checks before it changes anything, so a rejected turn writes nothing; every event of the
        group is encoded first, so one that cannot be stored fails the group before any of it is applied.
        Results the turns consumed before they were stored follow :mod:`devhost.store.grouping`."""
        with self._guard():
            encoded = [(work_item_id, self._queued(result)) for work_item_id, result in activity_results]
            for commit in turns:
                _row(commit.instance)
                for item in commit.new_history:
                    event_json(item)
                for queued in commit.new_messages:
                    self._queued(queued)
            recorded = [(w, result) for w, result in encoded if self._activities.pop(w, None) is not None]
            recorded_ids = {work_item_id for work_item_id, _ in recorded}
            consumed_at_once = unqueued(turns, recorded_ids)
            queued_as: dict[int, int] = {}  # work item id -> id of its result's message
            for work_item_id, result_queued in recorded:
                if work_item_id not in consumed_at_once:
                    queued_as[work_item_id] = self._enqueue(result_queued)
            outcomes: list[Conflict | None] = []
            for commit in turns:
                rejected = unrecorded(commit, recorded_ids)
                if rejected is not None:
                    outcomes.append(rejected)
                    continue
                try:
                    self._commit_turn(commit, consumed_ids(commit, queued_as))
                    outcomes.append(None)
                except InstanceExists as exc:
                    outcomes.append(exc)
            return outcomes

    # --- activity work items ---------------------------------------------------------------------
    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> list[ActivityWorkItem]:
        if limit <= 0:
            return []
        excluded = set(exclude)
        with self._guard():
            items = [copy.copy(a) for work_item_id, a in self._activities.items() if work_item_id not in excluded][:limit]
            for item in items:  # the instance's trace context, as the SQLite store joins it in
                owner = self._instances[item.instance_id].instance
                item.trace_parent, item.trace_state = owner.trace_parent, owner.trace_state
        return items

    def complete_activity(self, work_item_id: int, result: Message) -> bool:
        with self._guard():
            if work_item_id not in self._activities:
                return False
            queued = self._queued(result)
            del self._activities[work_item_id]
            self._enqueue(queued)
            return True

    # --- helpers (called with the lock held) -------------------------------------------------------
    def _status(self, instance_id: str) -> RuntimeStatus | None:
        row = self._instances.get(instance_id)
        return None if row is None else row.instance.runtime_status

    @staticmethod
    def _check_replaceable(instance_id: str, status: RuntimeStatus | None) -> None:
        """An id may be (re)created when unknown or terminal; over a live instance it may not."""
        if status is not None and not status.is_terminal:
            raise InstanceExists(f"instance {instance_id!r} already exists and is {status.value}")

    def _insert_instance(self, row: _Row) -> None:
        """Insert ``row``, replacing a (terminal) instance of that id with everything it owned."""
        instance_id = row.instance.instance_id
        self._drop(instance_id)
        self._instances[instance_id] = row
        self._history[instance_id] = []
        self._messages[instance_id] = {}

    def _drop(self, instance_id: str) -> int:
        """Delete the instance with its history, messages and work items; 1 if it existed, else 0."""
        if self._instances.pop(instance_id, None) is None:
            return 0
        self._history.pop(instance_id, None)
        self._messages.pop(instance_id, None)
        self._remove_activities(lambda a: a.instance_id == instance_id)
        return 1

    @staticmethod
    def _queued(message: Message) -> _Queued:
        """Encode ``message`` for the queue (raises before anything changes if it cannot be stored)."""
        event_type = int(message.event["EventType"])
        text = event_json(message.event)
        return _Queued(0, message.instance_id, message.execution_id, text, event_type, to_text(message.visible_at))

    def _enqueue(self, queued: _Queued) -> int:
        """Queue ``queued`` under a new id; returns the id."""
        message_id = next(self._ids)
        stored = _Queued(message_id, queued.instance_id, queued.execution_id, queued.event_text, queued.event_type,
                         queued.visible_at)  # fmt: skip
        self._messages.setdefault(stored.instance_id, {})[message_id] = stored
        return message_id

    def _remove_messages(self, instance_id: str, doomed: Any) -> None:
        queue = self._messages.get(instance_id, {})
        for message_id in [q.id for q in queue.values() if doomed(q)]:
            del queue[message_id]

    def _remove_activities(self, doomed: Any) -> None:
        for work_item_id in [a.id for a in self._activities.values() if doomed(a)]:
            del self._activities[work_item_id]  # type: ignore[arg-type]

    def _deliverable(self, instance_id: str, queue: dict[int, _Queued]) -> Iterator[_Queued]:
        instance = self._instances[instance_id].instance
        for q in queue.values():
            if is_deliverable(instance.runtime_status, instance.execution_id, q.execution_id, q.event_type):
                yield q

    def _matching(self, query: InstanceQuery, statuses: Collection[RuntimeStatus] | None) -> list[_Row]:
        """Rows passing the created-time, status and prefix filters, in (created_time, instance_id) order."""
        low = None if query.created_from is None else to_text(query.created_from)
        high = None if query.created_to is None else to_text(query.created_to)
        wanted = {RuntimeStatus(s) for s in statuses} if statuses else None
        prefix = query.instance_id_prefix or ""
        rows = [
            row
            for row in self._instances.values()
            if (low is None or row.created >= low)
            and (high is None or row.created <= high)
            and (wanted is None or row.instance.runtime_status in wanted)
            and row.instance.instance_id.startswith(prefix)
        ]
        return sorted(rows, key=lambda row: (row.created, row.instance.instance_id))


def _row(instance: Instance) -> _Row:
    """A stored copy of ``instance``: times as the same instants in UTC, the status as the enum."""
    stored = copy.copy(instance)
    created = to_text(instance.created_time)
    stored.created_time = from_text(created)
    stored.last_updated_time = from_text(to_text(instance.last_updated_time))
    stored.runtime_status = RuntimeStatus(instance.runtime_status)
    return _Row(stored, created)
