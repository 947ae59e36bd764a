"""A tiny test-only host: drives an orchestrator through the real SDK replay loop.

Each episode calls the SDK's ``handle(context_json) -> state_json``, schedules the *new* actions
(the SDK re-emits every action so far; new ones are the tail of the flattened list), runs the
activity through the registered user function with the same converters the worker uses (or
fires the timer on the fake clock), appends the completion to the history and replays again,
until ``isDone``. ``continue_as_new`` starts a fresh history with the action's input.
The real host is devhost; this only covers what the monitor needs (one open task at a time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import azure.functions as func
from azure.functions.durable_functions import ActivityTriggerConverter

from .history import History

CALL_ACTIVITY = 0
CONTINUE_AS_NEW = 4
CREATE_TIMER = 5
OUT_OF_PROC = "\n\n$OutOfProcData$:"


class FakeTime:
    """Stands in for the ``time`` module inside ``job_monitor.clock``: ``sleep`` advances it."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self.sleeps: List[float] = []

    def time(self) -> float:
        return self._now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


@dataclass
class Activity:
    fn: Callable[..., Any]
    input_name: str


@dataclass
class Episode:
    context_json: str
    state_json: str

    @property
    def state(self) -> Dict[str, Any]:
        return json.loads(self.state_json)


@dataclass
class Run:
    status: str = "Running"
    """``Completed`` or ``Failed``."""
    output: Any = None
    error: Optional[str] = None
    custom_status: Any = None
    episodes: List[Episode] = field(default_factory=list)
    histories: List[History] = field(default_factory=list)
    """One per generation (execution), the last one included."""
    activity_calls: List[Tuple[str, Any]] = field(default_factory=list)
    timers: List[str] = field(default_factory=list)
    custom_statuses: List[Any] = field(default_factory=list)


def flatten(actions: List[Any]) -> List[Dict[str, Any]]:
    flat: List[Dict[str, Any]] = []
    for item in actions:
        if isinstance(item, list):
            flat.extend(flatten(item))
        elif "compoundActions" in item:
            flat.extend(flatten(item["compoundActions"]))
        else:
            flat.append(item)
    return flat


def call_activity(activity: Activity, input_text: str) -> str:
    """Run an activity like the worker does: decode the JSON input, encode the result."""
    value = ActivityTriggerConverter.decode(func.meta.Datum(input_text, "json"), trigger_metadata=None)
    result = activity.fn(**{activity.input_name: value})
    return ActivityTriggerConverter.encode(result, expected_type=None).value


def run_orchestration(
    handle: Callable[[str], str],
    activities: Mapping[str, Activity],
    clock: FakeTime,
    *,
    name: str,
    instance_id: str,
    input_value: Any,
    max_episodes: int = 5000,
) -> Run:
    run = Run()
    history = History(instance_id, name, json.dumps(input_value), clock.now())
    run.histories.append(history)
    seen = 0  # flattened actions already scheduled in this execution
    seq = 0  # next task sequence number (EventId) in this execution
    for _ in range(max_episodes):
        context_json = history.context_json()
        try:
            state_json = handle(context_json)
        except Exception as exc:  # SDK failure protocol: message + state after the marker
            message, _, state_json = str(exc).partition(OUT_OF_PROC)
            run.episodes.append(Episode(context_json, state_json))
            run.status, run.error = "Failed", message
            return run
        run.episodes.append(Episode(context_json, state_json))
        state = json.loads(state_json)
        if "customStatus" in state:
            run.custom_status = state["customStatus"]
            run.custom_statuses.append(state["customStatus"])
        flat = flatten(state.get("actions", []))
        new, seen = flat[seen:], len(flat)
        now = clock.now()
        if state.get("isDone"):
            if new and new[-1]["actionType"] == CONTINUE_AS_NEW:
                history.orchestrator_completed(now)
                history = History(instance_id, name, new[-1]["input"], now)
                run.histories.append(history)
                seen = seq = 0
                continue
            history.orchestrator_completed(now)
            run.status, run.output = "Completed", state.get("output")
            return run
        assert len(new) == 1, f"the monitor waits on exactly one task at a time, got {new}"
        action = new[0]
        task_id, seq = seq, seq + 1
        if action["actionType"] == CALL_ACTIVITY:
            history.task_scheduled(task_id, action["functionName"], action["input"], now)
            history.orchestrator_completed(now)
            run.activity_calls.append((action["functionName"], json.loads(action["input"])))
            activity = activities[action["functionName"]]
            try:
                result_text = call_activity(activity, action["input"])
            except Exception as exc:
                done = clock.now()
                history.orchestrator_started(done)
                history.task_failed(task_id, f"Activity function '{action['functionName']}' failed: {exc}",
                                    repr(exc), done)
                continue
            done = clock.now()
            history.orchestrator_started(done)
            history.task_completed(task_id, result_text, done)
        elif action["actionType"] == CREATE_TIMER:
            fire_at = action["fireAt"]
            history.timer_created(task_id, fire_at, now)
            history.orchestrator_completed(now)
            run.timers.append(fire_at)
            clock.advance_to(datetime.fromisoformat(fire_at).replace(tzinfo=timezone.utc))
            history.orchestrator_started(clock.now())
            history.timer_fired(task_id, fire_at, clock.now())
        else:
            raise AssertionError(f"unexpected action {action}")
    raise AssertionError(f"orchestration not done after {max_episodes} episodes")
