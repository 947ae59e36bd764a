"""OpenTelemetry for the app: where telemetry goes (chosen from app settings), spans, and a few metrics.

Exporters (:func:`configure_from_environment`, called once by ``function_app.py``):

* ``APPLICATIONINSIGHTS_CONNECTION_STRING`` → Application Insights through the ``azure-monitor-opentelemetry``
  distro. Inside the Functions Python worker the *worker* owns that: with the app setting
  ``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true`` it calls ``configure_azure_monitor()`` before it indexes
  ``function_app.py`` (azure-functions-python-worker, ``dispatcher.py`` ``worker_init_request`` →
  ``otel.py`` ``initialize_azure_monitor``), and without it the host's own Application Insights integration
  collects the logs the worker forwards — so the app never configures the distro a second time there.
  Anywhere else (devhost, a script) the app configures it itself.
  Azure docs: "Use OpenTelemetry with Azure Functions" (learn.microsoft.com/azure/azure-functions/opentelemetry-howto):
  host.json ``"telemetryMode": "OpenTelemetry"`` makes the host export its own telemetry the same way.
* ``OTEL_EXPORTER_OTLP_ENDPOINT`` → OTLP/HTTP (traces, logs, metrics; the exporters read the standard
  ``OTEL_EXPORTER_OTLP_*`` variables themselves). The worker never configures OTLP, so the app does, in every
  host; the worker needs ``PYTHON_ENABLE_OPENTELEMETRY=true`` to hand each invocation its trace context.
* Both → both receive everything. Neither → nothing is configured and the API stays a no-op (no error).

Trace context: like the worker (``otel.py`` ``configure_opentelemetry``: extract ``traceparent``/``tracestate``
from ``func.Context.trace_context`` and attach it), :func:`invocation_span` parents the function's span on the
``func.Context`` it is given, so a trace runs from the HTTP request through ``start_new`` (the SDK client
injects the current context as ``traceparent``) to every activity the host hands that context to.

Replay: the orchestrator records metrics and logs only when ``context.is_replaying`` is false and opens no
spans, so a replayed episode emits nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions import _abc
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

INSTRUMENTATION_NAME = "job_monitor"
APP_LOGGER = "job_monitor"
"""The logger whose records are exported (every module of the app logs under it)."""
DEFAULT_SERVICE_NAME = "job-monitor"

APPINSIGHTS_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
OTLP_SETTING = "OTEL_EXPORTER_OTLP_ENDPOINT"
WORKER_TELEMETRY_SETTING = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
# Modules of the Functions Python worker (classic, and the 3.13+ proxy/library worker).
_WORKER_MODULES = ("azure_functions_worker", "proxy_worker", "azure_functions_runtime")

Attributes = Mapping[str, Any]


class Telemetry:
    """The tracer and the app's instruments, from one pair of providers (the global ones by default)."""

    def __init__(
        self, tracer_provider: trace.TracerProvider | None = None, meter_provider: metrics.MeterProvider | None = None
    ) -> None:
        # The global getters return proxies that follow the provider installed later by configure_*().
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(INSTRUMENTATION_NAME)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(INSTRUMENTATION_NAME)
        self.checks = meter.create_counter(
            "job_monitor.checks", unit="{check}", description="Status checks performed, by job status"
        )
        self.progress = meter.create_gauge(
            "job_monitor.job.progress", unit="%", description="Progress of each monitored job at its last check"
        )
        self.alerts = meter.create_counter(
            "job_monitor.alerts", unit="{alert}", description="Alerts raised (once per alert per monitor)"
        )
        self.outcomes = meter.create_counter(
            "job_monitor.monitors.finished", unit="{monitor}", description="Monitors finished, by final status"
        )
        self.duration = meter.create_histogram(
            "job_monitor.monitor.duration", unit="s", description="How long each finished monitor watched its job"
        )
        self.deliveries = meter.create_counter(
            "job_monitor.alert_deliveries", unit="{attempt}", description="Alert webhook delivery attempts, by outcome"
        )


_current = Telemetry()


def current() -> Telemetry:
    return _current


def install(telemetry: Telemetry) -> Telemetry:
    """Use ``telemetry`` from now on; returns the one it replaces (tests use their own providers)."""
    global _current
    previous, _current = _current, telemetry
    return previous


class _NoTraceContext(_abc.TraceContext):
    trace_parent = ""
    trace_state = ""
    attributes: dict[str, str] = {}


class _NoInvocationContext(func.Context):
    """Stands in for the worker's ``func.Context`` when a function is called directly (tests, scripts).

    The functions declare ``context: func.Context = NO_CONTEXT`` rather than ``Optional[func.Context] = None``:
    the worker hands a Context to a parameter named ``context`` only if its type hint *is* a class named Context
    (azure-functions-python-worker ``functions.py`` ``is_context_required``; ``Optional[...]`` fails indexing).
    """

    invocation_id = ""
    function_name = ""
    function_directory = ""
    thread_local_storage = threading.local
    trace_context = _NoTraceContext()
    retry_context = None  # type: ignore[assignment]


NO_CONTEXT: func.Context = _NoInvocationContext()


def parent_context(function_context: Any) -> Context | None:
    """The trace context the host handed this invocation (``func.Context.trace_context``), or None.

    None means "the current context", which is what the worker attached before the call.
    """
    trace_context = getattr(function_context, "trace_context", None)
    traceparent = getattr(trace_context, "trace_parent", None) or ""
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent, "tracestate": getattr(trace_context, "trace_state", None) or ""}
    return TraceContextTextMapPropagator().extract(carrier)


