"""The SDK's context payload: stored event texts spliced in give the same JSON as serialising the events."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from devhost.core import events
from devhost.core.context import ReplaySettings, build_context, mark_played
from devhost.core.model import Instance, RuntimeStatus, Turn, event_json

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _instance() -> Instance:
    return Instance("i1", "orch", "e1", RuntimeStatus.RUNNING, T0, T0, input=json.dumps({"job": "\u00e9"}))


def _played() -> list:
    return mark_played([
        events.orchestrator_started(T0),
        events.execution_started(T0, instance_id="i1", execution_id="e1", name="orch", input_text='"x"'),
        events.task_scheduled(T0, 0, "check", '{"n": 1}'),
        events.orchestrator_completed(T0),
    ])  # fmt: skip


def test_context_with_stored_texts_is_the_compact_json_of_the_whole_payload() -> None:
    played = _played()
    new = [events.orchestrator_started(T0 + timedelta(seconds=1)), events.task_completed(T0, 0, '"\u00fcber"')]

    text = build_context(_instance(), [event_json(e) for e in played], new, ReplaySettings())

    payload = json.loads(text)
    assert payload["history"] == played + new
    assert payload["instanceId"] == "i1"
    assert payload["input"] == {"job": "\u00e9"}
    assert text == json.dumps(payload, separators=(",", ":"))


def test_context_of_a_first_episode_has_only_the_new_events() -> None:
    new = [events.orchestrator_started(T0)]

    payload = json.loads(build_context(_instance(), [], new, ReplaySettings()))

    assert payload["history"] == new


def test_event_json_of_a_parsed_stored_text_is_that_text() -> None:
    texts = [event_json(e) for e in _played()]

    assert [event_json(json.loads(t)) for t in texts] == texts


def test_turn_parses_its_history_texts_on_demand() -> None:
    played = _played()

    turn = Turn.of_events(_instance(), played, [])

    assert turn.history_json == [event_json(e) for e in played]
    assert turn.history == played
