"""Test apps for the replay checker: one function_app.py source, variants of it, and recording helpers.

Recordings are made by running the real SDK orchestrators on tests/inline.py (the pure core, the in-memory
store, activities run inline through the invoker), then saved in the replay checker's file format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devhost.replay.model import Recording
from devhost.replay.sources import save_recording
from devhost.runtime.loader import load_app
from devhost.runtime.registry import FunctionRegistry
from tests.inline import InlineHost

BASE_APP = """
from datetime import timedelta

import azure.durable_functions as df

app = df.DFApp()
FLAKY = {"calls": 0}
REPLAYS = {"count": 0}


@app.orchestration_trigger(context_name="context")
def chain(context):
    a = yield context.call_activity("hello", "Tokyo")
    b = yield context.call_activity("shout", "Seattle")
    c = yield context.call_activity("hello", "London")
    return [a, b, c]


@app.orchestration_trigger(context_name="context")
def fan(context):
    results = yield context.task_all([context.call_activity("hello", str(i)) for i in range(3)])
    last = yield context.call_activity("shout", "end")
    return results + [last]


@app.orchestration_trigger(context_name="context")
def sleeper(context):
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    return (yield context.call_activity("hello", "awake"))


@app.orchestration_trigger(context_name="context")
def retrying(context):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    value = yield context.call_activity_with_retry("flaky", options, "a")
    return value


@app.orchestration_trigger(context_name="context")
def parent(context):
    child = yield context.call_sub_orchestrator("chain", None)
    return {"child": child}


@app.orchestration_trigger(context_name="context")
def approval(context):
    timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    event = context.wait_for_external_event("Approve")
    winner = yield context.task_any([event, timeout])
    if winner == event:
        timeout.cancel()
        return {"approved": event.result}
    return "timed out"


@app.orchestration_trigger(context_name="context")
def waiter(context):
    return (yield context.wait_for_external_event("Go"))


@app.orchestration_trigger(context_name="context")
def counter(context):
    n = context.get_input() or 0
    if n < 2:
        yield context.call_activity("hello", str(n))
        context.continue_as_new(n + 1)
        return None
    return n


@app.orchestration_trigger(context_name="context")
def greet(context):
    name = context.get_input()
    if name == "nobody":
        return None
    return (yield context.call_activity("hello", name))


@app.orchestration_trigger(context_name="context")
def boom(context):
    yield context.call_activity("hello", "x")
    raise ValueError("kaput")


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="name")
def shout(name: str) -> str:
    return f"{name.upper()}!"


@app.activity_trigger(input_name="value")
def flaky(value: str) -> str:
    FLAKY["calls"] += 1
    if FLAKY["calls"] < 3:
        raise RuntimeError(f"flaky attempt {FLAKY['calls']}")
    return f"ok {value}"
