"""The entity half of the Store contract (tests/entity_store_contract.py) against every store."""

from __future__ import annotations

try:
    from entity_store_contract import EntityStoreContract
except ImportError:  # tests/ is a package: import it by its package path
    from tests.entity_store_contract import EntityStoreContract  # type: ignore[no-redef]


class TestEntityStoreContract(EntityStoreContract):
    """Every documented entity Store behaviour, once per store."""
