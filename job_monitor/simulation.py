"""The simulated long-running job that the sample monitors.

A job is described by a :class:`JobPlan` (what was submitted, when, and how it will behave) and
its state is a pure function of the plan and the time you look at it (:func:`job_state`): no
stored state, no randomness beyond a seed derived from the job id. That makes every status
reproducible in tests and on replay, and lets the ``job_status`` endpoint answer without asking
the orchestrator.

Behaviour (``elapsed`` = seconds since ``submitted_at``, ``D`` = ``duration_seconds``):

* ``Unknown`` (queued) while ``elapsed < min(1, D)``.
* ``completed``: ``Running`` with progress ``elapsed / D``, then ``Completed`` once ``elapsed >= D``.
* ``failed``: ``Running`` at half that speed, then ``Failed`` at ``elapsed >= D`` (about halfway),
  in the batch it was processing.
* ``stalled``: ``Running`` at full speed up to 50 %, then stuck there forever.

Items are processed in batches of :data:`ITEMS_PER_BATCH`; item *i* fails with probability
``failure_rate`` using a ``random.Random`` seeded from SHA-256 of the job id (Python's ``hash()``
is salted per process, so it would give different answers in different workers).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from .timefmt import iso_ms, iso_us, parse_iso

ITEMS_PER_BATCH = 25
QUEUE_SECONDS = 1.0
STALL_FRACTION = 0.5
FAILED_SPEED = 0.5

UNKNOWN = "Unknown"
RUNNING = "Running"
COMPLETED = "Completed"
FAILED = "Failed"
TERMINAL_STATES = (COMPLETED, FAILED)


@dataclass(frozen=True)
class JobPlan:
    """Everything that determines a simulated job's behaviour."""

    job_id: str
    submitted_at: datetime
    duration_seconds: float
    outcome: str
    """``completed``, ``failed`` or ``stalled``."""
    batch_size: int
    """Total number of items."""
    failure_rate: float

    @property
    def seed(self) -> int:
        return seed_for(self.job_id)

    @property
    def batches_total(self) -> int:
        return math.ceil(self.batch_size / ITEMS_PER_BATCH)

    def to_dict(self) -> dict[str, Any]:
        """JSON form; keys match the request fields they come from."""
        return {
            "job_id": self.job_id,
            "submitted_at": iso_us(self.submitted_at),
            "simulated_duration_seconds": self.duration_seconds,
            "simulated_outcome": self.outcome,
            "batch_size": self.batch_size,
            "failure_rate": self.failure_rate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobPlan:
        return cls(
            job_id=str(data["job_id"]),
            submitted_at=parse_iso(data["submitted_at"]),
            duration_seconds=data["simulated_duration_seconds"],
            outcome=str(data["simulated_outcome"]),
            batch_size=int(data["batch_size"]),
            failure_rate=float(data["failure_rate"]),
        )


def job_state(plan: JobPlan, now: datetime) -> dict[str, Any]:
    """The job's status record at ``now``.

    Keys: ``job_id, status, progress_percent, items_total, items_processed, items_failed,
    current_batch, batches_total, estimated_completion, last_updated, details``.
    """
    elapsed = (now - plan.submitted_at).total_seconds()
    duration = plan.duration_seconds
    batches = plan.batches_total
    if elapsed < min(QUEUE_SECONDS, duration):
        status, fraction = UNKNOWN, 0.0
    elif plan.outcome == "stalled":
        status, fraction = RUNNING, min(_ratio(elapsed, duration), STALL_FRACTION)
    elif plan.outcome == "failed":
        status = FAILED if elapsed >= duration else RUNNING
        fraction = min(_ratio(elapsed, duration), 1.0) * FAILED_SPEED
    else:
        status = COMPLETED if elapsed >= duration else RUNNING
        fraction = min(_ratio(elapsed, duration), 1.0)

    processed = plan.batch_size if status == COMPLETED else math.floor(fraction * plan.batch_size)
    failed = failed_items(plan.job_id, plan.failure_rate, processed)
    batch = min(processed // ITEMS_PER_BATCH + 1, batches)
    if status == UNKNOWN:
        details = f"Queued: {batches} batches of up to {ITEMS_PER_BATCH} items"
    elif status == COMPLETED:
        details = f"Completed all {batches} batches ({processed - failed} succeeded, {failed} failed)"
    elif status == FAILED:
        details = f"Failed while processing batch {batch} of {batches}: simulated processing error"
    else:
        details = f"Processing batch {batch} of {batches}"
    return {
        "job_id": plan.job_id,
        "status": status,
        "progress_percent": processed * 100 // plan.batch_size,
        "items_total": plan.batch_size,
        "items_processed": processed,
        "items_failed": failed,
        "current_batch": batch,
        "batches_total": batches,
        "estimated_completion": _estimate(plan, status),
        "last_updated": iso_ms(now),
        "details": details,
    }


def seed_for(job_id: str) -> int:
    """A stable 64-bit seed for the job's random failures."""
    return int.from_bytes(hashlib.sha256(job_id.encode("utf-8")).digest()[:8], "big")


def _ratio(elapsed: float, duration: float) -> float:
    return 1.0 if duration <= 0 else max(0.0, elapsed / duration)


def _estimate(plan: JobPlan, status: str) -> str | None:
    """When the job is expected to finish, from its own speed; None if it never will."""
    if plan.outcome == "stalled" or status == FAILED:
        return None
    speed = FAILED_SPEED if plan.outcome == "failed" else 1.0
    return iso_ms(plan.submitted_at + timedelta(seconds=plan.duration_seconds / speed))


@lru_cache(maxsize=512)
def failed_items(job_id: str, failure_rate: float, processed: int) -> int:
    """How many of the first ``processed`` items failed (deterministic per job).

    Cached because a stalled job asks for the same prefix on every check.
    """
    if processed <= 0 or failure_rate <= 0:
        return 0
    rng = random.Random(seed_for(job_id))
    draw = rng.random
    return sum(1 for _ in range(processed) if draw() < failure_rate)
