"""An app whose functions crash their own process in the ways apps under development do (tests/workers)."""

import ctypes
import os
import socket
import time

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)


@app.orchestration_trigger(context_name="context")
def call_one(context: df.DurableOrchestrationContext):
    """Calls the activity named in the input (with a retry policy if asked); reports its result or failure."""
    spec = context.get_input()
    try:
        if spec.get("retry"):
            result = yield context.call_activity_with_retry(spec["activity"], RETRY, spec.get("input"))
        else:
            result = yield context.call_activity(spec["activity"], spec.get("input"))
    except Exception as exc:
        return {"failed": str(exc)}
    return {"result": result}


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    pids = yield context.task_all([context.call_activity("nap_then_pid", 1) for _ in range(context.get_input())])
    return pids


@app.orchestration_trigger(context_name="context")
def crash_first_turn(context: df.DurableOrchestrationContext):
    """Ends its worker process the first time it runs (the marker file remembers), then completes."""
    marker = context.get_input()
    if not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(1)
    yield context.call_activity("pid", None)
    return "survived"


@app.activity_trigger(input_name="value")
def pid(value: object) -> int:
    return os.getpid()


@app.activity_trigger(input_name="seconds")
def nap_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@app.activity_trigger(input_name="value")
def exit_now(value: object) -> str:
    os._exit(1)


@app.activity_trigger(input_name="marker")
def exit_first_time(marker: str) -> str:
    if not os.path.exists(marker):
        with open(marker, "w"):
            pass
        os._exit(1)
    return "second attempt"


@app.activity_trigger(input_name="value")
def segfault(value: object) -> str:
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return "unreachable"


@app.activity_trigger(input_name="value")
def spin(value: object) -> str:
    while True:
        pass


@app.activity_trigger(input_name="value")
def hog(value: object) -> int:
    chunks = []
    while True:
        chunks.append(bytearray(64 * 1024 * 1024))


@app.activity_trigger(input_name="seconds")
def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


@app.route(route="exit", methods=["GET"])
def http_exit(req: func.HttpRequest) -> func.HttpResponse:
    os._exit(3)


@app.route(route="pid", methods=["GET"])
def http_pid(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(str(os.getpid()))


@app.orchestration_trigger(context_name="context")
def spin_turn(context: df.DurableOrchestrationContext):
    while True:
        pass
    yield context.call_activity("pid", None)


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext) -> None:
    """Counts; ``crash_once`` (with a marker file path as input) ends the worker the first time."""
    if context.operation_name == "crash_once" and not os.path.exists(context.get_input()):
        with open(context.get_input(), "w"):
            pass
        os._exit(1)
    value = (context.get_state(lambda: 0) or 0) + 1
    context.set_state(value)
    context.set_result(value)


@app.orchestration_trigger(context_name="context")
def use_counter(context: df.DurableOrchestrationContext):
    entity = df.EntityId("counter", context.instance_id)
    first = yield context.call_entity(entity, "add")
    second = yield context.call_entity(entity, "crash_once", context.get_input())
    return [first, second, os.getpid()]


@app.orchestration_trigger(context_name="context")
def gated(context: df.DurableOrchestrationContext):
    """In its first episode, holds its turn in the worker until the test (listening on the input's port) lets it
    go, so the test can act on the instance while the turn is being decided; then fails (input ``fail``) or waits
    for the event ``go`` and returns its value."""
    spec = context.get_input()
    if not context.is_replaying:
        with socket.create_connection(("127.0.0.1", spec["port"]), timeout=60) as gate:
            gate.recv(1)
    if spec.get("fail"):
        raise ValueError("failed as asked")
    value = yield context.wait_for_external_event("go")
    return value