@contextmanager
def invocation_span(
    name: str, function_context: Any, attributes: Attributes, kind: trace.SpanKind = trace.SpanKind.INTERNAL
) -> Iterator[trace.Span]:
    """A current span for one function invocation, child of the host's trace context."""
    with _current.tracer.start_as_current_span(
        name, context=parent_context(function_context), kind=kind, attributes=clean(attributes)
    ) as span:
        yield span


def clean(attributes: Attributes) -> dict[str, Any]:
    """Attribute values OpenTelemetry accepts: None left out."""
    return {key: value for key, value in attributes.items() if value is not None}


@dataclass(frozen=True)
class Setup:
    """What :func:`configure_from_environment` turned on (for the startup log line and the tests)."""

    exporters: tuple[str, ...] = ()
    reason: str = ""


_setup: Setup | None = None


def inside_functions_worker() -> bool:
    return any(name in sys.modules for name in _WORKER_MODULES)


def configure_from_environment(environ: Mapping[str, str] | None = None) -> Setup:
    """Install the exporters the app settings ask for (once per process; later calls return the first result)."""
    global _setup
    if _setup is not None:
        return _setup
    env = os.environ if environ is None else environ
    connection = (env.get(APPINSIGHTS_SETTING) or "").strip()
    endpoint = (env.get(OTLP_SETTING) or "").strip()
    if not connection and not endpoint:
        _setup = Setup((), f"neither {APPINSIGHTS_SETTING} nor {OTLP_SETTING} is set")
        return _setup
    exporters: list[str] = []
    otlp = _OtlpPipeline() if endpoint else None
    if otlp is not None:
        exporters.append("otlp")
    if connection and inside_functions_worker():
        worker_exports = (env.get(WORKER_TELEMETRY_SETTING) or "").strip().lower() == "true"
        exporters.append("azure_monitor (the worker's)" if worker_exports else "application_insights (the host's)")
    if connection and not inside_functions_worker():
        from azure.monitor.opentelemetry import configure_azure_monitor

        extra: dict[str, Any] = {} if otlp is None else otlp.distro_arguments()
        configure_azure_monitor(connection_string=connection, logger_name=APP_LOGGER, resource=_resource(env), **extra)
        exporters.append("azure_monitor")
    elif otlp is not None:
        otlp.install(_resource(env))  # alone, or beside the distro the worker configured
    app_logger = logging.getLogger(APP_LOGGER)
    if app_logger.level == logging.NOTSET:
        # Export the app's INFO records even where the root logger is left at Python's WARNING default.
        app_logger.setLevel(logging.INFO)
    _setup = Setup(tuple(exporters), "")
    app_logger.info("Telemetry exporters: %s", ", ".join(exporters))
    return _setup


def _resource(env: Mapping[str, str]) -> Any:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    name = env.get("OTEL_SERVICE_NAME") or env.get("WEBSITE_SITE_NAME") or DEFAULT_SERVICE_NAME
    return Resource.create({SERVICE_NAME: name})


def _has_handler(logger: logging.Logger, kind: type) -> bool:
    node: logging.Logger | None = logger
    while node is not None:
        if any(isinstance(handler, kind) for handler in node.handlers):
            return True
        node = node.parent if node.propagate else None
    return False


class _OtlpPipeline:
    """OTLP/HTTP exporters for the three signals (endpoint and headers from ``OTEL_EXPORTER_OTLP_*``)."""

    def __init__(self) -> None:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.span_processor = BatchSpanProcessor(OTLPSpanExporter())
        self.log_processor = BatchLogRecordProcessor(OTLPLogExporter())
        self.metric_reader = PeriodicExportingMetricReader(OTLPMetricExporter())

    def distro_arguments(self) -> dict[str, Any]:
        """``configure_azure_monitor`` adds these next to its own exporters."""
        return {
            "span_processors": [self.span_processor],
            "log_record_processors": [self.log_processor],
            "metric_readers": [self.metric_reader],
        }

    def install(self, resource: Any) -> None:
        from opentelemetry import _logs
        from opentelemetry.instrumentation.logging.handler import LoggingHandler
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider

        tracer_provider = trace.get_tracer_provider()
        if not isinstance(tracer_provider, TracerProvider):
            tracer_provider = TracerProvider(resource=resource)
            trace.set_tracer_provider(tracer_provider)
        tracer_provider.add_span_processor(self.span_processor)

        logger_provider = _logs.get_logger_provider()
        if not isinstance(logger_provider, LoggerProvider):
            logger_provider = LoggerProvider(resource=resource)
            _logs.set_logger_provider(logger_provider)
        logger_provider.add_log_record_processor(self.log_processor)
        app_logger = logging.getLogger(APP_LOGGER)
        if not _has_handler(app_logger, LoggingHandler):  # the worker's distro may have one on the root logger
            app_logger.addHandler(LoggingHandler(logger_provider=logger_provider))

        # An SDK MeterProvider takes its readers at construction: beside the worker's distro, metrics stay there.
        if not isinstance(metrics.get_meter_provider(), MeterProvider):
            metrics.set_meter_provider(MeterProvider(metric_readers=[self.metric_reader], resource=resource))
