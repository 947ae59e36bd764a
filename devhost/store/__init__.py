"""Persistence: one Store interface (base.py) and its SQLite implementation (sqlite.py)."""

from devhost.store.base import Store

__all__ = ["Store"]