"""

CHAIN_SECOND = '    b = yield context.call_activity("shout", "Seattle")\n'

VARIANTS: dict[str, tuple[str, str]] = {
    # name: (text in BASE_APP, replacement)
    "renamed_activity": (CHAIN_SECOND, '    b = yield context.call_activity("whisper", "Seattle")\n'),
    "inserted_timer": (
        CHAIN_SECOND,
        "    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=10))\n" + CHAIN_SECOND,
    ),
    "removed_step": (CHAIN_SECOND, '    b = "skipped"\n'),
    "added_step": ("    return [a, b, c]\n", '    d = yield context.call_activity("shout", "Paris")\n    return [a, b, c, d]\n'),
    "longer_timer": ("timedelta(minutes=5)", "timedelta(minutes=10)"),
    "retry_removed": (
        '    value = yield context.call_activity_with_retry("flaky", options, "a")\n',
        '    value = yield context.call_activity("flaky", "a")\n',
    ),
    "chain_removed": (
        '@app.orchestration_trigger(context_name="context")\ndef chain(context):',
        '@app.orchestration_trigger(context_name="context")\ndef chain_v2(context):',
    ),
    "fan_to_chain": (
        '    results = yield context.task_all([context.call_activity("hello", str(i)) for i in range(3)])\n',
        '    results = []\n    for i in range(3):\n        results.append((yield context.call_activity("hello", str(i))))\n',
    ),
    "counter_never_ends": ('    if n < 2:\n        yield context.call_activity("hello", str(n))\n', "    if n < 99:\n"),
    "chain_as_fan": (
        '    a = yield context.call_activity("hello", "Tokyo")\n' + CHAIN_SECOND,
        '    a, b = yield context.task_all([context.call_activity("hello", "Tokyo"),\n'
        '                                   context.call_activity("shout", "Seattle")])\n',
    ),
    "replays_differently": (
        '    a = yield context.call_activity("hello", "Tokyo")\n',
        '    REPLAYS["count"] += 1\n'
        '    a = yield context.call_activity("hello" if REPLAYS["count"] == 1 else "shout", "Tokyo")\n',
    ),
}


def app_source(variant: str | None = None) -> str:
    if variant is None:
        return BASE_APP
    old, new = VARIANTS[variant]
    assert BASE_APP.count(old) == 1, f"variant {variant} does not apply"
    return BASE_APP.replace(old, new)


def write_app(directory: Path, variant: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "function_app.py").write_text(app_source(variant), encoding="utf-8")
    return directory


def load_variant(tmp_path: Path, variant: str | None = None) -> FunctionRegistry:
    return load_app(write_app(tmp_path / f"app-{variant or 'base'}", variant))


def driver_for(registry: FunctionRegistry) -> InlineHost:
    return InlineHost({name: o.handle for name, o in registry.orchestrators.items()}, dict(registry.activities))


def record(
    registry: FunctionRegistry,
    name: str,
    input_value: Any = None,
    *,
    instance_id: str = "i1",
    raise_events: Sequence[tuple[str, Any]] = (),
) -> tuple[Recording, InlineHost]:
    """Run ``name`` to the end (raising ``raise_events`` after its first turn) and return its recording."""
    driver = driver_for(registry)
    driver.start(name, input_value, instance_id=instance_id)
    if raise_events:
        driver.turn(instance_id)
        for event_name, data in raise_events:
            driver.raise_event(instance_id, event_name, data)
    driver.run()
    instance = driver.status(instance_id)
    recording = Recording(instance_id, instance.name, instance.input, tuple(driver.history(instance_id)))
    return recording, driver


def save(directory: Path, recording: Recording) -> Path:
    return save_recording(
        directory / f"{recording.instance_id}.json", recording.name, recording.instance_id, recording.input, recording.history
    )


def record_all(registry: FunctionRegistry) -> list[Recording]:
    """One recording of every orchestrator of BASE_APP, each under its own instance id."""
    runs: list[tuple[str, Any, Sequence[tuple[str, Any]]]] = [
        ("chain", None, ()),
        ("fan", None, ()),
        ("sleeper", None, ()),
        ("retrying", None, ()),
        ("parent", None, ()),
        ("approval", None, (("Approve", {"by": "ann"}),)),
        ("approval", None, ()),
        ("counter", 0, ()),
        ("greet", "Ann", ()),
        ("boom", None, ()),
    ]
    recordings = []
    for index, (name, input_value, raised) in enumerate(runs):
        recording, _ = record(registry, name, input_value, instance_id=f"{name}-{index}", raise_events=raised)
        recordings.append(recording)
    return recordings


def status_document(driver: InlineHost, instance_id: str) -> dict[str, Any]:
    """What GET .../instances/{id}?showHistory=true&showHistoryOutput=true returns, through the real shaping."""
    from devhost.http.payloads import shape_history, status_payload

    instance = driver.status(instance_id)
    shaped = shape_history(driver.history(instance_id), show_history_output=True)
    return json.loads(json.dumps(status_payload(instance, history=shaped)))
