"""The in-memory store's notification outbox (lifecycle notifications owed by committed turns).

Mixed into :class:`devhost.store.memory.MemoryStore` (same lock; the outbox rows are written by its
``commit_turn``/``commit_group`` in the turn's own step), with the behaviour of the SQLite store's outbox that
``tests/store_contract.py`` checks on both.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Callable

from devhost.core.model import Notification
from devhost.store.codec import from_text, to_text, to_utc


class MemoryOutbox:
    """The outbox methods of the Store protocol, over ``self._notifications`` (id -> notification, in id order)."""

    _notifications: dict[int, Notification]
    _guard: Callable[[], AbstractContextManager[None]]

    def due_notifications(self, now: datetime, limit: int) -> list[Notification]:
        if limit <= 0:
            return []
        cutoff = to_text(now)
        with self._guard():
            due = [n for n in self._notifications.values() if to_text(n.due_at) <= cutoff]
            due.sort(key=lambda n: (to_text(n.due_at), n.id or 0))
            return [copy.copy(n) for n in due[:limit]]

    def next_notification_at(self) -> datetime | None:
        with self._guard():
            times = [to_text(n.due_at) for n in self._notifications.values()]
        return from_text(min(times)) if times else None

    def delete_notification(self, notification_id: int) -> bool:
        with self._guard():
            return self._notifications.pop(notification_id, None) is not None

    def retry_notification(self, notification_id: int, due_at: datetime) -> bool:
        when = to_utc(due_at)
        with self._guard():
            stored = self._notifications.get(notification_id)
            if stored is None:
                return False
            self._notifications[notification_id] = Notification(
                stored.instance_id, stored.body, when, stored.attempts + 1, notification_id
            )
            return True
