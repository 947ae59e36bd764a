"""Replaying status documents (GET .../instances/{id}?showHistory=true&showHistoryOutput=true, API notes B.3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from devhost.replay.check import check
from devhost.replay.model import RecordingError
from devhost.replay.sources import parse_document
from tests.replay.apps import record, status_document

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    """A time as the extension writes it in historyEvents (Newtonsoft round-trip, trailing zeros cut)."""
    text = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def azure_chain_document() -> dict[str, Any]:
    """The chain as Azure would show it: activities take 5 s, events are stamped a few ms after the episode
    began, schedules folded into completions."""
    events: list[dict[str, Any]] = [
        {"EventType": "ExecutionStarted", "Timestamp": at(0), "Input": None, "FunctionName": "chain"},
        {
            "EventType": "TaskCompleted",
            "Result": "Hello Tokyo!",
            "Timestamp": at(5),
            "ScheduledTime": at(0.04),
            "FunctionName": "hello",
            "Input": '"Tokyo"',
        },
        {
            "EventType": "TaskCompleted",
            "Result": "SEATTLE!",
            "Timestamp": at(10),
            "ScheduledTime": at(5.05),
            "FunctionName": "shout",
            "Input": '"Seattle"',
        },
        {
            "EventType": "TaskCompleted",
            "Result": "Hello London!",
            "Timestamp": at(15),
            "ScheduledTime": at(10.05),
            "FunctionName": "hello",
            "Input": '"London"',
        },
        {
            "EventType": "ExecutionCompleted",
            "OrchestrationStatus": "Completed",
            "Result": ["Hello Tokyo!", "SEATTLE!", "Hello London!"],
            "Timestamp": at(15.06),
        },
    ]
    return {
        "name": "chain",
        "instanceId": "az1",
        "runtimeStatus": "Completed",
        "input": None,
        "customStatus": None,
        "output": events[-1]["Result"],
        "createdTime": at(0)[:19] + "Z",
        "lastUpdatedTime": at(15)[:19] + "Z",
        "historyEvents": events,
    }


def azure_sleeper_document() -> dict[str, Any]:
    """The sleeper: its TimerCreated is stamped 30 ms after the episode began (FireAt counts from the start)."""
    events = [
        {"EventType": "ExecutionStarted", "Timestamp": at(0), "Input": None, "FunctionName": "sleeper"},
        {"EventType": "TimerCreated", "FireAt": at(300), "Timestamp": at(0.03)},
        {"EventType": "TimerFired", "FireAt": at(300), "Timestamp": at(300.5)},
        {
            "EventType": "TaskCompleted",
            "Result": "Hello awake!",
            "Timestamp": at(302),
            "ScheduledTime": at(300.52),
            "FunctionName": "hello",
            "Input": '"awake"',
        },
        {
            "EventType": "ExecutionCompleted",
            "OrchestrationStatus": "Completed",
            "Result": "Hello awake!",
            "Timestamp": at(302.05),
        },
    ]
    return {"name": "sleeper", "instanceId": "az2", "runtimeStatus": "Completed", "input": None, "historyEvents": events}


@pytest.mark.parametrize(
    "name, raised",
    [
        ("chain", ()),
        ("sleeper", ()),
        ("fan", ()),
        ("retrying", ()),
        ("parent", ()),
        ("counter", ()),
        ("approval", (("Approve", {"by": "ann"}),)),
        ("approval", ()),
        ("greet", ()),
        ("boom", ()),
    ],
)
def test_status_document_of_a_devhost_run_replays(base_registry, base_target, name, raised):
    input_value = {"counter": 0, "greet": "Ann"}.get(name)
    raw, driver = record(base_registry, name, input_value, raise_events=raised)
    recording = parse_document(status_document(driver, "i1"))

    result = check(recording, base_target)

    assert result.ok, result.line()
    assert recording.timeline is not None
    assert result.episodes <= check(raw, base_target).episodes


def test_status_document_of_a_chain_fails_on_a_renamed_activity(base_registry, variant_target):
    _, driver = record(base_registry, "chain")
    recording = parse_document(status_document(driver, "i1"))

    result = check(recording, variant_target("renamed_activity"))

    assert result.line() == (
        "FAIL i1 chain: episode 2, decision 0: expected activity 'shout' (TaskScheduled), "
        "got activity 'whisper' (TaskScheduled #1)"
    )


def test_status_document_of_a_timer_fails_when_the_timer_changes(base_registry, variant_target):
    _, driver = record(base_registry, "sleeper")
    recording = parse_document(status_document(driver, "i1"))

    result = check(recording, variant_target("longer_timer"))

    assert result.mismatch is not None
    assert (result.mismatch.episode, result.mismatch.index) == (1, 0)
    assert (
        "expected timer firing at 2030-01-01T00:05:00Z (TimerCreated), "
        "got timer firing at 2030-01-01T00:10:00Z (TimerCreated #0)" in result.line()
    )


def test_status_document_of_a_timer_fails_when_a_step_is_added_after_it(base_registry, variant_target):
    _, driver = record(base_registry, "chain")
    recording = parse_document(status_document(driver, "i1"))

    result = check(recording, variant_target("added_step"))

    assert result.mismatch is not None and result.mismatch.episode == 4
    assert result.mismatch.actual is not None and result.mismatch.actual.name == "shout"


def test_azure_shaped_chain_replays_with_times_a_few_milliseconds_apart(base_target):
    result = check(parse_document(azure_chain_document()), base_target)

    assert result.ok, result.line()
    assert result.episodes == 4


def test_azure_shaped_chain_tells_a_chain_from_a_fan_out_by_the_schedule_times(variant_target):
    result = check(parse_document(azure_chain_document()), variant_target("chain_as_fan"))

    assert result.mismatch is not None
    assert (result.mismatch.episode, result.mismatch.index) == (1, 1)
    assert result.mismatch.expected is None
    assert result.mismatch.actual is not None and result.mismatch.actual.name == "shout"


def test_azure_shaped_timer_matches_within_the_tolerance_only(base_target):
    recording = parse_document(azure_sleeper_document())

    assert check(recording, base_target).ok
    strict = check(recording, base_target, time_tolerance=timedelta(0))
    assert strict.mismatch is not None and strict.mismatch.episode == 1
    assert "got timer firing at 2030-01-01T00:05:00.03Z" in strict.line()


def test_bare_history_events_list_takes_name_from_execution_started_and_id_from_the_file(base_target):
    events = azure_chain_document()["historyEvents"]

    recording = parse_document(events, default_id="saved-az1")

    assert (recording.instance_id, recording.name) == ("saved-az1", "chain")
    assert check(recording, base_target).ok


def test_status_document_without_results_is_refused_with_the_flag_to_use(base_registry):
    from devhost.http.payloads import shape_history, status_payload

    _, driver = record(base_registry, "chain")
    document = status_payload(driver.status("i1"), history=shape_history(driver.history("i1")))

    with pytest.raises(RecordingError, match="showHistoryOutput=true"):
        parse_document(document)


def test_status_document_without_history_is_refused_with_the_flag_to_use():
    document = {k: v for k, v in azure_chain_document().items() if k != "historyEvents"}

    with pytest.raises(RecordingError, match=r"showHistory=true"):
        parse_document(document)


def test_completion_whose_schedule_is_missing_is_refused():
    document = azure_chain_document()
    del document["historyEvents"][1]["FunctionName"]

    with pytest.raises(RecordingError, match="no FunctionName"):
        parse_document(document)
