"""The orchestration's data: its input, what it carries across ``continue_as_new``, and the
custom status and output it publishes.

Input shape (flat, so the status API shows it plainly)::

    {<every MonitorRequest field>, "submitted_at": "<ISO UTC>",
     "alert_routing": {"status_url": ...},   # only when ALERT_WEBHOOK_URL was set at start
     "carry": {...}}            # only from the second generation on

Pure functions only; the orchestrator supplies all times from ``current_utc_datetime``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from .alert_routing import INPUT_KEY as ALERT_ROUTING_KEY
from .alert_routing import AlertRouting
from .alerts import Alert, ProgressSample
from .config import MonitorRequest
from .metrics import job_metrics
from .simulation import JobPlan
from .timefmt import iso_ms, iso_us, parse_iso

CHECKS_PER_GENERATION = 25
"""Checks per execution before ``continue_as_new`` (bounds the replayed history to ~200 events)."""

INPUT_EXTRA_KEYS = ("submitted_at", "carry", ALERT_ROUTING_KEY)


@dataclass(frozen=True)
class Carry:
    """Monitor state that survives ``continue_as_new``."""

    monitor_started_at: datetime
    deadline: datetime
    checks_performed: int = 0
    alerts_raised: tuple[str, ...] = ()
    generation: int = 1
    previous: ProgressSample | None = None
    alert_deliveries: dict[str, int] | None = None
    """``{"delivered": n, "failed": m}`` once the monitor routes alerts (absent otherwise, as before)."""

    @functools.cached_property
    def deadline_text(self) -> str:
        """The deadline as users read it (every check's custom status shows it: formatted once per execution)."""
        return iso_ms(self.deadline)

    @classmethod
    def first(cls, now: datetime, timeout_seconds: float) -> Carry:
        return cls(monitor_started_at=now, deadline=now + timedelta(seconds=timeout_seconds))

    def to_dict(self) -> dict[str, Any]:
        data = {
            "monitor_started_at": iso_us(self.monitor_started_at),
            "deadline": iso_us(self.deadline),
            "checks_performed": self.checks_performed,
            "alerts_raised": list(self.alerts_raised),
            "generation": self.generation,
            "previous": None if self.previous is None else self.previous.to_dict(),
        }
        if self.alert_deliveries is not None:
            data["alert_deliveries"] = dict(self.alert_deliveries)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Carry:
        previous = data.get("previous")
        return cls(
            monitor_started_at=parse_iso(data["monitor_started_at"]),
            deadline=parse_iso(data["deadline"]),
            checks_performed=int(data["checks_performed"]),
            alerts_raised=tuple(str(a) for a in data.get("alerts_raised") or ()),
            generation=int(data["generation"]),
            previous=None if previous is None else ProgressSample.from_dict(previous),
            alert_deliveries=_counts(data.get("alert_deliveries")),
        )


def _counts(raw: Any) -> dict[str, int] | None:
    if not isinstance(raw, Mapping):
        return None
    return {"delivered": int(raw.get("delivered") or 0), "failed": int(raw.get("failed") or 0)}


@dataclass(frozen=True)
class OrchestrationInput:
    request: MonitorRequest
    submitted_at: datetime | None = None
    carry: Carry | None = None
    alert_routing: AlertRouting | None = None

    @classmethod
    def parse(cls, raw: Any, *, instance_id: str) -> OrchestrationInput:
        """Read the input whatever layer of JSON text it arrives in.

        Through the SDK client, ``start_new`` input reaches ``get_input()`` already decoded, but
        ``get_status().input_`` is JSON text, and a start through the Durable HTTP API with a
        JSON-string body adds another layer; so strings are decoded (twice at most). A missing
        ``job_id`` defaults to the instance id (deterministic, unlike a fresh uuid).
        Raises ValidationError / ValueError for input that is not a monitoring request.
        """
        for _ in range(2):
            if isinstance(raw, (str, bytes)):
                raw = json.loads(raw)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ValueError("orchestration input must be a JSON object")
        request = MonitorRequest.from_mapping(raw, default_job_id=lambda: instance_id, ignore=INPUT_EXTRA_KEYS)
        submitted = raw.get("submitted_at")
        carry = raw.get("carry")
        return cls(
            request=request,
            submitted_at=None if submitted is None else parse_iso(submitted),
            carry=None if carry is None else Carry.from_dict(carry),
            alert_routing=AlertRouting.from_input(raw.get(ALERT_ROUTING_KEY)),
        )

    def to_dict(self) -> dict[str, Any]:
        data = self.request.to_dict()
        if self.submitted_at is not None:
            data["submitted_at"] = iso_us(self.submitted_at)
        if self.alert_routing is not None:
            data[ALERT_ROUTING_KEY] = self.alert_routing.to_dict()
        if self.carry is not None:
            data["carry"] = self.carry.to_dict()
        return data

    def with_carry(self, carry: Carry) -> OrchestrationInput:
        return replace(self, carry=carry)

    def plan(self, fallback_submitted_at: datetime) -> JobPlan:
        """The simulated job this monitor watches (it starts at ``submitted_at``)."""
        req = self.request
        return JobPlan(
            job_id=req.job_id,
            submitted_at=self.submitted_at or fallback_submitted_at,
            duration_seconds=req.simulated_duration_seconds,
            outcome=req.simulated_outcome,
            batch_size=req.batch_size,
            failure_rate=req.failure_rate,
        )


@dataclass
class Progress:
    """Mutable per-execution tally (rebuilt identically on every replay)."""

    carry: Carry
    checks: int = 0
    alerts_raised: list[str] = field(default_factory=list)
    previous: ProgressSample | None = None
    """The last check's sample, which the next check is compared with (before this execution's first check: the one
    carried over, if any)."""
    last_record: dict[str, Any] | None = None
    """The last check's status record (None before this execution's first check)."""
    active_alerts: list[Alert] = field(default_factory=list)
    alert_deliveries: dict[str, int] | None = None

    @classmethod
    def resume(cls, carry: Carry, routes_alerts: bool = False) -> Progress:
        deliveries = carry.alert_deliveries
        if deliveries is None and routes_alerts:
            deliveries = {"delivered": 0, "failed": 0}
        return cls(
            carry,
            carry.checks_performed,
            list(carry.alerts_raised),
            carry.previous,
            alert_deliveries=None if deliveries is None else dict(deliveries),
        )

    def next_carry(self) -> Carry:
        return replace(
            self.carry,
            checks_performed=self.checks,
            alerts_raised=tuple(self.alerts_raised),
            generation=self.carry.generation + 1,
            previous=self.previous,
            alert_deliveries=None if self.alert_deliveries is None else dict(self.alert_deliveries),
        )


def custom_status(request: MonitorRequest, progress: Progress, final_status: str | None = None) -> dict[str, Any]:
    """What ``customStatus`` shows after a check. Size is bounded: no free-form input is echoed
    except ``job_id`` (≤100 chars) and ``workflow_type`` (≤64)."""
    record = progress.last_record or {}
    status: dict[str, Any] = {
        "job_id": request.job_id,
        "status": record.get("status"),
        "check_count": progress.checks,
        "last_check_time": record.get("last_check_time"),
        "progress_percent": record.get("progress_percent"),
        "deadline": progress.carry.deadline_text,
        "workflow_type": request.workflow_type,
    }
    if request.enable_monitoring:
        last = progress.previous if progress.last_record is not None else None  # the last check's sample
        seconds = 0.0 if last is None else (last.checked_at - progress.carry.monitor_started_at).total_seconds()
        status["metrics"] = job_metrics(record, seconds)
        status["alerts"] = [a.to_dict() for a in progress.active_alerts]
    if final_status is not None:
        status["final_status"] = final_status
    return status


def output(request: MonitorRequest, progress: Progress, final_status: str, now: datetime) -> dict[str, Any]:
    """The orchestration output."""
    result = {
        "job_id": request.job_id,
        "final_status": final_status,
        "checks_performed": progress.checks,
        "monitoring_duration_seconds": round((now - progress.carry.monitor_started_at).total_seconds(), 3),
        "workflow_type": request.workflow_type,
        "last_job_status": progress.last_record,
        "alerts_raised": list(progress.alerts_raised),
        "generations": progress.carry.generation,
    }
    if progress.alert_deliveries is not None:
        result["alert_deliveries"] = dict(progress.alert_deliveries)
    return result
