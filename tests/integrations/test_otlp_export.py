"""OTLP/HTTP export end to end: the unchanged app on devhost, a curl-like start with a ``traceparent``, and a real
OTLP/HTTP receiver on 127.0.0.1 that decodes what arrives.

The app runs in a child process (OpenTelemetry's global providers can be installed once per process) through
the test kit's ``durable_app`` on a virtual clock; the child flushes the providers before it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .receiver import Receiver, running_receiver

REPO = Path(__file__).resolve().parents[2]
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"

CHILD = textwrap.dedent("""
    import json, sys
    from devhost.testing import durable_app

    with durable_app(sys.argv[1]) as app:
        started = app.http.post("/api/start_monitoring_job", json_body={"job_id": "job-otlp"},
                                headers={"traceparent": sys.argv[2]})
        assert started.status == 202, started.text
        status = app.wait_for_completion("job-otlp")

    from opentelemetry import _logs, metrics, trace
    for provider in (trace.get_tracer_provider(), _logs.get_logger_provider(), metrics.get_meter_provider()):
        getattr(provider, "force_flush", lambda: None)()  # the API's no-op providers have none
    print(json.dumps(status["output"]))
""")


def run_app(receiver_url: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "APPLICATIONINSIGHTS_"))}
    env.update(settings, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), TRACEPARENT], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


def decoded(receiver: Receiver, path: str, message: Any) -> list[Any]:
    found = []
    for request in receiver.requests:
        if request.path == path:
            parsed = message()
            parsed.ParseFromString(request.body)
            found.append(parsed)
    return found


def log_records(receiver: Receiver) -> list[Any]:
    """Every log record the receiver was sent, in order."""
    return [
        record
        for request in decoded(receiver, "/v1/logs", ExportLogsServiceRequest)
        for resource in request.resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    ]


def attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        value = item.value
        out[item.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return out


def test_a_traced_start_exports_spans_logs_and_metrics_over_otlp(tmp_path: Path) -> None:
    with running_receiver() as receiver:
        child = run_app(receiver.url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_SERVICE_NAME="job-monitor-test")

    assert child.returncode == 0, child.stderr[-3000:]
    assert json.loads(child.stdout.strip().splitlines()[-1])["final_status"] == "Completed"
    assert {r.headers.get("content-type") for r in receiver.requests} == {"application/x-protobuf"}

    spans = [
        span
        for request in decoded(receiver, "/v1/traces", ExportTraceServiceRequest)
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    [start] = by_name["start_monitoring_job"]
    assert start.trace_id.hex() == TRACE_ID  # the curl's trace
    assert attributes(start.attributes)["job_id"] == "job-otlp"
    checks = by_name["check_job_status"]
    assert sorted(attributes(s.attributes)["check_number"] for s in checks) == list(range(1, len(checks) + 1))
    # devhost kept the start's traceparent with the instance and handed it to every activity: one trace, curl to checks
    assert checks and {s.trace_id.hex() for s in checks} == {TRACE_ID}

    logs = log_records(receiver)
    [started_line] = [r for r in logs if r.body.string_value == "Started monitoring job job-otlp"]
    assert started_line.trace_id.hex() == TRACE_ID
    check_lines = [attributes(r.attributes) for r in logs if r.body.string_value.startswith("Check #")]
    assert [a["check_number"] for a in check_lines] == list(range(1, len(checks) + 1))
    assert all((a["job_id"], a["instance_id"]) == ("job-otlp", "job-otlp") for a in check_lines)

    metric_names = {
        metric.name
        for request in decoded(receiver, "/v1/metrics", ExportMetricsServiceRequest)
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"job_monitor.checks", "job_monitor.alerts", "job_monitor.monitors.finished"} <= metric_names
    resource_names = {
        attributes(r.resource.attributes).get("service.name")
        for r in decoded(receiver, "/v1/traces", ExportTraceServiceRequest)[0].resource_spans
    }
    assert resource_names == {"job-monitor-test"}


def test_with_nothing_configured_nothing_is_exported_and_the_app_runs(tmp_path: Path) -> None:
    with running_receiver() as receiver:
        child = run_app(receiver.url)

    assert child.returncode == 0, child.stderr[-3000:]
    assert json.loads(child.stdout.strip().splitlines()[-1])["final_status"] == "Completed"
    assert receiver.requests == []


def test_with_python_enable_opentelemetry_the_orchestrators_check_lines_carry_the_curls_trace(tmp_path: Path) -> None:
    # As the worker does with PYTHON_ENABLE_OPENTELEMETRY=true, devhost runs each orchestrator episode inside the
    # instance's trace context (the start's traceparent), so the orchestrator's "Check #n" lines join the curl's trace.
    with running_receiver() as receiver:
        child = run_app(receiver.url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, PYTHON_ENABLE_OPENTELEMETRY="true")

    assert child.returncode == 0, child.stderr[-3000:]
    logs = log_records(receiver)
    check_lines = [r for r in logs if r.body.string_value.startswith("Check #")]
    assert check_lines and {r.trace_id.hex() for r in check_lines} == {TRACE_ID}


def test_with_functions_in_worker_processes_each_record_is_exported_once_by_the_worker_with_its_trace(
    tmp_path: Path,
) -> None:
    # The app's exporters run in the workers, which flush them when they stop (devhost/runtime/worker/child.py);
    # the host, which imports the app only to index it, exports nothing (devhost/runtime/worker/indexing.py), so
    # the log records a worker forwards to the host's loggers are not exported a second time, without the trace.
    with running_receiver() as receiver:
        child = run_app(receiver.url, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, DEVHOST_WORKERS="1")

    assert child.returncode == 0, child.stderr[-3000:]
    logs = log_records(receiver)
    bodies = [record.body.string_value for record in logs]
    spans = {
        span.name
        for request in decoded(receiver, "/v1/traces", ExportTraceServiceRequest)
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert bodies and sorted(bodies) == sorted(set(bodies))
    [started_line] = [r for r in logs if r.body.string_value == "Started monitoring job job-otlp"]
    assert started_line.trace_id.hex() == TRACE_ID  # exported in the worker, inside the invocation's span
    assert {"start_monitoring_job", "check_job_status"} <= spans
