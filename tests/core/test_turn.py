"""The pure core against the real SDK: replay, sequence ids, retries, timers, continue-as-new, failures."""

from __future__ import annotations

import functools
import json
from datetime import timedelta

import azure.durable_functions as df

from devhost.core.model import EventType, Message, RuntimeStatus
from tests.inline import T0, InlineHost, activity, orchestrator_handles

app = df.DFApp()
calls = {"flaky": 0}


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    a = yield context.call_activity("hello", "Tokyo")
    b = yield context.call_activity("hello", "Seattle")
    return [a, b]


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("hello", str(i)) for i in range(3)])
    last = yield context.call_activity("hello", "end")
    return results + [last]


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    return context.current_utc_datetime.isoformat()


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    first, second = yield context.task_all(
        [
            context.call_activity_with_retry("flaky", options, "a"),
            context.call_activity_with_retry("hello", options, "b"),
        ]
    )
    after = yield context.call_activity("hello", "c")
    return [first, second, after]


@app.orchestration_trigger(context_name="context")
def always_failing(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=2)
    try:
        yield context.call_activity_with_retry("broken", options, None)
    except Exception as exc:
        return f"caught: {str(exc)[:40]}"


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    n = context.get_input() or 0
    if n < 3:
        context.set_custom_status({"n": n})
        context.continue_as_new(n + 1)
        return None
    return n


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    event = context.wait_for_external_event("Approve")
    winner = yield context.task_any([event, timeout])
    if winner == event:
        timeout.cancel()
        return {"approved": event.result}
    return "timed out"


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    child = yield context.call_sub_orchestrator("chain", None)
    return {"child": child}


@app.orchestration_trigger(context_name="context")
def boom(context: df.DurableOrchestrationContext):
    yield context.call_activity("hello", "x")
    raise ValueError("kaput")


@app.orchestration_trigger(context_name="context")
def chatty(context: df.DurableOrchestrationContext):
    context.set_custom_status("x" * 20000)
    yield context.call_activity("hello", "x")


def broken(_):
    raise RuntimeError("always")


def flaky(value):
    calls["flaky"] += 1
    if calls["flaky"] < 3:
        raise RuntimeError(f"flaky attempt {calls['flaky']}")
    return f"ok {value}"


@functools.cache
def app_handles():
    return orchestrator_handles(app)  # get_functions() works once per app, after every orchestrator is declared


def make_driver() -> InlineHost:
    calls["flaky"] = 0
    activities = {"hello": lambda v: f"Hello {v}!", "flaky": flaky, "broken": broken}
    return InlineHost(dict(app_handles()), {name: activity(name, fn) for name, fn in activities.items()})


def test_chain_completes_with_activity_results_in_order():
    driver = make_driver()
    driver.start("chain")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(driver.status().output) == ["Hello Tokyo!", "Hello Seattle!"]


def test_history_has_sdk_shape_with_sequence_ids_matching_task_completions():
    driver = make_driver()
    driver.start("chain")
    driver.run()
    kinds = [e["EventType"] for e in driver.history()]
    assert kinds[:2] == [EventType.ORCHESTRATOR_STARTED, EventType.EXECUTION_STARTED]
    scheduled = [e["EventId"] for e in driver.history() if e["EventType"] == EventType.TASK_SCHEDULED]
    completed = [e["TaskScheduledId"] for e in driver.history() if e["EventType"] == EventType.TASK_COMPLETED]
    assert scheduled == completed == [0, 1]
    assert kinds[-2:] == [EventType.EXECUTION_COMPLETED, EventType.ORCHESTRATOR_COMPLETED]
    assert all(e["IsPlayed"] for e in driver.history())


def test_task_all_fans_out_then_continues():
    driver = make_driver()
    driver.start("fan")
    driver.run()
    assert json.loads(driver.status().output) == ["Hello 0!", "Hello 1!", "Hello 2!", "Hello end!"]


def test_timer_fires_at_its_time_and_orchestrator_sees_that_time():
    driver = make_driver()
    driver.start("sleeper")
    driver.run()
    assert json.loads(driver.status().output) == (T0 + timedelta(seconds=30)).isoformat()


