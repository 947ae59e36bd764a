"""devhost.core.notifications: which transitions a turn reports, the event body, publishEventTypes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from devhost.core.model import Instance, RuntimeStatus, TurnCommit
from devhost.core.notifications import (
    UNSUPPORTED_EVENT_TYPES,
    Transition,
    event_grid_body,
    parse_publish_event_types,
    turn_transitions,
)

T0 = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)


def commit_to(status: RuntimeStatus, output: str | None = None) -> TurnCommit:
    return TurnCommit(Instance("i", "orch", "e", status, T0, T0, output=output))


@pytest.mark.parametrize(
    ("before", "after", "ran", "first", "expected"),
    [
        (RuntimeStatus.PENDING, RuntimeStatus.RUNNING, True, True, [Transition("Running")]),
        (RuntimeStatus.PENDING, RuntimeStatus.COMPLETED, True, True, [Transition("Running"), Transition("Completed")]),
        (RuntimeStatus.RUNNING, RuntimeStatus.RUNNING, True, False, []),
        (RuntimeStatus.RUNNING, RuntimeStatus.COMPLETED, True, False, [Transition("Completed")]),
        (RuntimeStatus.RUNNING, RuntimeStatus.CONTINUED_AS_NEW, True, False, [Transition("Completed")]),
        (RuntimeStatus.CONTINUED_AS_NEW, RuntimeStatus.RUNNING, True, True, [Transition("Running")]),
        (RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED, False, False, []),
        (RuntimeStatus.PENDING, RuntimeStatus.FAILED, False, True, []),  # no such orchestrator: the extension sends nothing
    ],
)
def test_transitions_follow_the_extensions_calls(
    before: RuntimeStatus, after: RuntimeStatus, ran: bool, first: bool, expected: list[Transition]
) -> None:
    assert turn_transitions(before, commit_to(after), orchestrator_ran=ran, first_episode=first) == expected


def test_failed_and_terminated_carry_their_reason() -> None:
    failed = turn_transitions(
        RuntimeStatus.RUNNING, commit_to(RuntimeStatus.FAILED, json.dumps("it broke")), orchestrator_ran=True, first_episode=False
    )
    terminated = turn_transitions(
        RuntimeStatus.RUNNING,
        commit_to(RuntimeStatus.TERMINATED, json.dumps("stop")),
        orchestrator_ran=False,
        first_episode=False,
    )

    assert failed == [Transition("Failed", "it broke")]
    assert terminated == [Transition("Terminated", "stop")]


def test_the_body_is_the_extensions_event_array() -> None:
    body = event_grid_body(
        event_id="id-1", hub_name="Hub", function_name="orch", instance_id="i", transition=Transition("Completed"), event_time=T0
    )

    assert json.loads(body) == [
        {
            "id": "id-1",
            "topic": None,
            "subject": "durable/orchestrator/Completed",
            "data": {"hubName": "Hub", "functionName": "orch", "instanceId": "i", "reason": "", "runtimeStatus": "Completed"},
            "eventType": "orchestratorEvent",
            "eventTime": "2030-01-02T03:04:05.1234560Z",
            "metadataVersion": None,
            "dataVersion": "1.0",
        }
    ]


def test_publish_event_types_map_started_to_running_and_default_to_all() -> None:
    assert parse_publish_event_types([]) == {"Running", "Completed", "Failed", "Terminated"}
    assert parse_publish_event_types(["Started", "Failed"]) == {"Running", "Failed"}


@pytest.mark.parametrize("name", ["Pending", "ContinuedAsNew", "Canceled", "completed", "Whatever"])
def test_publish_event_types_reject_what_the_extension_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="Unsupported event types"):
        parse_publish_event_types([name])
    assert UNSUPPORTED_EVENT_TYPES.startswith("Failed to start lifecycle notification feature.")
