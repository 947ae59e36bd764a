"""The Store contract (tests/store_contract.py) against every store: SQLite on a file, SQLite in memory,
and the in-memory store. The same tests passing on all of them is what makes the Store seam a seam."""

from __future__ import annotations

from tests.store_contract import StoreContract


class TestStoreContract(StoreContract):
    """Every documented Store behaviour, once per store."""
