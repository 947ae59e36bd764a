"""A file store checkpoints its WAL every WAL_AUTOCHECKPOINT_PAGES pages, and a closed store leaves no WAL behind."""

from __future__ import annotations

from pathlib import Path

from devhost.store.sqlite import SqliteStore
from devhost.store.sqlite_schema import WAL_AUTOCHECKPOINT_PAGES
from tests.store_contract import start


def test_a_file_store_checkpoints_less_often_than_sqlites_default(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        pages = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]

    assert pages == WAL_AUTOCHECKPOINT_PAGES > 1000


def test_closing_the_store_checkpoints_and_removes_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    start(store, "a")
    assert Path(f"{path}-wal").exists()

    store.close()

    assert not Path(f"{path}-wal").exists()
    with SqliteStore(path) as reopened:
        assert reopened.get_instance("a") is not None
