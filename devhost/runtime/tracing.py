"""The invocation's trace context as the current OpenTelemetry context, where the Python worker makes it so.

The worker extracts ``traceparent``/``tracestate`` from each invocation's trace context and attaches the result
as the current OpenTelemetry context before it calls the function (azure-functions-python-worker,
azure_functions_worker/dispatcher.py ``configure_opentelemetry``, :905-909, called for every function kind at
:664-666 and :997-998, orchestrators included) when OpenTelemetry is switched on for the app
(``PYTHON_ENABLE_OPENTELEMETRY`` or ``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`` = ``true``). An orchestrator
has no ``func.Context`` argument (its ``context`` is the orchestration trigger), so this is the only way its
code sees the trace. devhost does the same around orchestrator episodes; unlike the worker it detaches after
the call, since one thread runs every instance's turns.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from devhost.core.tracecontext import TRACEPARENT, TRACESTATE

ENABLING_SETTINGS = ("PYTHON_ENABLE_OPENTELEMETRY", "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY")


def worker_attaches_context(env: Mapping[str, str] | None = None) -> bool:
    """True when the worker would attach each invocation's trace context (an enabling setting is ``true``)."""
    values = os.environ if env is None else env
    return any(values.get(name, "").strip().lower() == "true" for name in ENABLING_SETTINGS)


@contextlib.contextmanager
def attached(trace_parent: str | None, trace_state: str | None) -> Iterator[None]:
    """Run the block with ``trace_parent``/``trace_state`` as the current OpenTelemetry context (nothing
    happens without a traceparent or without the OpenTelemetry API installed)."""
    if not trace_parent:
        yield
        return
    try:
        from opentelemetry import context
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    except ImportError:  # pragma: no cover - azure-functions-durable depends on opentelemetry-api
        yield
        return
    carrier = {TRACEPARENT: trace_parent, TRACESTATE: trace_state or ""}
    token = context.attach(TraceContextTextMapPropagator().extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
