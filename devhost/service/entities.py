"""Entity operations behind the Durable HTTP API's ``entities/...`` routes, the SDK client and the test kit:
signal, read state, list and purge. Domain records in and out; devhost.http.entities shapes the wire.

Follows the extension's ``DurableClient.cs``: ``SignalEntityAsyncInternal`` refuses keys with ``/ \\ ? #`` or
control characters and unknown entity functions (``ThrowIfFunctionDoesNotExist``, an ArgumentException: 400
over HTTP), and queues a ``RequestMessage`` with no parent (``ParentInstanceId = null``: sent by a client).
"""

from __future__ import annotations

import uuid
from typing import Callable

from devhost.clock import Clock
from devhost.core import entities
from devhost.core.entities import EntityId, EntityMessage, EntityQuery, EntityRecord
from devhost.core.errors import BadRequest
from devhost.runtime.registry import FunctionRegistry
from devhost.store.base import Store


class EntityService:
    def __init__(self, store: Store, clock: Clock, registry: FunctionRegistry, notify: Callable[[], None]) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.notify = notify

    def signal(self, name: str, key: str, operation: str, input_text: str | None) -> EntityId:
        """Queue ``operation`` for entity ``name``/``key``. ``input_text`` is the request's input: the JSON text
        ``RequestMessage.SetInput`` makes of the caller's input object (None: no input). Returns the entity's id."""
        entity = EntityId.of(name, key)
        entities.check_signal_key(entity.key)
        if entity.name not in self.registry.entities:
            raise BadRequest(self._unknown_entity_message(name))
        request = entities.request(operation, entities.guid(uuid.uuid4().hex), signal=True, input_text=input_text)
        self.store.send_entity_message(EntityMessage(entity.scheduler_id, request, self.clock.now()))
        self.notify()
        return entity

    def read(self, name: str, key: str) -> EntityRecord | None:
        """The entity's record, or None when it does not exist (never signalled, or deleted)."""
        return self.store.get_entity(EntityId.of(name, key).scheduler_id)

    def list(self, query: EntityQuery) -> tuple[list[EntityRecord], str | None]:
        return self.store.query_entities(query)

    def purge(self, scheduler_id: str) -> int:
        """Delete an entity's state and queued requests (``DELETE instances/@name@key``: the extension keeps an
        entity as an instance with that id, so its purge-by-id removes it). Returns 1, or 0 if it did not exist."""
        return self.store.purge_entity(EntityId.parse(scheduler_id).scheduler_id)

    def _unknown_entity_message(self, name: str) -> str:
        # DurableTaskExtension.GetInvalidEntityFunctionMessage.
        message = f"The function '{name}' doesn't exist, is disabled, or is not an entity function. Additional info: "
        known = [f.name for f in self.registry.entities.values()]
        if known:
            return message + "The following are the known entity functions: '" + "', '".join(known) + "'."
        return message + "No entity functions are currently registered!"
