"""The monitor's orchestrations run on devhost's real pieces (tests/inline.py), summarised for assertions.

:func:`run_orchestration` starts the orchestrator as the HTTP starter does, runs it to the end on the pure
core, the in-memory store and the invoker, with timers firing on the test's fake time, and returns a
:class:`Run`: the outcome, every episode the SDK saw, one history per generation (continue-as-new), the
activity calls, the timers and the custom statuses as they were published.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from devhost.core.context import context_input
from devhost.core.model import EventType, HistoryEvent, Instance
from devhost.runtime.registry import ActivityFunction
from tests.inline import InlineHost, TimeSource, shared_invoker


@dataclass
class Episode:
    context_json: str
    state_json: str

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.state_json)


@dataclass
class History:
    """One execution (generation): the input its context received and its history events."""

    input_text: str | None
    events: list[HistoryEvent]

    @classmethod
    def of(cls, instance: Instance, events: list[HistoryEvent]) -> History:
        value = context_input(instance)
        return cls(value if value is None or isinstance(value, str) else json.dumps(value), events)


@dataclass
class Run:
    status: str = "Running"
    """``Completed`` or ``Failed``."""
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    episodes: list[Episode] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)
    """One per generation (execution), the last one included."""
    activity_calls: list[tuple[str, Any]] = field(default_factory=list)
    timers: list[str] = field(default_factory=list)
    custom_statuses: list[Any] = field(default_factory=list)


def call_activity(activity: ActivityFunction, input_text: str) -> str:
    """Run an activity as the host does (the invoker: the worker's JSON decoding and encoding)."""
    return asyncio.run(shared_invoker().call_activity(activity, input_text))


def run_orchestration(
    handle: Callable[[str], str],
    activities: dict[str, ActivityFunction],
    clock: TimeSource,
    *,
    name: str,
    instance_id: str,
    input_value: Any,
    max_episodes: int = 5000,
) -> Run:
    host = InlineHost({name: handle}, activities, clock)
    host.start(name, input_value, instance_id=instance_id)
    host.run(max_turns=max_episodes)
    instance = host.status(instance_id)
    run = Run(status=instance.runtime_status.value)
    if instance.runtime_status.value == "Completed":
        run.output = None if instance.output is None else json.loads(instance.output)
    elif instance.output is not None:
        run.error = json.loads(instance.output)
    run.custom_status = None if instance.custom_status is None else json.loads(instance.custom_status)
    run.episodes = [Episode(context, state) for context, state in host.episodes]
    for episode in run.episodes:
        state = episode.state if episode.state_json else {}
        if "customStatus" in state:
            run.custom_statuses.append(state["customStatus"])
    run.histories = [History.of(g.instance, g.history) for g in host.generations]
    run.histories.append(History.of(instance, host.history(instance_id)))
    run.activity_calls = [(called, json.loads(text or "null")) for called, text in host.activity_calls]
    run.timers = [
        event["FireAt"]
        for commit in host.commits
        for event in commit.new_history
        if event["EventType"] == EventType.TIMER_CREATED
    ]
    for commit in host.commits:
        if commit.instance.runtime_status.value == "Running":
            new = [e for e in commit.new_history if e["EventType"] in (EventType.TASK_SCHEDULED, EventType.TIMER_CREATED)]
            assert len(new) == 1, f"the monitor waits on exactly one task at a time, got {new}"
    return run
