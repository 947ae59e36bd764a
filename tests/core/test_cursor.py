"""The engine's per-execution cursor survives its JSON round trip (it is rewritten on every turn)."""

from __future__ import annotations

import dataclasses
import json

from devhost.core.cursor import Cursor, RetryState


def _cursor() -> Cursor:
    retry = RetryState("suborchestrator", "child", '"in"', 250, 3, attempts=2, task_id=4, timer_id=5,
                       instance_id="c1", version="v2")  # fmt: skip
    return Cursor(next_seq=6, seen=[["activity:a", 0], ["event:go", None]], retries=[retry], open_timers=[1, 3])


def test_cursor_round_trips_through_its_json() -> None:
    cursor = _cursor()

    assert Cursor.loads(cursor.dumps()) == cursor


def test_cursor_json_holds_every_field_of_the_dataclasses() -> None:
    cursor = _cursor()

    assert json.loads(cursor.dumps()) == dataclasses.asdict(cursor)


def test_empty_or_missing_cursor_text_is_a_fresh_cursor() -> None:
    assert Cursor.loads(None) == Cursor()
    assert Cursor.loads(Cursor().dumps()) == Cursor()
