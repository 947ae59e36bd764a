"""Activities end to end: chaining, payload layers, async activities, the concurrency limit."""

from __future__ import annotations

import pytest

from tests.engine.conftest import APP_DIR, SAFETY_TIMEOUT, at, run

# Every JSON type an activity can take and return. Booleans stay booleans, ints stay ints, floats stay
# floats: the host must pass the SDK's JSON text through untouched (protocol doc §1.12).
PAYLOADS = [
    {"name": "Tokyo", "nested": {"list": [1, 2.5, None, True], "empty": {}}},
    [1, "two", 3.5, None, [False]],
    "plain text",
    "",
    'héllo ✓ "quoted"',
    None,
    0,
    42,
    -7,
    3.25,
    True,
    False,
]


def test_chain_passes_each_activity_result_to_the_next(app):
    status = run(app, "chain", {"city": "Tokyo"})

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello Tokyo!", "HELLO TOKYO!"]


def test_chain_history_records_one_scheduled_and_one_completed_task_per_step(app):
    instance_id = app.start("chain", {"city": "Seattle"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    history = app.status(instance_id, show_history=True, show_history_output=True)["historyEvents"]

    completed = [(e["FunctionName"], e["Result"]) for e in history if e["EventType"] == "TaskCompleted"]
    assert completed == [("greet", "Hello Seattle!"), ("shout", "HELLO SEATTLE!")]
    assert [e["EventType"] for e in history][0] == "ExecutionStarted"
    assert [e["EventType"] for e in history][-1] == "ExecutionCompleted"


@pytest.mark.parametrize("activity", ["echo", "echo_async"])
def test_activity_payloads_of_every_json_type_round_trip_exactly(app, activity):
    status = run(app, "echo_all", {"activity": activity, "values": PAYLOADS})

    assert status["runtimeStatus"] == "Completed", status["output"]
    output = status["output"]
    assert output["results"] == PAYLOADS
    assert output["types"] == [type(value).__name__ for value in PAYLOADS]


def test_async_activity_sleeps_on_the_virtual_clock(app):
    start = app.now

    status = run(app, "echo_all", {"activity": "echo_async", "values": ["a", "b", "c"]})

    # Three sequential awaits of asyncio.sleep(2), each on the host's clock.
    assert status["output"]["finished"] == at(start, seconds=6)


@pytest.mark.parametrize("value", PAYLOADS, ids=lambda v: type(v).__name__)
def test_orchestrator_input_from_the_sdk_client_arrives_as_sent(app, value):
    started = (
        app.http.post("/api/orchestrators/input_echo", json_body=value)
        if value is not None
        else app.http.post("/api/orchestrators/input_echo")
    )
    assert started.status == 202, started.text

    status = app.wait_for_completion(started.json()["id"], timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"input": value, "type": type(value).__name__}


def test_orchestrator_input_posted_as_a_json_object_to_the_webhook_arrives_as_a_dict(app):
    status = run(app, "input_echo", {"a": [1, 2], "b": None})

    assert status["output"] == {"input": {"a": [1, 2], "b": None}, "type": "dict"}
    assert status["input"] == {"a": [1, 2], "b": None}


def test_status_input_of_an_sdk_client_start_is_the_json_text(app):
    # §1.12: start_new double-encodes, the extension keeps the JSON string, the status shows that string.
    started = app.http.post("/api/orchestrators/input_echo", json_body={"k": 1})

    status = app.wait_for_completion(started.json()["id"], timeout=SAFETY_TIMEOUT)

    assert status["input"] == '{"k": 1}'


def test_activity_fan_out_never_exceeds_max_concurrent_activity_functions(durable_app, tmp_path):
    app_dir = tmp_path / "limited"
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text((APP_DIR / "function_app.py").read_text())
    (app_dir / "host.json").write_text('{"version": "2.0", "extensions": {"durableTask": {"maxConcurrentActivityFunctions": 2}}}')
    app = durable_app(app_dir)
    start = app.now

    status = run(app, "fan_out_busy", {"count": 6, "seconds": 1})

    assert status["output"]["peak"] == 2
    # Six one-second activities, two at a time: three rounds.
    assert status["output"]["finished"] == at(start, seconds=3)


def test_activity_fan_out_runs_all_at_once_under_the_default_limit(app):
    start = app.now

    status = run(app, "fan_out_busy", {"count": 6, "seconds": 1})

    assert status["output"]["peak"] == 6
    assert status["output"]["finished"] == at(start, seconds=1)
