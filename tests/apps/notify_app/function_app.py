"""Test app for lifecycle notifications and trace context: flows that complete, fail and wait, an activity that
reports the trace context it was handed, and an HTTP starter that starts through the SDK client inside the
request's trace context (as an app using OpenTelemetry does)."""

import azure.durable_functions as df
import azure.functions as func
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.orchestration_trigger(context_name="context")
def traced_flow(context: df.DurableOrchestrationContext):
    # The trace id current while the orchestrator runs (devhost attaches it like the worker when OpenTelemetry is on).
    span_context = trace.get_current_span().get_span_context()
    own = format(span_context.trace_id, "032x") if span_context.is_valid else None
    seen = yield context.call_activity("seen_trace", "parent")
    child = yield context.call_sub_orchestrator("child_flow", None)
    return {"orchestrator": own, "activity": seen, "child": child}


@app.orchestration_trigger(context_name="context")
def child_flow(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("seen_trace", "child"))


@app.orchestration_trigger(context_name="context")
def failing_flow(context: df.DurableOrchestrationContext):
    yield context.call_activity("seen_trace", "before failing")
    raise ValueError("boom")


@app.orchestration_trigger(context_name="context")
def waiting_flow(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("never"))


@app.activity_trigger(input_name="label")
def seen_trace(label: str, context: func.Context) -> dict:
    return {"label": label, "traceparent": context.trace_context.trace_parent, "tracestate": context.trace_context.trace_state}


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context) -> func.HttpResponse:
    carrier = {"traceparent": context.trace_context.trace_parent, "tracestate": context.trace_context.trace_state}
    token = otel_context.attach(TraceContextTextMapPropagator().extract(carrier))
    try:
        instance_id = await client.start_new(req.route_params["name"])
    finally:
        otel_context.detach(token)
    return client.create_check_status_response(req, instance_id)
