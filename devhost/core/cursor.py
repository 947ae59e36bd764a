"""The engine's bookkeeping for one execution, persisted with the instance row (``Instance.cursor``).

It records what the history alone cannot say cheaply: how many flattened actions were already turned into
history, their signatures and sequence ids (to detect non-determinism and cancelled timers), the next
sequence id the SDK will hand out, and the state of every ``-WithRetry`` call (protocol doc §1.11).

The cursor is read and rewritten on every turn, and its ``seen`` list grows with every action of the execution.
So :meth:`Cursor.dumps` remembers each text it writes with a private copy of the cursor it came from, and
:meth:`Cursor.loads` of that text (the next turn's) gets a fresh copy instead of parsing the JSON again; a text
it does not know (another process wrote it, or it was forgotten) is parsed as before. The stored format is
unchanged. A cursor loaded from the memo also re-encodes only the ``seen`` pairs appended since: pairs once
recorded are never changed (they stand for history already written), so the encoded prefix still holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"))
_encode = _ENCODER.encode

MEMO_SIZE = 1024
"""Cursor texts remembered at most (about one per instance with a turn in flight); the memo is emptied beyond."""


@dataclass
class RetryState:
    kind: str  # "activity" | "suborchestrator"
    name: str
    input: str | None
    first_retry_interval_ms: int
    max_attempts: int
    attempts: int = 1
    task_id: int = -1
    """Sequence id of the attempt in flight (the one whose failure starts the next retry timer)."""
    timer_id: int | None = None
    """Hidden retry-timer id while waiting for it to fire."""
    instance_id: str | None = None
    version: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "name": self.name, "input": self.input,
            "first_retry_interval_ms": self.first_retry_interval_ms, "max_attempts": self.max_attempts,
            "attempts": self.attempts, "task_id": self.task_id, "timer_id": self.timer_id,
            "instance_id": self.instance_id, "version": self.version,
        }  # fmt: skip


@dataclass
class Cursor:
    next_seq: int = 0
    seen: list[list[Any]] = field(default_factory=list)
    """One ``[signature, sequence id or None]`` per flattened action already applied to the history; only ever
    appended to (a pair once recorded is never changed: the memo's encoded prefix relies on it)."""
    retries: list[RetryState] = field(default_factory=list)
    open_timers: list[int] = field(default_factory=list)
    """Ids of user timers that have not fired yet (cancellable through ``isCanceled``)."""

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        known = _MEMO.pop(text, None)  # each text is normally loaded once: the turn then writes a new one
        if known is not None:
            return known.thawed()
        data = json.loads(text)
        retries = [RetryState(**item) for item in data.get("retries", [])]
        return cls(
            next_seq=data.get("next_seq", 0),
            seen=data.get("seen", []),
            retries=retries,
            open_timers=data.get("open_timers", []),
        )

    def dumps(self) -> str:
        # Built by hand: dataclasses.asdict deep-copies every ``seen`` pair, and the cursor is written on
        # every turn. The keys and their order are those of the fields, as asdict gives them; each part is
        # what the compact encoder writes for it inside the whole object.
        seen = self.seen
        known = seen.prefix_text() if type(seen) is _Seen else None
        if known is not None:
            count, prefix = known
            if count == len(seen):
                seen_text = prefix
            elif count == 0:
                seen_text = _encode(seen)
            else:
                seen_text = prefix[:-1] + "," + _encode(seen[count:])[1:]
        else:
            seen_text = _encode(seen)
        retries = _encode([retry.to_dict() for retry in self.retries]) if self.retries else "[]"
        open_timers = _encode(self.open_timers) if self.open_timers else "[]"
        text = f'{{"next_seq":{_encode(self.next_seq)},"seen":{seen_text},"retries":{retries},"open_timers":{open_timers}}}'
        if len(_MEMO) >= MEMO_SIZE:
            _MEMO.clear()  # simpler than an LRU, and safe if threads race: a forgotten text is parsed
        _MEMO[text] = _Frozen(self, seen_text)
        return text

    def take_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def retry_for_task(self, task_id: int | None) -> RetryState | None:
        return next((r for r in self.retries if r.task_id == task_id and r.timer_id is None), None)

    def retry_for_timer(self, timer_id: int | None) -> RetryState | None:
        return next((r for r in self.retries if r.timer_id == timer_id), None)


class _Frozen:
    """A private copy of a dumped cursor, never handed out: :meth:`thawed` gives each load its own copy to change
    (the lists copied, each RetryState copied, the never-changed ``seen`` pairs shared)."""

    __slots__ = ("next_seq", "seen", "retries", "open_timers", "seen_text")

    def __init__(self, cursor: Cursor, seen_text: str) -> None:
        self.next_seq = cursor.next_seq
        self.seen = list(cursor.seen)
        self.retries = [replace(retry) for retry in cursor.retries]
        self.open_timers = list(cursor.open_timers)
        self.seen_text = seen_text

    def thawed(self) -> Cursor:
        return Cursor(
            self.next_seq, _Seen(self.seen, self.seen_text), [replace(retry) for retry in self.retries], list(self.open_timers)
        )


class _Seen(list[list[Any]]):
    """A thawed cursor's ``seen`` list, knowing the JSON of the pairs it started with, which dumps need not encode
    again: ``encoded`` is (n, the n-th pair, text) for its first n pairs. Equal to, and encoded as, a plain list;
    made from pairs alone (as ``dataclasses.asdict`` and ``copy`` do), it knows nothing."""

    __slots__ = ("encoded",)

    def __init__(self, pairs: Iterable[list[Any]] = (), text: str | None = None) -> None:
        super().__init__(pairs)
        self.encoded = None if text is None else (len(self), self[-1] if self else None, text)

    def prefix_text(self) -> tuple[int, str] | None:
        """(n, JSON of the first n pairs) if those are still the pairs it was made with (only appended to since)."""
        if self.encoded is None:
            return None
        count, last, text = self.encoded
        if len(self) < count or (count and self[count - 1] is not last):
            return None
        return count, text


_MEMO: dict[str, _Frozen] = {}
"""Cursor text -> the cursor it was written from (see the module docstring)."""
