"""Which SQLite errors are storage faults: the disk, the file or the lock failing, not a bug in a statement.

A fault (disk full, I/O error, database locked or busy past the busy timeout, read-only or vanished file, out of
memory, a damaged file) is turned into :class:`~devhost.core.errors.StoreUnavailable` after the transaction has
rolled back, so callers see one error that means "nothing was written, try again": the HTTP API answers 503 and
the engine retries. Any other ``sqlite3.Error`` is a devhost bug and stays what it is.
"""

from __future__ import annotations

import sqlite3

# Primary result codes (https://www.sqlite.org/rescode.html); extended codes carry them in their low byte.
FAULT_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)
# sqlite3 errors raised without a result code (some paths of the module) are recognised by SQLite's own texts.
_FAULT_TEXTS = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "attempt to write a readonly database",
    "database disk image is malformed",
    "file is not a database",
    "out of memory",
)


def is_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a storage fault rather than a programming error."""
    if isinstance(exc, MemoryError):
        return True
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in FAULT_CODES
    text = str(exc).lower()
    return any(fault in text for fault in _FAULT_TEXTS)


def describe(exc: BaseException) -> str:
    """One line naming the fault, e.g. ``SQLITE_FULL: database or disk is full``."""
    name = getattr(exc, "sqlite_errorname", None)
    return f"{name}: {exc}" if name else f"{type(exc).__name__}: {exc}"