def test_retries_take_hidden_sequence_ids_and_eventually_succeed():
    driver = make_driver()
    driver.start("retrying")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.COMPLETED, driver.status().output
    assert json.loads(driver.status().output) == ["ok a", "Hello b!", "Hello c!"]
    timers = [e["EventId"] for e in driver.history() if e["EventType"] == EventType.TIMER_CREATED]
    assert len(timers) == 2  # one retry timer per failed attempt


def test_retry_exhaustion_raises_last_failure_into_orchestrator():
    driver = make_driver()
    driver.start("always_failing")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(driver.status().output).startswith("caught: Activity function 'broken' failed")


def test_continue_as_new_restarts_with_new_input_and_fresh_history():
    driver = make_driver()
    driver.start("counter", 0)
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(driver.status().output) == 3
    assert sum(1 for e in driver.history() if e["EventType"] == EventType.EXECUTION_STARTED) == 1


def test_external_event_wins_race_and_cancels_timer():
    driver = make_driver()
    driver.start("approval")
    driver.turn("i1")
    driver.raise_event("i1", "Approve", {"by": "ann"})
    driver.run()
    assert json.loads(driver.status().output) == {"approved": {"by": "ann"}}
    assert driver.messages == []  # the cancelled timer's TimerFired went with the finished instance


def test_timer_wins_when_no_event_arrives():
    driver = make_driver()
    driver.start("approval")
    driver.run()
    assert json.loads(driver.status().output) == "timed out"


def test_sub_orchestration_result_reaches_parent():
    driver = make_driver()
    driver.start("parent")
    driver.run()
    assert json.loads(driver.status().output) == {"child": ["Hello Tokyo!", "Hello Seattle!"]}


def test_orchestrator_exception_fails_instance_with_extension_message():
    driver = make_driver()
    driver.start("boom")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.FAILED
    assert json.loads(driver.status().output) == "Orchestrator function 'boom' failed: kaput"


def test_custom_status_over_16kb_fails_instance():
    driver = make_driver()
    driver.start("chatty")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.FAILED
    assert "16 KB" in json.loads(driver.status().output)


def test_changed_orchestrator_code_is_reported_as_non_deterministic():
    driver = make_driver()
    driver.start("chain")
    driver.turn("i1")  # first episode schedules hello(Tokyo)
    driver.orchestrators["chain"] = handles_for_changed_chain()
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.FAILED
    assert "Non-deterministic workflow detected" in json.loads(driver.status().output)


def handles_for_changed_chain():
    changed = df.DFApp()

    @changed.orchestration_trigger(context_name="context")
    def chain(context):  # noqa: F811 - same name, different first action
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
        return "changed"

    return orchestrator_handles(changed)["chain"]


@app.orchestration_trigger(context_name="context")
def fragile(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", "a")
    second = yield context.call_activity("once_broken", "b")
    return [first, second]


def test_rewind_reruns_the_failed_activity_and_completes():
    driver = make_driver()
    attempts = []

    def once_broken(value):
        attempts.append(value)
        if len(attempts) == 1:
            raise RuntimeError("transient")
        return f"fixed {value}"

    driver.activities["once_broken"] = activity("once_broken", once_broken)
    driver.start("fragile")
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.FAILED

    driver.send(
        Message(
            "i1",
            {"EventType": 21, "EventId": -1, "IsPlayed": False, "Timestamp": "2030-01-01T00:00:00.0000000Z", "Reason": "retry"},
            driver.now,
        )
    )
    driver.run()

    assert driver.status().runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(driver.status().output) == ["Hello a!", "fixed b"]
    assert [e["EventType"] for e in driver.history()].count(EventType.TASK_FAILED) == 0


def test_rewind_of_a_completed_instance_changes_nothing():
    driver = make_driver()
    driver.start("chain")
    driver.run()
    driver.send(
        Message(
            "i1",
            {"EventType": 21, "EventId": -1, "IsPlayed": False, "Timestamp": "2030-01-01T00:00:00.0000000Z", "Reason": "x"},
            driver.now,
        )
    )
    driver.run()
    assert driver.status().runtime_status is RuntimeStatus.COMPLETED
