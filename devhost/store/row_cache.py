"""A write-through cache of instance rows, so the status reads of a running instance do not query the file.

The SQLite store keeps, per recently read or written instance, its ``instances`` row as the tuple of column values
(what ``SELECT INSTANCE_COLUMNS`` returns): filled by reads, replaced after a committed turn by the values its
UPDATE wrote (the trace columns, which no UPDATE touches, kept from the cached row), and dropped whenever the row is
written any other way (created, replaced, purged, a turn that found its instance gone). So a cached row always equals
the row in the file. Safe because the store is the file's only writer (the one-process file lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DEFAULT_MAX_ROWS = 10_000

Row = tuple[Any, ...]


class RowCache:
    """Instance id → its row. Not thread-safe: the store calls it under its own lock. The oldest entry goes first."""

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._rows: dict[str, Row] = {}

    def get(self, instance_id: str) -> Row | None:
        return self._rows.get(instance_id)

    def put(self, row: Sequence[Any]) -> None:
        instance_id = row[0]
        self._rows.pop(instance_id, None)
        self._rows[instance_id] = tuple(row)
        if len(self._rows) > self.max_rows:
            del self._rows[next(iter(self._rows))]

    def updated(self, instance_id: str, params: Sequence[Any], integer_columns: frozenset[int]) -> None:
        """A committed UPDATE wrote ``params`` (every column but the trace ones, in column order) to the row.

        Kept only if SQLite stores each value as given, so that reading it back gives the same: a str (or None) in
        a TEXT column, an int in an INTEGER one (``integer_columns``); anything else would be converted by the
        column's affinity, so the entry is dropped and the next read asks the file."""
        cached = self._rows.get(instance_id)
        if cached is None:
            return
        if all(v is None or type(v) is (int if i in integer_columns else str) for i, v in enumerate(params)):
            self._rows[instance_id] = (*params, *cached[len(params) :])
        else:
            del self._rows[instance_id]

    def drop(self, instance_id: str) -> None:
        self._rows.pop(instance_id, None)

    def clear(self) -> None:
        self._rows.clear()
