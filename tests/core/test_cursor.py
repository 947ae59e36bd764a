"""The engine's per-execution cursor survives its JSON round trip (it is rewritten on every turn), and the memo of
written cursors gives each load its own copy and the text a parse would."""

from __future__ import annotations

import copy
import dataclasses
import json

from devhost.core import cursor as cursor_module
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


# --- the memo of written cursors (a turn loads the text the previous turn wrote) ------------------------------


def _encoded(cursor: Cursor) -> str:
    """What the whole-object compact encoding gives: the text dumps must write, memo or not."""
    return json.dumps(dataclasses.asdict(cursor), separators=(",", ":"))


def test_a_written_text_loads_as_the_cursor_it_was_written_from_even_after_that_cursor_changes() -> None:
    cursor = _cursor()
    text = cursor.dumps()
    written = copy.deepcopy(cursor)

    cursor.seen.append(["timer", 6])
    cursor.retries[0].attempts = 3
    cursor.open_timers.remove(1)
    cursor.next_seq = 9

    assert Cursor.loads(text) == written


def test_changing_a_loaded_cursor_leaks_into_no_later_load_of_the_same_text() -> None:
    text = _cursor().dumps()

    first = Cursor.loads(text)
    first.seen.append(["timer", 6])
    first.retries[0].timer_id = 8
    first.open_timers.append(6)
    first.next_seq = 7

    assert Cursor.loads(text) == _cursor()
    assert Cursor.loads(text) == _cursor()  # also once the memo has given its entry away


def test_a_text_the_memo_does_not_know_is_parsed() -> None:
    text = _cursor().dumps()
    cursor_module._MEMO.clear()

    assert Cursor.loads(text) == _cursor()


def test_a_loaded_cursor_writes_the_same_text_as_a_parsed_one_whatever_it_appended() -> None:
    for appended in (0, 1, 3):
        loaded = Cursor.loads(_cursor().dumps())
        for n in range(appended):
            loaded.seen.append([f"activity:b{n}", loaded.take_seq()])
        loaded.retries.clear()
        loaded.open_timers.append(12)

        text = loaded.dumps()

        assert text == _encoded(loaded)
        cursor_module._MEMO.clear()
        assert Cursor.loads(text) == loaded


def test_a_loaded_cursor_whose_pairs_were_replaced_encodes_them_afresh() -> None:
    loaded = Cursor.loads(_cursor().dumps())
    loaded.seen.pop()
    loaded.seen.append(["timer", 9])  # as long as before, but not the same pairs: the remembered JSON is stale

    assert loaded.dumps() == _encoded(loaded)
    loaded.seen.clear()
    assert loaded.dumps() == _encoded(loaded)


def test_an_empty_cursor_loaded_from_the_memo_writes_what_a_fresh_one_does() -> None:
    loaded = Cursor.loads(Cursor().dumps())
    assert loaded.dumps() == _encoded(Cursor())
    loaded.seen.append(["timer", 0])
    assert loaded.dumps() == _encoded(loaded)


def test_the_memo_is_bounded() -> None:
    for n in range(cursor_module.MEMO_SIZE + 5):
        Cursor(next_seq=n).dumps()

    assert len(cursor_module._MEMO) <= cursor_module.MEMO_SIZE
