"""A write-through cache of instances' stored history texts, so a turn does not re-read its whole history.

The SQLite store keeps, per recently run instance, the list of its history events' JSON texts exactly as
stored (:func:`devhost.core.model.event_json`). The store updates an entry only after the transaction that
wrote those events has committed, and drops it whenever history is written other than by appending a turn
(an instance created or replaced, a purge), so a cached list always equals what ``SELECT event FROM history``
would return. Bounded by the total number of cached events; the least recently used instances go first.
"""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_MAX_EVENTS = 500_000
"""About 100 MB of event texts at the ~200 bytes a monitoring event takes."""


class HistoryCache:
    """Instance id → its history texts in order. Not thread-safe: the store calls it under its own lock."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.max_events = max_events
        self._entries: OrderedDict[str, list[str]] = OrderedDict()
        self._size = 0

    def get(self, instance_id: str) -> list[str] | None:
        """A copy of the cached texts (callers may keep it), or None if not cached."""
        texts = self._entries.get(instance_id)
        if texts is None:
            return None
        self._entries.move_to_end(instance_id)
        return list(texts)

    def put(self, instance_id: str, texts: list[str]) -> None:
        """Cache ``texts`` (the whole stored history of ``instance_id``), replacing any entry."""
        self.drop(instance_id)
        self._entries[instance_id] = list(texts)
        self._size += len(texts)
        self._shrink()

    def append(self, instance_id: str, texts: list[str], *, replace: bool) -> None:
        """A turn committed ``texts`` to the history (``replace``: as the whole new history)."""
        if replace:
            self.put(instance_id, texts)
            return
        cached = self._entries.get(instance_id)
        if cached is None:
            return  # not cached: the next load reads it whole
        cached.extend(texts)
        self._size += len(texts)
        self._entries.move_to_end(instance_id)
        self._shrink()

    def drop(self, instance_id: str) -> None:
        texts = self._entries.pop(instance_id, None)
        if texts is not None:
            self._size -= len(texts)

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0

    def __contains__(self, instance_id: object) -> bool:
        return instance_id in self._entries

    def _shrink(self) -> None:
        while self._size > self.max_events and self._entries:
            _, texts = self._entries.popitem(last=False)
            self._size -= len(texts)
