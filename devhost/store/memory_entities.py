"""The in-memory store's entity tables: entity state records and the per-entity request queue.

Mixed into :class:`devhost.store.memory.MemoryStore` (same lock, same id sequence), with the behaviour of
:mod:`devhost.store.sqlite_entities`: requests are kept as JSON text and records copied, so a caller that
changes what it got back changes nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.core.delivery import is_stale
from devhost.core.entities import EntityBatch, EntityCommit, EntityMessage, EntityQuery, EntityRecord
from devhost.store.codec import decode_entity_token, encode_entity_token, from_text, page_size, to_text


@dataclass(frozen=True)
class _QueuedRequest:
    id: int
    entity_id: str
    request_text: str
    visible_at: str

    def to_message(self) -> EntityMessage:
        return EntityMessage(self.entity_id, json.loads(self.request_text), from_text(self.visible_at), self.id)


class MemoryEntityStore:
    """The entity half of the Store protocol in process memory (see devhost.store.base)."""

    _guard: Any
    _ids: Any
    _instances: dict[str, Any]

    def _init_entities(self) -> None:
        self._entities: dict[str, tuple[str | None, str]] = {}  # entity id -> (state, last modified text)
        self._entity_queues: dict[str, dict[int, _QueuedRequest]] = {}

    def _queue_request(self, message: EntityMessage) -> int:
        request_id = next(self._ids)
        queued = _QueuedRequest(request_id, message.entity_id, json.dumps(message.request), to_text(message.visible_at))
        self._entity_queues.setdefault(message.entity_id, {})[request_id] = queued
        return request_id

    def send_entity_message(self, message: EntityMessage) -> int:
        with self._guard():
            return self._queue_request(message)

    def ready_entities(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        if limit <= 0:
            return []
        cutoff = to_text(now)
        excluded = set(exclude)
        with self._guard():
            firsts = [
                (min(q.id for q in queue.values() if q.visible_at <= cutoff), entity_id)
                for entity_id, queue in self._entity_queues.items()
                if entity_id not in excluded and any(q.visible_at <= cutoff for q in queue.values())
            ]
        return [entity_id for _, entity_id in sorted(firsts)[:limit]]

    def next_entity_visible_at(self) -> datetime | None:
        with self._guard():
            times = [q.visible_at for queue in self._entity_queues.values() for q in queue.values()]
        return from_text(min(times)) if times else None

    def load_entity_batch(self, entity_id: str, now: datetime, limit: int) -> EntityBatch:
        cutoff = to_text(now)
        with self._guard():
            queue = self._entity_queues.get(entity_id, {})
            visible = sorted((q for q in queue.values() if q.visible_at <= cutoff), key=lambda q: q.id)[: max(0, limit)]
            return EntityBatch(entity_id, self._entity_record(entity_id), [q.to_message() for q in visible])

    def commit_entity_batch(self, commit: EntityCommit) -> None:
        modified = to_text(commit.now)
        with self._guard():
            responses = [self._queued(m) for m in commit.responses]  # type: ignore[attr-defined]
            queue = self._entity_queues.get(commit.entity_id, {})
            for message_id in commit.consumed_message_ids:
                queue.pop(message_id, None)
            if not queue:
                self._entity_queues.pop(commit.entity_id, None)
            if commit.exists:
                self._entities[commit.entity_id] = (commit.state, modified)
            else:
                self._entities.pop(commit.entity_id, None)
            for message in responses:
                addressee = self._instances.get(message.instance_id)
                if addressee is not None and not is_stale(addressee.instance.execution_id, message.execution_id):
                    self._enqueue(message)  # type: ignore[attr-defined]
            for signal in commit.signals:
                self._queue_request(signal)

    def get_entity(self, entity_id: str) -> EntityRecord | None:
        with self._guard():
            return self._entity_record(entity_id)

    def query_entities(self, query: EntityQuery) -> tuple[list[EntityRecord], str | None]:
        top = page_size(query.top)
        after = None if query.continuation_token is None else decode_entity_token(query.continuation_token)
        prefix = None if query.name is None else f"@{query.name.lower()}@"
        low = None if query.last_modified_from is None else to_text(query.last_modified_from)
        high = None if query.last_modified_to is None else to_text(query.last_modified_to)
        with self._guard():
            ids = sorted(
                entity_id
                for entity_id, (_, modified) in self._entities.items()
                if (prefix is None or entity_id.startswith(prefix))
                and (low is None or modified >= low)
                and (high is None or modified <= high)
                and (after is None or entity_id > after)
            )
            page = [self._entity_record(entity_id) for entity_id in ids[:top]]
        records = [record for record in page if record is not None]
        token = encode_entity_token(records[-1].entity_id) if len(ids) > top else None
        return records, token

    def purge_entity(self, entity_id: str) -> int:
        with self._guard():
            self._entity_queues.pop(entity_id, None)
            return 0 if self._entities.pop(entity_id, None) is None else 1

    def _entity_record(self, entity_id: str) -> EntityRecord | None:
        found = self._entities.get(entity_id)
        return None if found is None else EntityRecord(entity_id, found[0], from_text(found[1]))
