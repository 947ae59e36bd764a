"""The two activities: ask the job service for the job's status, and wait between checks."""

from __future__ import annotations

import logging
from typing import Any

from . import clock, names
from .blueprint import bp
from .job_service import get_job_service
from .simulation import JobPlan
from .timefmt import iso_ms

logger = logging.getLogger("job_monitor.activities")


@bp.function_name(names.CHECK_JOB_STATUS)
@bp.activity_trigger(input_name="job", activity=names.CHECK_JOB_STATUS)
def check_job_status(job: dict[str, Any]) -> dict[str, Any]:
    """Input: the job plan (:meth:`JobPlan.to_dict`) plus ``check_number`` and ``instance_id``.

    Returns the job service's status record plus ``check_number`` and ``last_check_time``
    (when this check ran, ISO UTC with milliseconds).
    """
    plan = JobPlan.from_dict(job)
    check_number = int(job["check_number"])
    now = clock.utc_now()
    record = dict(get_job_service().get_status(plan, now))
    record["check_number"] = check_number
    record["last_check_time"] = iso_ms(now)
    logger.info(
        "Job %s check #%d: %s (%s%%)",
        plan.job_id,
        check_number,
        record.get("status"),
        record.get("progress_percent"),
        extra={"job_id": plan.job_id, "instance_id": job.get("instance_id"), "check_number": check_number},
    )
    return record


@bp.function_name(names.WAIT_FOR_INTERVAL)
@bp.activity_trigger(input_name="seconds", activity=names.WAIT_FOR_INTERVAL)
def wait_for_interval(seconds: float) -> str:
    """Block for ``seconds`` through the app clock (the original sample's polling delay)."""
    value = max(0.0, float(seconds))
    clock.sleep(value)
    return f"Waited for {format_seconds(value)} seconds"


def format_seconds(value: float) -> str:
    """``5`` for whole seconds, otherwise up to millisecond precision (``2.5``)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")
