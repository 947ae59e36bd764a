"""Test helpers: stand in for the engine by writing instance progress straight through the store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, List, Optional, Sequence

from devhost.core.model import HistoryEvent, Instance, Message, RuntimeStatus, TurnCommit
from devhost.store.base import Store

_UNSET: Any = object()


def progress(
    store: Store,
    instance_id: str,
    status: RuntimeStatus,
    *,
    output: Any = _UNSET,
    custom_status: Any = _UNSET,
    history: Sequence[HistoryEvent] = (),
    at: Optional[datetime] = None,
) -> Instance:
    """Commit a turn that moves ``instance_id`` to ``status`` (values are JSON-encoded like the engine does)."""
    instance = store.get_instance(instance_id)
    assert instance is not None, f"no instance {instance_id}"
    instance.runtime_status = status
    if output is not _UNSET:
        instance.output = None if output is None else json.dumps(output)
    if custom_status is not _UNSET:
        instance.custom_status = None if custom_status is None else json.dumps(custom_status)
    if at is not None:
        instance.last_updated_time = at
    store.commit_turn(TurnCommit(instance=instance, new_history=list(history)))
    return instance


def queued(store: Store, instance_id: str, now: datetime) -> List[Message]:
    """Messages the instance could consume now (or a long way ahead), oldest first."""
    turn = store.load_turn(instance_id, now + timedelta(days=3650))
    assert turn is not None
    return turn.messages
