"""The replay checker on raw histories: same code replays, changed code fails at the first diverging decision."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from devhost.core import events
from devhost.core.model import EventType, Message, RuntimeStatus
from devhost.replay.check import check
from devhost.replay.model import Recording, ReplayTarget
from devhost.replay.raw import split_episodes
from tests.replay.apps import driver_for, record

RECORDED = [
    "chain-0",
    "fan-1",
    "sleeper-2",
    "retrying-3",
    "parent-4",
    "approval-5",
    "approval-6",
    "counter-7",
    "greet-8",
    "boom-9",
]


def by_id(recordings: list[Recording], instance_id: str) -> Recording:
    return next(r for r in recordings if r.instance_id == instance_id)


@pytest.mark.parametrize("instance_id", RECORDED)
def test_recording_replays_against_the_code_that_made_it(recordings, base_target, instance_id):
    recording = by_id(recordings, instance_id)

    result = check(recording, base_target)

    assert result.ok, result.line()
    assert result.episodes == len(split_episodes(recording.history))
    assert result.line().startswith(f"OK   {instance_id} {recording.name} (")


@pytest.mark.parametrize(
    "variant, instance_id, where, expected, got",
    [
        (
            "renamed_activity",
            "chain-0",
            "episode 2, decision 0",
            "activity 'shout' (TaskScheduled #1)",
            "activity 'whisper' (TaskScheduled #1)",
        ),
        (
            "inserted_timer",
            "chain-0",
            "episode 2, decision 0",
            "activity 'shout' (TaskScheduled #1)",
            "timer firing at 2030-01-01T00:00:10Z (TimerCreated #1)",
        ),
        (
            "removed_step",
            "chain-0",
            "episode 2, decision 0",
            "activity 'shout' (TaskScheduled #1)",
            "activity 'hello' (TaskScheduled #1)",
        ),
        (
            "added_step",
            "chain-0",
            "episode 4, decision 0",
            "the orchestration ending Completed (ExecutionCompleted)",
            "activity 'shout' (TaskScheduled #3)",
        ),
        (
            "longer_timer",
            "sleeper-2",
            "episode 1, decision 0",
            "timer firing at 2030-01-01T00:05:00Z (TimerCreated #0)",
            "timer firing at 2030-01-01T00:10:00Z (TimerCreated #0)",
        ),
        (
            "retry_removed",
            "retrying-3",
            "episode 2, decision 0",
            "timer firing at 2030-01-01T00:00:01Z (TimerCreated #1)",
            "the orchestration failing (Orchestrator function 'retrying' failed: Activity function 'flaky' failed",
        ),
        (
            "chain_removed",
            "chain-0",
            "episode 1, decision 0",
            "activity 'hello' (TaskScheduled #0)",
            "the orchestration failing (Orchestrator function 'chain' failed: The function 'chain' doesn't exist",
        ),
        ("fan_to_chain", "fan-1", "episode 1, decision 1", "activity 'hello' (TaskScheduled #1)", "nothing"),
        (
            "counter_never_ends",
            "counter-7",
            "episode 1, decision 0",
            "the orchestration ending Completed (ExecutionCompleted)",
            "continue-as-new",
        ),
    ],
)
def test_changed_code_fails_at_the_first_diverging_decision(
    recordings, variant_target, variant, instance_id, where, expected, got
):
    result = check(by_id(recordings, instance_id), variant_target(variant))

    assert not result.ok
    line = result.line()
    assert line.startswith(f"FAIL {instance_id} ")
    assert f"{where}: expected {expected}, got " in line
    assert line.split(", got ", 1)[1].startswith(got)


def test_code_that_replays_differently_is_reported_as_non_deterministic(recordings, variant_target):
    result = check(by_id(recordings, "chain-0"), variant_target("replays_differently"))

    assert result.mismatch is not None
    assert result.mismatch.episode == 2
    assert result.mismatch.expected is not None and result.mismatch.expected.name == "shout"
    assert result.mismatch.actual is not None and result.mismatch.actual.status == "Failed"
    assert "Non-deterministic workflow detected" in result.line()


def test_a_change_to_one_orchestrator_leaves_the_others_passing(recordings, variant_target):
    target = variant_target("renamed_activity")

    results = {r.instance_id: check(r, target) for r in recordings}

    assert not results["chain-0"].ok
    assert [i for i, r in results.items() if not r.ok] == ["chain-0"]


def test_mismatch_reports_the_episodes_replayed_so_far(recordings, variant_target):
    result = check(by_id(recordings, "chain-0"), variant_target("added_step"))

    assert result.mismatch is not None
    assert result.episodes == result.mismatch.episode == 4


def test_the_instance_input_reaches_the_orchestrator(recordings, base_target):
    recorded = by_id(recordings, "greet-8")
    assert check(recorded, base_target).ok

    # With another input, the same history no longer matches: the first episode now completes at once.
    other = replace(recorded, input=json.dumps(json.dumps("nobody")))
    result = check(other, base_target)

    assert result.mismatch is not None
    assert (result.mismatch.episode, result.mismatch.index) == (1, 0)
    assert result.mismatch.actual is not None and result.mismatch.actual.kind == "ExecutionCompleted"


def test_a_sub_orchestration_child_history_replays(base_registry, base_target):
    _, driver = record(base_registry, "parent", instance_id="p1")
    child_id = next(i for i, inst in driver.instances.items() if inst.parent_instance_id == "p1")
    child = driver.status(child_id)
    recording = Recording(child_id, child.name, child.input, tuple(driver.history(child_id)))

    result = check(recording, base_target)

    assert result.ok, result.line()
    assert result.episodes == 4


def test_a_recording_of_an_unfinished_instance_replays_as_far_as_it_goes(base_registry, base_target):
    driver = driver_for(base_registry)
    driver.start("approval", instance_id="a1")
    driver.turn("a1")  # waits for the event or the timer
    recording = Recording("a1", "approval", None, tuple(driver.history("a1")))

    result = check(recording, base_target)

    assert result.ok and result.episodes == 1


def test_history_without_execution_started_is_an_error_not_a_crash(recordings, base_target):
    recorded = by_id(recordings, "chain-0")
    broken = replace(recorded, history=tuple(e for e in recorded.history if e["EventType"] != EventType.EXECUTION_STARTED))

    result = check(broken, base_target)

    assert result.error == "the history has no ExecutionStarted event"
    assert result.line().startswith("ERROR chain-0 chain: ")


def test_an_unknown_event_type_is_an_error(recordings, base_target):
    recorded = by_id(recordings, "chain-0")
    broken = replace(recorded, history=recorded.history + ({"EventType": 99, "EventId": -1, "Timestamp": "x"},))

    result = check(broken, base_target)

    assert result.error is not None and "99" in result.error


def test_a_recording_marked_for_skipping_is_reported_as_skipped(base_target):
    result = check(Recording("p", "chain", None, skip_reason="no history yet (Pending)"), base_target)

    assert result.ok and result.skipped == "no history yet (Pending)"
    assert result.line() == "SKIP p chain: no history yet (Pending)"


def test_replay_target_does_not_run_activities(recordings, base_registry):
    def refuse(**_kwargs):
        raise AssertionError("an activity ran during replay")

    activities = {name: replace(fn, fn=refuse) for name, fn in base_registry.activities.items()}
    target = ReplayTarget(replace(base_registry, activities=activities))

    assert check(by_id(recordings, "chain-0"), target).ok


def test_a_terminated_instance_replays_up_to_and_including_its_termination(base_registry, base_target):
    driver = driver_for(base_registry)
    driver.start("waiter", instance_id="w1")
    driver.turn("w1")
    driver.send(Message("w1", events.execution_terminated(driver.now, "enough"), driver.now))
    driver.run()
    recording = Recording("w1", "waiter", None, tuple(driver.history("w1")))

    result = check(recording, base_target)

    assert driver.status("w1").runtime_status is RuntimeStatus.TERMINATED
    assert result.ok and result.episodes == 2
