"""One entity batch: load an entity's next requests, run them through the entity function, and return what to
commit in one transaction (:class:`~devhost.core.entities.EntityCommit`). One batch per entity at a time (the
engine's rule), so its operations run in the order they were sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from typing import Callable

from devhost.clock import Clock
from devhost.core import entities
from devhost.core.errors import TurnAborted
from devhost.runtime.registry import EntityFunction, FunctionRegistry
from devhost.store.base import Store

log = logging.getLogger("devhost.engine")

Invoke = Callable[[EntityFunction, str], Awaitable[str]]


async def run(
    store: Store, clock: Clock, registry: FunctionRegistry, invoke: Invoke, entity_id: str
) -> entities.EntityCommit | None:
    """The batch's outcome, or None when there is nothing to commit (no requests, or its worker process died and
    the requests stay queued to run again). A batch that fails as a whole (the function raised, or answered
    nonsense) fails each of its operations and keeps the state, as the extension does when a batch times out."""
    batch = store.load_entity_batch(entity_id, clock.now(), entities.MAX_BATCH)
    if not batch.messages:
        return None
    name = entities.EntityId.parse(entity_id).name
    function = registry.entities.get(name)
    if function is None:
        reason = f"The function '{name}' doesn't exist, is disabled, or is not an entity function."
        return entities.failed_batch(batch, clock.now(), reason)
    try:
        result = await invoke(function, entities.batch_payload(batch))
        return entities.apply_result(batch, result, clock.now(), lambda: uuid.uuid4().hex)
    except asyncio.CancelledError:
        raise  # shutting down: the requests stay queued and run on the next start
    except TurnAborted as exc:  # its worker process died: the requests stay queued and run again
        log.warning("entity batch of %s aborted and retried: %s", entity_id, exc)
        return None
    except Exception as exc:  # the batch failed as a whole
        return entities.failed_batch(batch, clock.now(), f"{type(exc).__name__}: {exc}")
