"""A cancelled timer's TimerFired is still delivered and recorded in the history.

``timer.cancel()`` only sets ``isCanceled`` on the SDK's CreateTimer action. The extension creates the DTFx timer of
every CreateTimer action and cancels just its in-process task (OutOfProcOrchestrationShim.cs lines 127-132:
``CreateTimer(action.FireAt, cts.Token)`` then ``cts.Cancel()``), so the backend's TimerFired message stays queued,
is delivered when due and is appended to the history; the SDK finds the timer task and nothing resumes
(TaskOrchestrationExecutor.py ``set_task_value``). Once the instance has finished, the message is discarded.
"""

from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df

from devhost.core.model import EventType, RuntimeStatus
from devhost.replay.check import check
from devhost.replay.model import Recording
from devhost.replay.sources import target_for_registry
from devhost.runtime.registry import FunctionRegistry, OrchestratorFunction
from tests.inline import T0, InlineHost, orchestrator_handles

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def approve_then_wait(context: df.DurableOrchestrationContext):
    """Race an approval against a one-hour deadline, then wait (beyond the deadline) for "Done"."""
    deadline = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    approval = context.wait_for_external_event("Approve")
    winner = yield context.task_any([approval, deadline])
    if winner == approval:
        deadline.cancel()
    done = yield context.wait_for_external_event("Done")
    return {"approved": winner == approval, "done": done}


HANDLES = orchestrator_handles(app)


def run_past_the_cancelled_deadline() -> InlineHost:
    host = InlineHost(HANDLES, {})
    host.start("approve_then_wait")
    host.turn("i1")
    host.raise_event("i1", "Approve", "ann")
    host.run()  # approval wins; then time skips to the cancelled deadline, whose TimerFired is delivered
    host.raise_event("i1", "Done", "yes")
    host.run()
    return host


def test_the_cancelled_timers_timer_fired_is_recorded_at_its_time() -> None:
    host = run_past_the_cancelled_deadline()

    history = host.history()
    kinds = [e["EventType"] for e in history]
    created = next(e for e in history if e["EventType"] == EventType.TIMER_CREATED)
    fired = [e for e in history if e["EventType"] == EventType.TIMER_FIRED]

    assert len(fired) == 1
    assert fired[0]["TimerId"] == created["EventId"]
    assert fired[0]["FireAt"] == created["FireAt"]
    assert kinds.index(EventType.TIMER_FIRED) > kinds.index(EventType.EVENT_RAISED)  # after the approval won
    assert host.now == T0 + timedelta(hours=1)


def test_the_orchestration_is_unaffected_by_the_late_timer_fired() -> None:
    host = run_past_the_cancelled_deadline()

    assert host.status().runtime_status is RuntimeStatus.COMPLETED
    assert json.loads(host.status().output) == {"approved": True, "done": "yes"}


def test_a_finished_instance_drops_its_cancelled_timers_message() -> None:
    host = InlineHost(HANDLES, {})
    host.start("approve_then_wait")
    host.turn("i1")
    host.raise_event("i1", "Approve", "ann")
    host.raise_event("i1", "Done", "now")

    host.run()

    assert host.status().runtime_status is RuntimeStatus.COMPLETED
    assert host.messages == []
    assert EventType.TIMER_FIRED not in [e["EventType"] for e in host.history()]


def test_the_replay_checker_replays_a_history_with_the_cancelled_timers_timer_fired() -> None:
    host = run_past_the_cancelled_deadline()
    registry = FunctionRegistry(orchestrators={name: OrchestratorFunction(name, handle) for name, handle in HANDLES.items()})
    recording = Recording("i1", "approve_then_wait", host.status().input, tuple(host.history()))

    result = check(recording, target_for_registry(registry))

    assert result.ok, result.line()
