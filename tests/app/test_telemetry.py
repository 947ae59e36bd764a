"""The app's telemetry, captured with the OpenTelemetry SDK's in-memory exporters.

Spans follow the trace context the host hands a function (``func.Context.trace_context``), log records keep
their structured fields as attributes, metrics count checks, alerts and outcomes, and a replayed episode
emits nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import pytest
from azure.durable_functions.models.DurableOrchestrationClient import DurableOrchestrationClient
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devhost.runtime.registry import ActivityFunction
from job_monitor import monitor_state, telemetry
from job_monitor.simulation import JobPlan

from .fakes import FakeDurableClient, FakeTime
from .test_orchestrator import monitor_input, run

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"


@dataclass
class FakeTraceContext:
    trace_parent: str
    trace_state: str = ""
    attributes: dict[str, str] = None  # type: ignore[assignment]


@dataclass
class FakeContext:
    """What the worker passes as ``context``: only the part telemetry reads."""

    trace_context: FakeTraceContext
    invocation_id: str = "inv-1"


@dataclass
class Captured:
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter
    metrics: InMemoryMetricReader

    def metric_points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def total(self, name: str, **attributes: Any) -> float:
        return sum(p.value for p in self.metric_points(name) if all(p.attributes.get(k) == v for k, v in attributes.items()))

    def log_records(self) -> list[Any]:
        return [entry.log_record for entry in self.logs.get_finished_logs()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    spans, logs, reader = InMemorySpanExporter(), InMemoryLogRecordExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    handler = LoggingHandler(logger_provider=logger_provider)
    app_logger = logging.getLogger(telemetry.APP_LOGGER)
    previous_level = app_logger.level
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    previous = telemetry.install(telemetry.Telemetry(tracer_provider, MeterProvider(metric_readers=[reader])))
    try:
        yield Captured(spans, logs, reader)
    finally:
        telemetry.install(previous)
        app_logger.removeHandler(handler)
        app_logger.setLevel(previous_level)


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As before the app configured telemetry; the app logger's level is restored afterwards."""
    monkeypatch.setattr(telemetry, "_setup", None)
    app_logger = logging.getLogger(telemetry.APP_LOGGER)
    level = app_logger.level
    yield
    app_logger.setLevel(level)


def check_input(fake_time: FakeTime) -> dict[str, Any]:
    plan = JobPlan(
        job_id="job-tel", submitted_at=fake_time.now(), duration_seconds=15, outcome="completed", batch_size=100, failure_rate=0.1
    )
    return {**plan.to_dict(), "check_number": 2, "instance_id": "job-tel"}


def test_an_activity_span_continues_the_trace_the_host_hands_it(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, captured: Captured
) -> None:
    context = FakeContext(FakeTraceContext(TRACEPARENT))

    activities["check_job_status"].fn(job=check_input(fake_time), context=context)

    [span] = captured.spans.get_finished_spans()
    assert span.name == "check_job_status"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    assert (span.attributes["job_id"], span.attributes["instance_id"], span.attributes["check_number"]) == (
        "job-tel",
        "job-tel",
        2,
    )


def test_activity_logs_carry_the_trace_and_the_structured_fields(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, captured: Captured
) -> None:
    activities["check_job_status"].fn(job=check_input(fake_time), context=FakeContext(FakeTraceContext(TRACEPARENT)))

    [record] = [r for r in captured.log_records() if str(r.body).startswith("Job job-tel check #2")]
    assert format(record.trace_id, "032x") == TRACE_ID
    assert {k: record.attributes[k] for k in ("job_id", "instance_id", "check_number")} == {
        "job_id": "job-tel",
        "instance_id": "job-tel",
        "check_number": 2,
    }


def test_without_a_trace_context_the_activity_starts_its_own_trace(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, captured: Captured
) -> None:
    activities["check_job_status"].fn(job=check_input(fake_time))

    [span] = captured.spans.get_finished_spans()
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID


def test_each_check_counts_and_reports_the_jobs_progress(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, captured: Captured
) -> None:
    job = check_input(fake_time)
    fake_time.sleep(5)
    activities["check_job_status"].fn(job=job)
    fake_time.sleep(15)
    activities["check_job_status"].fn(job=job)

    assert captured.total("job_monitor.checks", job_status="Running") == 1
    assert captured.total("job_monitor.checks", job_status="Completed") == 1
    [progress] = captured.metric_points("job_monitor.job.progress")
    assert (progress.value, progress.attributes["job_id"]) == (100, "job-tel")


def test_the_start_span_is_what_start_new_propagates_to_the_new_instance(
    app_functions: dict[str, Any], fake_time: FakeTime, captured: Captured
) -> None:
    sent: list[Any] = []

    class RecordingClient(FakeDurableClient):
        async def start_new(self, *args: Any, **kwargs: Any) -> str:
            # What the SDK client puts on the wire as the instance's traceparent/tracestate.
            sent.append(DurableOrchestrationClient._get_current_activity_context())
            return await super().start_new(*args, **kwargs)

    request = func.HttpRequest(
        "POST",
        "http://localhost:7071/api/start_monitoring_job",
        headers={},
        params={},
        route_params={},
        body=b'{"job_id": "job-trace"}',
    )
    user_code = app_functions["start_monitoring_job"].get_user_function().client_function
    response = asyncio.run(user_code(req=request, client=RecordingClient(), context=FakeContext(FakeTraceContext(TRACEPARENT))))

    assert response.status_code == 202
    [span] = captured.spans.get_finished_spans()
    [(traceparent, _)] = sent
    assert traceparent == f"00-{TRACE_ID}-{format(span.context.span_id, '016x')}-01"
    assert (span.name, span.attributes["job_id"], span.attributes["http.response.status_code"]) == (
        "start_monitoring_job",
        "job-trace",
        202,
    )


