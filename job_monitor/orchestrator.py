"""``monitoring_job_orchestrator``: poll the job until it finishes or the deadline passes.

Loop per check: call ``check_job_status``, publish the custom status, stop on ``Completed`` /
``Failed``, otherwise wait ``min(interval, time left)`` (``wait_for_interval`` activity or a
durable timer, per ``wait_strategy``) and stop with ``Timeout`` once the deadline is reached;
there is no extra check at the deadline itself. Every :data:`CHECKS_PER_GENERATION` checks it
``continue_as_new``\\ s with a ``carry`` so a week-long monitor replays a short history.

Determinism: time comes only from ``context.current_utc_datetime``, there is no I/O, and log
lines and metrics are written only when ``not context.is_replaying`` (otherwise every replay repeats them).

Alert routing (only when the input carries ``alert_routing``): each newly raised alert is handed to the
``deliver_alert`` activity with a retry policy *without* waiting for it, so checks keep their schedule; the
deliveries are collected (and counted in the output) before ``continue_as_new`` and before the end. A
delivery that fails for good is logged and counted, never fatal.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Generator
from datetime import timedelta
from typing import Any, Callable

import azure.durable_functions as df

from . import alert_routing, alerts, monitor_state, names, telemetry
from .blueprint import bp
from .monitor_state import Carry, OrchestrationInput, Progress, custom_status, output
from .simulation import TERMINAL_STATES

logger = logging.getLogger("job_monitor.orchestrator")

TIMEOUT = "Timeout"


@bp.function_name(names.MONITORING_JOB_ORCHESTRATOR)
@bp.orchestration_trigger(context_name="context", orchestration=names.MONITORING_JOB_ORCHESTRATOR)
def monitoring_job_orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any] | None]:
    source = OrchestrationInput.parse(context.get_input(), instance_id=context.instance_id)
    request = source.request
    carry = source.carry or Carry.first(context.current_utc_datetime, request.timeout_seconds)
    plan = source.plan(fallback_submitted_at=carry.monitor_started_at)
    if source.submitted_at is None:  # started without our HTTP starter: pin the job's start
        source = OrchestrationInput(request, plan.submitted_at, source.carry, source.alert_routing)
    routing = source.alert_routing
    progress = Progress.resume(carry, routes_alerts=routing is not None)
    base_extra = {"job_id": request.job_id, "instance_id": context.instance_id}
    deliveries: list[Any] = []  # scheduled deliver_alert tasks, collected by settle_deliveries()

    def log(level: int, message: str, *args: Any, check_number: int | None = None, **fields: Any) -> None:
        if not context.is_replaying:
            logger.log(level, message, *args, extra={**base_extra, "check_number": check_number, **fields})

    def measure(write: Callable[[telemetry.Telemetry], None]) -> None:
        if not context.is_replaying:
            write(telemetry.current())

    def settle_deliveries() -> Generator[Any, Any, None]:
        counts = progress.alert_deliveries
        while deliveries and counts is not None:
            task = deliveries.pop(0)
            try:
                outcome = yield task
            except Exception as failure:  # every attempt failed: logged and counted, never fatal
                counts["failed"] += 1
                log(
                    logging.WARNING,
                    "Alert delivery for job %s failed for good: %s",
                    request.job_id,
                    str(failure).splitlines()[0] if str(failure) else type(failure).__name__,
                )
            else:
                counts["delivered" if isinstance(outcome, dict) and outcome.get("delivered") else "failed"] += 1

    if carry.generation == 1:
        log(
            logging.INFO,
            "Monitoring job %s: every %ss for up to %ss",
            request.job_id,
            request.polling_interval_seconds,
            request.timeout_seconds,
        )
    job = plan.to_dict()  # the same for every check of this execution: built once, not per check on every replay
    checks_this_generation = 0
    final_status: str | None = None
    while final_status is None:
        progress.checks += 1
        checks_this_generation += 1
        check_input = {**job, "check_number": progress.checks, "instance_id": context.instance_id}
        record = yield context.call_activity(names.CHECK_JOB_STATUS, check_input)
        sample = alerts.ProgressSample.from_record(record)
        if request.enable_monitoring:
            progress.active_alerts = alerts.evaluate(
                record, sample, progress.previous, carry.deadline, request.error_rate_threshold
            )
        progress.last_record, progress.previous = record, sample
        for alert in progress.active_alerts:  # none unless monitoring is enabled
            if alert.name not in progress.alerts_raised:
                progress.alerts_raised.append(alert.name)
                log(
                    logging.WARNING,
                    "Alert %s (%s) for job %s: %s",
                    alert.name,
                    alert.severity,
                    request.job_id,
                    alert.message,
                    check_number=progress.checks,
                    alert_name=alert.name,
                    alert_severity=alert.severity,
                )
                measure(functools.partial(_count_alert, alert))
                if routing is not None:
                    body = alert_routing.payload(
                        routing,
                        job_id=request.job_id,
                        instance_id=context.instance_id,
                        alert=alert,
                        check_number=progress.checks,
                        metrics=custom_status(request, progress).get("metrics"),
                    )
                    deliveries.append(context.call_activity_with_retry(names.DELIVER_ALERT, alert_routing.RETRY, body))
        context.set_custom_status(custom_status(request, progress))
        log(
            logging.INFO,
            "Check #%d of job %s: %s, %s%%",
            progress.checks,
            request.job_id,
            record.get("status"),
            record.get("progress_percent"),
            check_number=progress.checks,
        )

        if record.get("status") in TERMINAL_STATES:
            final_status = record["status"]
            break
        now = context.current_utc_datetime
        remaining = (carry.deadline - now).total_seconds()
        if remaining <= 0:
            final_status = TIMEOUT
            break
        wait = min(request.polling_interval_seconds, remaining)
        if request.wait_strategy == "timer":
            yield context.create_timer(now + timedelta(seconds=wait))
        else:
            yield context.call_activity(names.WAIT_FOR_INTERVAL, wait)
        if context.current_utc_datetime >= carry.deadline:
            final_status = TIMEOUT
        elif checks_this_generation >= monitor_state.CHECKS_PER_GENERATION:
            yield from settle_deliveries()
            next_carry = progress.next_carry()
            log(
                logging.INFO,
                "Job %s: continuing as new (generation %d) after %d checks",
                request.job_id,
                next_carry.generation,
                progress.checks,
                check_number=progress.checks,
            )
            context.continue_as_new(source.with_carry(next_carry).to_dict())
            return None

    ended_at = context.current_utc_datetime  # the monitoring time, not the wait for the last deliveries
    yield from settle_deliveries()
    result = output(request, progress, final_status, ended_at)
    context.set_custom_status(custom_status(request, progress, final_status))
    log(
        logging.INFO if final_status == "Completed" else logging.WARNING,
        "Monitoring of job %s ended: %s after %d checks in %.3fs",
        request.job_id,
        final_status,
        progress.checks,
        result["monitoring_duration_seconds"],
        check_number=progress.checks,
    )
    measure(functools.partial(_count_outcome, final_status, request.workflow_type, result["monitoring_duration_seconds"]))
    return result


def _count_alert(alert: alerts.Alert, meters: telemetry.Telemetry) -> None:
    meters.alerts.add(1, {"alert_name": alert.name, "alert_severity": alert.severity})


def _count_outcome(final_status: str, workflow_type: str, seconds: float, meters: telemetry.Telemetry) -> None:
    meters.outcomes.add(1, {"final_status": final_status, "workflow_type": workflow_type})
    meters.duration.record(seconds, {"final_status": final_status})
