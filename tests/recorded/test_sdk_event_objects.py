"""Stored history events built once (devhost.runtime.sdk_hotpaths.ContextJson.history_events) are what the SDK's
``HistoryEvent(**event)`` builds from the payload, episode after episode, and are built afresh whenever handing the
kept one on could show: the time zone changed, it holds something nested, or the shim is not what the context module
calls ``HistoryEvent``.
"""

from __future__ import annotations

import json
import time
import types
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from azure.durable_functions.models.history.HistoryEvent import HistoryEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from devhost.core.context import ReplaySettings, build_context
from devhost.core.events import format_timestamp
from devhost.core.model import Instance, RuntimeStatus, event_json
from devhost.runtime import sdk_hotpaths

MOMENT = datetime(2030, 1, 1, tzinfo=timezone.utc)
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {
            "EventType": st.integers(0, 20),
            "EventId": st.integers(-1, 50),
            "IsPlayed": st.booleans(),
            "Timestamp": st.integers(0, 10**9).map(lambda ms: format_timestamp(MOMENT + timedelta(milliseconds=ms))),
        },
        optional={
            "Name": st.text(max_size=8),
            "Result": SCALARS,
            "TaskScheduledId": st.integers(-1, 50),
            "ParentInstance": st.dictionaries(st.text(max_size=4), SCALARS, max_size=2),
        },
    ),
    max_size=6,
)


def bound_shim() -> tuple[sdk_hotpaths.ContextJson, types.ModuleType]:
    """A shim and a stand-in for the SDK's context module that calls the shim's factory ``HistoryEvent``."""
    module = types.ModuleType("context")
    shim = sdk_hotpaths.ContextJson(json, module=module)
    module.HistoryEvent = shim.history_events(HistoryEvent)  # type: ignore[attr-defined]
    return shim, module


def payload(played: list[dict[str, Any]], new: list[dict[str, Any]] | None = None) -> str:
    instance = Instance("id-1", "orchestrator", "execution", RuntimeStatus.RUNNING, MOMENT, MOMENT)
    return build_context(instance, [event_json(e) for e in played], new or [], ReplaySettings())


def episode(shim: sdk_hotpaths.ContextJson, module: types.ModuleType, text: str) -> list[Any]:
    """What DurableOrchestrationContext.__init__ does with the payload (azure-functions-durable 1.7.0, line 61)."""
    return [module.HistoryEvent(**he) for he in shim.loads(text)["history"]]


def fresh(text: str) -> list[HistoryEvent]:
    return [HistoryEvent(**he) for he in json.loads(text)["history"]]


def described(events: list[Any]) -> list[tuple[Any, ...]]:
    return [(type(e), {k: (v, type(v), getattr(v, "tzinfo", None)) for k, v in vars(e).items()}) for e in events]


STORED = {"EventType": 4, "EventId": 0, "IsPlayed": True, "Timestamp": format_timestamp(MOMENT), "Name": "check"}
NESTED = {**STORED, "EventId": 1, "ParentInstance": {"InstanceId": "p"}}
NEW = {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": format_timestamp(MOMENT)}


@settings(max_examples=150, deadline=None)
@given(played=EVENTS, new=EVENTS)
def test_every_episode_gets_the_events_the_sdk_would_build(played: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    shim, module = bound_shim()
    text = payload(played, new)

    episodes = [episode(shim, module, text) for _ in range(3)]  # the second and third from what was kept

    for events in episodes:
        assert described(events) == described(fresh(text))


def test_a_stored_event_of_scalars_is_built_once_and_others_every_episode() -> None:
    shim, module = bound_shim()
    text = payload([STORED, NESTED], [NEW])

    first, second = episode(shim, module, text), episode(shim, module, text)

    assert second[0] is first[0]
    assert second[1] is not first[1] and second[1].ParentInstance is not first[1].ParentInstance
    assert second[2] is not first[2]


def test_without_the_factory_bound_the_payload_is_plain_events() -> None:
    shim, module = bound_shim()
    text = payload([STORED], [NEW])
    episode(shim, module, text)

    module.HistoryEvent = HistoryEvent  # type: ignore[attr-defined]  # uninstalled
    parsed = shim.loads(text)

    assert parsed == json.loads(text)
    assert described(episode(shim, module, text)) == described(fresh(text))


def test_an_event_the_sdk_refuses_raises_its_error_every_episode() -> None:
    shim, module = bound_shim()
    text = payload([{k: v for k, v in STORED.items() if k != "Timestamp"}])

    errors = []
    for _ in range(2):
        with pytest.raises(TypeError) as caught:
            episode(shim, module, text)
        errors.append(str(caught.value))

    with pytest.raises(TypeError) as sdk:
        fresh(text)
    assert errors == [str(sdk.value)] * 2


def test_the_factory_builds_any_other_call_with_the_sdk_class() -> None:
    _, module = bound_shim()

    event = module.HistoryEvent(EventType=4, EventId=0, IsPlayed=True, Timestamp=format_timestamp(MOMENT))

    assert type(event) is HistoryEvent and module.HistoryEvent.__wrapped__ is HistoryEvent


def test_a_zone_change_builds_the_events_again(monkeypatch: pytest.MonkeyPatch) -> None:
    text = payload([STORED])
    try:
        monkeypatch.setenv("TZ", "UTC0")
        time.tzset()
        shim, module = bound_shim()
        before = episode(shim, module, text)
        monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
        time.tzset()
        after = episode(shim, module, text)
        plain = fresh(text)
    finally:
        monkeypatch.undo()
        time.tzset()

    assert after[0] is not before[0]
    assert described(after) == described(plain)
