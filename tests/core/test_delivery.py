"""Activity results that arrived but are not stored yet join a turn's messages as a store would deliver them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devhost.core import events
from devhost.core.delivery import with_arriving
from devhost.core.model import Message, RuntimeStatus

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def result(task_id: int, when: datetime, execution_id: str = "e1") -> Message:
    return Message("i1", events.task_completed(when, task_id, '"done"'), when, execution_id)


def stored(message_id: int, when: datetime) -> Message:
    return Message("i1", events.event_raised(when, "go", None), when, None, message_id)


def ids(messages: list[Message]) -> list[int | None]:
    return [m.id for m in messages]


def test_results_come_after_stored_messages_of_the_same_time_and_in_time_order_otherwise() -> None:
    queued = [stored(7, at(1)), stored(9, at(3))]
    arriving = [(21, result(0, at(3))), (20, result(1, at(1))), (22, result(2, at(0)))]

    merged = with_arriving(RuntimeStatus.RUNNING, "e1", queued, arriving, at(5))

    assert ids(merged) == [-22, 7, -20, 9, -21]
    assert [m.event for m in merged if m.id == -21] == [arriving[0][1].event]


def test_results_the_instance_may_not_receive_now_stay_out() -> None:
    arriving = [(1, result(0, at(1), execution_id="old")), (2, result(1, at(9))), (3, result(2, at(1)))]

    running = with_arriving(RuntimeStatus.RUNNING, "e1", [], arriving, at(5))
    suspended = with_arriving(RuntimeStatus.SUSPENDED, "e1", [], arriving, at(5))

    assert ids(running) == [-3]  # not another execution's, not one from the future
    assert suspended == []


def test_a_delivered_result_is_a_copy_the_turn_may_change() -> None:
    arriving = [(4, result(0, at(1)))]

    [delivered] = with_arriving(RuntimeStatus.RUNNING, "e1", [], arriving, at(1))
    delivered.event["IsPlayed"] = True

    assert arriving[0][1].event["IsPlayed"] is False
    assert arriving[0][1].id is None
