"""The two HTTP functions: start monitoring a job, and read a job's status.

``POST /api/start_monitoring_job`` validates the body once (:mod:`job_monitor.config`), refuses
a second monitor for a job that is still being monitored (409), and starts the orchestrator with
the job id as instance id (202 + the SDK's check-status payload).
``GET /api/job_status/{jobId}`` finds the monitor by that instance id and reports the job.
Every answer is JSON; bad input is a 4xx, never a 5xx.

Both run inside a span parented on the request's trace context (``func.Context.trace_context``, which the
host fills from the ``traceparent`` header); ``start_new`` runs inside it, and the SDK client sends the current
context as the new instance's ``traceparent``, so the monitor's trace continues from the caller's.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from opentelemetry import trace

from . import alert_routing, clock, names, telemetry
from .blueprint import bp
from .config import MonitorRequest, ValidationError
from .job_service import get_job_service
from .monitor_state import OrchestrationInput
from .timefmt import iso_ms

logger = logging.getLogger("job_monitor.http")

ACTIVE_STATES = frozenset({"Pending", "Running", "Suspended", "ContinuedAsNew"})


async def _served(
    function_name: str, req: func.HttpRequest, context: func.Context, handle: Callable[[], Awaitable[func.HttpResponse]]
) -> func.HttpResponse:
    """Run an HTTP function's body inside its server span (parented on the invocation's trace context)."""
    with telemetry.invocation_span(
        function_name, context, {"http.request.method": req.method}, kind=trace.SpanKind.SERVER
    ) as span:
        response = await handle()
        span.set_attribute("http.response.status_code", response.status_code)
        return response


@bp.function_name(names.START_MONITORING_JOB)
@bp.route(route=names.START_MONITORING_JOB_ROUTE, methods=[func.HttpMethod.POST])
@bp.durable_client_input(client_name="client")
async def start_monitoring_job(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context = telemetry.NO_CONTEXT
) -> func.HttpResponse:
    return await _served(names.START_MONITORING_JOB, req, context, lambda: _start(req, client))


async def _start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        request = MonitorRequest.from_body(req.get_body() or b"")
    except ValidationError as invalid:
        return _json(400, invalid.to_json())
    job_id = request.job_id
    extra = {"job_id": job_id, "instance_id": job_id, "check_number": None}
    trace.get_current_span().set_attributes({"job_id": job_id, "instance_id": job_id})
    try:
        existing = await client.get_status(job_id)
        if _is_active(existing):
            return _conflict(client, req, job_id, existing)
        orchestration_input = {**request.to_dict(), "submitted_at": iso_ms(clock.utc_now())}
        if alert_routing.webhook_url(os.environ) is not None:
            status_url = alert_routing.status_url(req.url, names.START_MONITORING_JOB_ROUTE, names.JOB_STATUS_ROUTE, job_id)
            orchestration_input[alert_routing.INPUT_KEY] = alert_routing.AlertRouting(status_url).to_dict()
        try:
            instance_id = await client.start_new(
                names.MONITORING_JOB_ORCHESTRATOR, instance_id=job_id, client_input=orchestration_input
            )
        except Exception:
            # Two starts raced past the check above: the loser's start_new fails. Report it as
            # the duplicate it is; anything else is a real backend failure.
            existing = await client.get_status(job_id)
            if _is_active(existing):
                return _conflict(client, req, job_id, existing)
            raise
    except Exception:
        logger.exception("Could not start monitoring job %s", job_id, extra=extra)
        return _json(
            503,
            {
                "error": "orchestration_unavailable",
                "job_id": job_id,
                "message": "the durable task backend did not accept the request; retry later",
            },
        )
    logger.info("Started monitoring job %s", job_id, extra=extra)
    response: func.HttpResponse = client.create_check_status_response(req, instance_id)
    return response


@bp.function_name(names.JOB_STATUS)
@bp.route(route=names.JOB_STATUS_ROUTE, methods=[func.HttpMethod.GET])
@bp.durable_client_input(client_name="client")
async def job_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context = telemetry.NO_CONTEXT
) -> func.HttpResponse:
    return await _served(names.JOB_STATUS, req, context, lambda: _job_status(req, client))


async def _job_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    job_id = req.route_params.get(names.JOB_STATUS_ROUTE_PARAM, "")
    try:
        # Same rules as at start: an id that could never have been created is a bad request.
        MonitorRequest.from_mapping({"job_id": job_id})
    except ValidationError as invalid:
        return _json(400, invalid.to_json())
    extra = {"job_id": job_id, "instance_id": job_id, "check_number": None}
    try:
        status = await client.get_status(job_id)
    except Exception:
        logger.exception("Could not read the monitor of job %s", job_id, extra=extra)
        return _json(
            503,
            {
                "error": "orchestration_unavailable",
                "job_id": job_id,
                "message": "the durable task backend did not answer; retry later",
            },
        )
    not_found = {"error": "job_not_found", "job_id": job_id}
    # A missing instance comes back as a *falsy* status object (no createdTime), not None.
    if not status or status.created_time is None or status.name not in (None, names.MONITORING_JOB_ORCHESTRATOR):
        return _json(404, not_found)
    try:
        source = OrchestrationInput.parse(status.input_, instance_id=job_id)
    except (ValueError, KeyError, TypeError):
        logger.warning("Instance %s has no monitoring input", job_id, extra=extra)
        return _json(404, {**not_found, "message": "the instance is not a monitoring job"})
    plan = source.plan(fallback_submitted_at=status.created_time)
    record = get_job_service().get_status(plan, clock.utc_now())
    body: dict[str, Any] = {
        "job_id": job_id,
        "status": record.get("status"),
        "progress_percent": record.get("progress_percent"),
        "estimated_completion": record.get("estimated_completion"),
        "last_updated": record.get("last_updated"),
        "details": record.get("details"),
        "items_total": record.get("items_total"),
        "items_processed": record.get("items_processed"),
        "items_failed": record.get("items_failed"),
        "monitor_instance_id": job_id,
        "monitor_status": _state_name(status),
    }
    return _json(200, body)


def _state_name(status: Any) -> str | None:
    state = getattr(status, "runtime_status", None)
    return None if state is None else getattr(state, "name", str(state))


def _is_active(status: Any) -> bool:
    return bool(status) and _state_name(status) in ACTIVE_STATES


def _conflict(client: df.DurableOrchestrationClient, req: func.HttpRequest, job_id: str, status: Any) -> func.HttpResponse:
    # The check-status response carries the management links with the request's origin.
    links = client.create_check_status_response(req, job_id)
    status_uri = links.headers.get("Location") or json.loads(links.get_body())["statusQueryGetUri"]
    body = {
        "error": "job_already_monitored",
        "job_id": job_id,
        "instance_id": job_id,
        "runtime_status": _state_name(status),
        "statusQueryGetUri": status_uri,
    }
    return _json(409, body, {"Location": status_uri})


def _json(status_code: int, body: Mapping[str, Any], headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status_code, mimetype="application/json", headers=headers)
