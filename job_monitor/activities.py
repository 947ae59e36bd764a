"""The activities: ask the job service for the job's status, wait between checks, deliver an alert.

Each accepts the worker's ``func.Context`` (optional, so tests can call them plainly) and runs inside a span
parented on the trace context the host hands it (:func:`job_monitor.telemetry.invocation_span`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import azure.functions as func
from opentelemetry import trace

from . import alert_routing, clock, names, telemetry
from .blueprint import bp
from .job_service import get_job_service
from .simulation import JobPlan
from .timefmt import iso_ms

logger = logging.getLogger("job_monitor.activities")


@bp.function_name(names.CHECK_JOB_STATUS)
@bp.activity_trigger(input_name="job", activity=names.CHECK_JOB_STATUS)
def check_job_status(job: dict[str, Any], context: func.Context = telemetry.NO_CONTEXT) -> dict[str, Any]:
    """Input: the job plan (:meth:`JobPlan.to_dict`) plus ``check_number`` and ``instance_id``.

    Returns the job service's status record plus ``check_number`` and ``last_check_time``
    (when this check ran, ISO UTC with milliseconds).
    """
    plan = JobPlan.from_dict(job)
    check_number = int(job["check_number"])
    fields = {"job_id": plan.job_id, "instance_id": job.get("instance_id"), "check_number": check_number}
    with telemetry.invocation_span(names.CHECK_JOB_STATUS, context, fields) as span:
        now = clock.utc_now()
        record = dict(get_job_service().get_status(plan, now))
        record["check_number"] = check_number
        record["last_check_time"] = iso_ms(now)
        span.set_attributes(
            telemetry.clean({"job_status": record.get("status"), "progress_percent": record.get("progress_percent")})
        )
        meters = telemetry.current()
        meters.checks.add(1, {"job_status": str(record.get("status"))})
        if isinstance(record.get("progress_percent"), (int, float)):
            meters.progress.set(record["progress_percent"], {"job_id": plan.job_id})
        logger.info(
            "Job %s check #%d: %s (%s%%)",
            plan.job_id,
            check_number,
            record.get("status"),
            record.get("progress_percent"),
            extra=fields,
        )
    return record


@bp.function_name(names.WAIT_FOR_INTERVAL)
@bp.activity_trigger(input_name="seconds", activity=names.WAIT_FOR_INTERVAL)
def wait_for_interval(seconds: float, context: func.Context = telemetry.NO_CONTEXT) -> str:
    """Block for ``seconds`` through the app clock (the original sample's polling delay)."""
    value = max(0.0, float(seconds))
    with telemetry.invocation_span(names.WAIT_FOR_INTERVAL, context, {"wait_seconds": value}):
        clock.sleep(value)
    return f"Waited for {format_seconds(value)} seconds"


def format_seconds(value: float) -> str:
    """``5`` for whole seconds, otherwise up to millisecond precision (``2.5``)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")


@bp.function_name(names.DELIVER_ALERT)
@bp.activity_trigger(input_name="alert", activity=names.DELIVER_ALERT)
def deliver_alert(alert: dict[str, Any], context: func.Context = telemetry.NO_CONTEXT) -> dict[str, Any]:
    """POST one alert payload (:func:`job_monitor.alert_routing.payload`) to ``ALERT_WEBHOOK_URL``.

    Raises when the receiver does not answer 2xx, so the orchestrator's retry policy tries again.
    Returns ``{"delivered": true, "status": <code>}``, or ``{"delivered": false, "reason": ...}`` when the
    setting was removed after the monitor started (nothing to retry).
    """
    details = alert.get("alert") or {}
    fields = {
        "job_id": alert.get("job_id"),
        "instance_id": alert.get("instance_id"),
        "check_number": alert.get("check_number"),
        "alert_name": details.get("name"),
    }
    meters = telemetry.current()
    with telemetry.invocation_span(names.DELIVER_ALERT, context, fields, kind=trace.SpanKind.CLIENT):
        url = alert_routing.webhook_url(os.environ)
        if url is None:
            meters.deliveries.add(1, {"outcome": "skipped"})
            logger.warning(
                "Alert %s for job %s not delivered: %s is not set",
                details.get("name"),
                alert.get("job_id"),
                alert_routing.WEBHOOK_SETTING,
                extra=fields,
            )
            return {"delivered": False, "reason": f"{alert_routing.WEBHOOK_SETTING} is not set"}
        try:
            status = alert_routing.post(url, alert)
        except alert_routing.DeliveryFailed as failure:
            meters.deliveries.add(1, {"outcome": "failed"})
            logger.warning(
                "Alert %s for job %s: delivery attempt failed: %s",
                details.get("name"),
                alert.get("job_id"),
                failure,
                extra=fields,
            )
            raise
        meters.deliveries.add(1, {"outcome": "delivered"})
        logger.info("Alert %s for job %s delivered (%d)", details.get("name"), alert.get("job_id"), status, extra=fields)
        return {"delivered": True, "status": status}
