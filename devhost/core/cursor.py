"""The engine's bookkeeping for one execution, persisted with the instance row (``Instance.cursor``).

It records what the history alone cannot say cheaply: how many flattened actions were already turned into
history, their signatures and sequence ids (to detect non-determinism and cancelled timers), the next
sequence id the SDK will hand out, and the state of every ``-WithRetry`` call (protocol doc §1.11).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"))


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
    """One ``[signature, sequence id or None]`` per flattened action already applied to the history."""
    retries: list[RetryState] = field(default_factory=list)
    open_timers: list[int] = field(default_factory=list)
    """Ids of user timers that have not fired yet (cancellable through ``isCanceled``)."""

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        data = json.loads(text) if text else {}
        retries = [RetryState(**item) for item in data.get("retries", [])]
        return cls(
            next_seq=data.get("next_seq", 0),
            seen=data.get("seen", []),
            retries=retries,
            open_timers=data.get("open_timers", []),
        )

    def dumps(self) -> str:
        # Built by hand: dataclasses.asdict deep-copies every ``seen`` pair, and the cursor is written on
        # every turn. The keys and their order are those of the fields, as asdict gives them.
        data = {
            "next_seq": self.next_seq,
            "seen": self.seen,
            "retries": [retry.to_dict() for retry in self.retries],
            "open_timers": self.open_timers,
        }
        return _ENCODER.encode(data)

    def take_seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def retry_for_task(self, task_id: int | None) -> RetryState | None:
        return next((r for r in self.retries if r.task_id == task_id and r.timer_id is None), None)

    def retry_for_timer(self, timer_id: int | None) -> RetryState | None:
        return next((r for r in self.retries if r.timer_id == timer_id), None)
