"""Test app for the engine's end-to-end tests: one small orchestration per Durable Functions feature.

Activities that need to overlap sleep through ``time.sleep``/``asyncio.sleep``, which devhost runs on the
host's virtual clock. Module-level counters are per app start (devhost imports this module afresh).
"""

import asyncio
import json
import threading
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

_lock = threading.Lock()
_running = {"now": 0, "peak": 0}
_attempts: dict = {}


def _now(context: df.DurableOrchestrationContext) -> str:
    return context.current_utc_datetime.isoformat()


# --- HTTP functions using the SDK's durable client -------------------------------------------------
@app.route(route="orchestrators/{name}", methods=[func.HttpMethod.POST])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    client_input = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["name"], req.params.get("instance_id"), client_input)
    return client.create_check_status_response(req, instance_id)


@app.route(route="start_and_wait/{name}", methods=[func.HttpMethod.POST])
@app.durable_client_input(client_name="client")
async def http_start_and_wait(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["name"], None, json.loads(body) if body else None)
    return await client.wait_for_completion_or_create_check_status_response(
        req,
        instance_id,
        timeout_in_milliseconds=int(req.params.get("timeout_ms", "10000")),
        retry_interval_in_milliseconds=int(req.params.get("interval_ms", "1000")),
    )


@app.route(route="raise/{instance_id}/{event}", methods=[func.HttpMethod.POST])
@app.durable_client_input(client_name="client")
async def http_raise(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await client.raise_event(req.route_params["instance_id"], req.route_params["event"], req.get_json())
    return func.HttpResponse(status_code=202)


# --- activities ------------------------------------------------------------------------------------
@app.activity_trigger(input_name="name")
def greet(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper()


@app.activity_trigger(input_name="value")
def echo(value):
    return value


@app.activity_trigger(input_name="value")
async def echo_async(value):
    await asyncio.sleep(2)  # virtual time
    return value


@app.activity_trigger(input_name="seconds")
def busy(seconds: float) -> int:
    """Sleeps (virtually) while counted as running; returns the highest concurrency seen so far."""
    with _lock:
        _running["now"] += 1
        _running["peak"] = max(_running["peak"], _running["now"])
    try:
        time.sleep(seconds)
    finally:
        with _lock:
            _running["now"] -= 1
    with _lock:
        return _running["peak"]


@app.activity_trigger(input_name="request")
def flaky(request: dict) -> dict:
    """Fails the first ``fail_times`` calls for ``key``, then succeeds."""
    with _lock:
        attempt = _attempts[request["key"]] = _attempts.get(request["key"], 0) + 1
    if attempt <= request["fail_times"]:
        raise ValueError(f"attempt {attempt} failed")
    return {"attempt": attempt}


@app.activity_trigger(input_name="key")
def count_attempt(key: str) -> int:
    with _lock:
        attempt = _attempts[key] = _attempts.get(key, 0) + 1
    return attempt


@app.activity_trigger(input_name="value")
def explode(value):
    raise RuntimeError(f"activity blew up on {value}")


# --- orchestrators ---------------------------------------------------------------------------------
@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    greeting = yield context.call_activity("greet", context.get_input()["city"])
    loud = yield context.call_activity("shout", greeting)
    return [greeting, loud]


@app.orchestration_trigger(context_name="context")
def echo_all(context: df.DurableOrchestrationContext):
    """Sends every value of ``values`` through activity ``activity`` one after another."""
    request = context.get_input()
    results = []
    for value in request["values"]:
        result = yield context.call_activity(request["activity"], value)
        results.append(result)
    return {"results": results, "types": [type(r).__name__ for r in results], "finished": _now(context)}


@app.orchestration_trigger(context_name="context")
def input_echo(context: df.DurableOrchestrationContext):
    value = context.get_input()
    return {"input": value, "type": type(value).__name__}


@app.orchestration_trigger(context_name="context")
def fan_out_busy(context: df.DurableOrchestrationContext):
    request = context.get_input()
    peaks = yield context.task_all([context.call_activity("busy", request["seconds"]) for _ in range(request["count"])])
    return {"peak": max(peaks), "finished": _now(context)}


@app.orchestration_trigger(context_name="context")
def fan_in_sum(context: df.DurableOrchestrationContext):
    words = context.get_input()
    greetings = yield context.task_all([context.call_activity("greet", w) for w in words])
    return greetings


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    started = context.current_utc_datetime
    fire_at = started + timedelta(seconds=context.get_input()["seconds"])
    yield context.create_timer(fire_at)
    return {"started": started.isoformat(), "fire_at": fire_at.isoformat(), "resumed": _now(context)}


@app.orchestration_trigger(context_name="context")
def race(context: df.DurableOrchestrationContext):
    """``task_any`` of an activity sleeping ``activity_seconds`` and a timer of ``timer_seconds``."""
    request = context.get_input()
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=request["timer_seconds"]))
    work = context.call_activity("busy", request["activity_seconds"])
    winner = yield context.task_any([work, timer])
    if winner == work:
        timer.cancel()
        return {"winner": "activity", "at": _now(context)}
    return {"winner": "timer", "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def wait_event(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("Approval")
    return {"value": value, "type": type(value).__name__, "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def timer_then_event(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    value = yield context.wait_for_external_event("Approval")
    return {"value": value, "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def retry_activity(context: df.DurableOrchestrationContext):
    request = context.get_input()
    options = df.RetryOptions(request["interval_ms"], request["attempts"])
    try:
        result = yield context.call_activity_with_retry("flaky", options, request)
        return {"ok": result, "at": _now(context)}
    except Exception as error:  # the last attempt's failure, raised by the SDK
        return {"error": str(error), "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def flaky_child(context: df.DurableOrchestrationContext):
    request = context.get_input()
    attempt = yield context.call_activity("count_attempt", request["key"])
    if attempt <= request["fail_times"]:
        raise ValueError(f"child attempt {attempt} failed")
    return {"attempt": attempt}


@app.orchestration_trigger(context_name="context")
def retry_child(context: df.DurableOrchestrationContext):
    request = context.get_input()
    options = df.RetryOptions(request["interval_ms"], request["attempts"])
    try:
        result = yield context.call_sub_orchestrator_with_retry("flaky_child", options, request)
        return {"ok": result, "at": _now(context)}
    except Exception as error:
        return {"error": str(error)}


@app.orchestration_trigger(context_name="context")
def child_double(context: df.DurableOrchestrationContext):
    value = context.get_input()
    greeting = yield context.call_activity("greet", str(value))
    return {"double": value * 2, "greeting": greeting, "parent": context.parent_instance_id}


@app.orchestration_trigger(context_name="context")
def child_fails(context: df.DurableOrchestrationContext):
    yield context.call_activity("greet", "child")
    raise ValueError("child broke")


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    request = context.get_input()
    try:
        result = yield context.call_sub_orchestrator(request["child"], request.get("input"), request.get("child_id"))
        return {"ok": result}
    except Exception as error:
        return {"error": str(error)}


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    """Counts to ``limit`` through continue_as_new, reporting progress in its custom status."""
    state = context.get_input()
    if state["n"] < state["limit"]:
        context.set_custom_status({"n": state["n"]})
        context.continue_as_new({"n": state["n"] + 1, "limit": state["limit"]})
        return None
    return state["n"]


@app.orchestration_trigger(context_name="context")
def counter_with_work(context: df.DurableOrchestrationContext):
    state = context.get_input()
    yield context.call_activity("greet", str(state["n"]))
    if state["n"] < state["limit"]:
        context.continue_as_new({"n": state["n"] + 1, "limit": state["limit"]})
        return None
    return state["n"]


@app.orchestration_trigger(context_name="context")
def reporter(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "waiting"})
    yield context.wait_for_external_event("Go")
    context.set_custom_status({"stage": "done"})
    return "ok"


@app.orchestration_trigger(context_name="context")
def chatty(context: df.DurableOrchestrationContext):
    context.set_custom_status("x" * 20000)
    yield context.call_activity("greet", "x")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def boom(context: df.DurableOrchestrationContext):
    yield context.call_activity("greet", "x")
    raise ValueError("kaput")


@app.orchestration_trigger(context_name="context")
def unhandled_activity_failure(context: df.DurableOrchestrationContext):
    yield context.call_activity("explode", "x")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def two_steps(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("greet", "one")
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    second = yield context.call_activity("greet", "two")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def http_get(context: df.DurableOrchestrationContext):
    response = yield context.call_http("GET", context.get_input()["uri"])
    return {"statusCode": response["statusCode"], "content": json.loads(response["content"])}


@app.orchestration_trigger(context_name="context")
def retry_fan_out(context: df.DurableOrchestrationContext):
    """``task_all`` of retried calls with different failure counts, then one more activity."""
    request = context.get_input()
    options = df.RetryOptions(request["interval_ms"], request["attempts"])
    results = yield context.task_all(
        [
            context.call_activity_with_retry("flaky", options, {"key": key, "fail_times": fails})
            for key, fails in request["fail_times"].items()
        ]
    )
    last = yield context.call_activity("greet", "after")
    return {"results": results, "last": last, "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Human interaction: wait for "Approval" or give up after ``hours``."""
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=context.get_input()["hours"]))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, deadline])
    if winner == event:
        deadline.cancel()
        return {"approved": event.result, "at": _now(context)}
    return {"approved": None, "at": _now(context)}


@app.orchestration_trigger(context_name="context")
def children_fan_out(context: df.DurableOrchestrationContext):
    values = context.get_input()
    results = yield context.task_all([context.call_sub_orchestrator("child_double", v) for v in values])
    return [r["double"] for r in results]


@app.orchestration_trigger(context_name="context")
def replay_facts(context: df.DurableOrchestrationContext):
    """What the orchestrator sees across replays: stable ids and times, and the replay flag."""
    first_id = context.new_uuid()
    started = _now(context)
    flags = [context.is_replaying]
    echoed = yield context.call_activity("echo", first_id)
    flags.append(context.is_replaying)
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    flags.append(context.is_replaying)
    return {
        "first_id": first_id,
        "echoed": echoed,
        "second_id": context.new_uuid(),
        "started": started,
        "flags": flags,
        "instance_id": context.instance_id,
    }