def test_a_replayed_monitor_logs_and_counts_each_check_alert_and_outcome_once(
    orchestrator_handle: Any,
    activities: dict[str, ActivityFunction],
    fake_time: FakeTime,
    captured: Captured,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(monitor_state, "CHECKS_PER_GENERATION", 3)

    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=2),
    )

    assert len(result.episodes) > 2 * result.output["checks_performed"]  # plenty of replay
    orchestrator_logs = [r for r in captured.log_records() if str(r.body).startswith(("Check #", "Alert "))]
    check_lines = [r for r in orchestrator_logs if str(r.body).startswith("Check #")]
    assert [r.attributes["check_number"] for r in check_lines] == list(range(1, result.output["checks_performed"] + 1))
    alert_lines = [r for r in orchestrator_logs if str(r.body).startswith("Alert ")]
    assert sorted(r.attributes["alert_name"] for r in alert_lines) == sorted(result.output["alerts_raised"])
    for name in result.output["alerts_raised"]:
        assert captured.total("job_monitor.alerts", alert_name=name) == 1
    assert captured.total("job_monitor.monitors.finished", final_status="Timeout") == 1
    [duration] = captured.metric_points("job_monitor.monitor.duration")
    assert (duration.count, duration.sum) == (1, result.output["monitoring_duration_seconds"])
    # The orchestrator opens no spans; the only spans are the activities', one per call.
    assert len(captured.spans.get_finished_spans()) == len(result.activity_calls)


def test_nothing_configured_means_nothing_is_installed(unconfigured: None, monkeypatch: pytest.MonkeyPatch) -> None:

    setup = telemetry.configure_from_environment({"FUNCTIONS_WORKER_RUNTIME": "python"})

    assert setup.exporters == ()
    assert "neither APPLICATIONINSIGHTS_CONNECTION_STRING nor OTEL_EXPORTER_OTLP_ENDPOINT" in setup.reason
    from opentelemetry import trace

    assert not isinstance(trace.get_tracer_provider(), TracerProvider)


@pytest.mark.parametrize(
    ("worker_setting", "reported"),
    [("true", "azure_monitor (the worker's)"), (None, "application_insights (the host's)")],
    ids=["worker-distro", "host-integration"],
)
def test_inside_the_worker_the_app_leaves_application_insights_to_it(
    unconfigured: None, monkeypatch: pytest.MonkeyPatch, worker_setting: str | None, reported: str
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "azure_functions_worker", object())
    configured: list[Any] = []
    import azure.monitor.opentelemetry as distro

    monkeypatch.setattr(distro, "configure_azure_monitor", lambda **kwargs: configured.append(kwargs))
    settings = {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x"}
    if worker_setting is not None:
        settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] = worker_setting

    setup = telemetry.configure_from_environment(settings)

    assert configured == []
    assert setup.exporters == (reported,)


def test_outside_the_worker_the_app_configures_the_distro_for_its_logger(
    unconfigured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured: list[dict[str, Any]] = []
    import azure.monitor.opentelemetry as distro

    monkeypatch.setattr(distro, "configure_azure_monitor", lambda **kwargs: configured.append(kwargs))

    setup = telemetry.configure_from_environment({"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x"})

    [arguments] = configured
    assert (arguments["connection_string"], arguments["logger_name"]) == ("InstrumentationKey=x", "job_monitor")
    assert setup.exporters == ("azure_monitor",)


def test_every_function_declaring_context_gets_it_from_the_worker(app_functions: dict[str, Any]) -> None:
    # The worker passes `context` only when its type hint is a class named Context, and refuses to index the
    # function otherwise (azure-functions-python-worker, functions.py, is_context_required).
    import typing

    hinted = {}
    for name, function in app_functions.items():
        hint = typing.get_type_hints(function.get_user_function()).get("context")
        if hint is not None and name != "monitoring_job_orchestrator":  # its `context` is the trigger binding
            hinted[name] = isinstance(hint, type) and hint.__name__ == "Context"

    assert hinted == {
        "check_job_status": True,
        "wait_for_interval": True,
        "deliver_alert": True,
        "start_monitoring_job": True,
        "job_status": True,
    }
    assert telemetry.parent_context(telemetry.NO_CONTEXT) is None


def test_with_both_settings_the_distro_also_feeds_the_otlp_exporters(unconfigured: None, monkeypatch: pytest.MonkeyPatch) -> None:
    configured: list[dict[str, Any]] = []
    import azure.monitor.opentelemetry as distro
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    monkeypatch.setattr(distro, "configure_azure_monitor", lambda **kwargs: configured.append(kwargs))

    setup = telemetry.configure_from_environment(
        {"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    )

    [arguments] = configured
    [spans], [logs], [reader] = (arguments["span_processors"], arguments["log_record_processors"], arguments["metric_readers"])
    assert isinstance(spans.span_exporter, OTLPSpanExporter)
    assert isinstance(logs, BatchLogRecordProcessor) and isinstance(reader, PeriodicExportingMetricReader)
    assert setup.exporters == ("otlp", "azure_monitor")
