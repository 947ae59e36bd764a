"""Persistence: one Store interface (base.py), the SQLite store (sqlite*.py) and the in-memory store (memory.py).

``codec.py`` holds what both share (time text, page size, continuation tokens); ``sqlite_schema.py`` opens a
database file, ``sqlite_rows.py`` maps records to rows, ``sqlite_turn.py`` commits one turn.
"""

from devhost.store.base import Store

__all__ = ["Store"]
