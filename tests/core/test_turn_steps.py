"""A turn as steps around its replay (``decide_turn_steps``): what a host whose orchestrator replays in another
process drives, awaiting each reply; in-process, ``decide_turn`` drives the same steps."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import azure.durable_functions as df
import pytest

from devhost.core import events
from devhost.core.errors import TurnAborted
from devhost.core.model import Instance, Message, RuntimeStatus, Turn, TurnCommit
from devhost.core.turn import TurnEnv, decide_turn, decide_turn_steps
from tests.inline import orchestrator_handles

app = df.DFApp()
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):
    name = yield context.call_activity("hello", "Tokyo")
    return name


HANDLES = orchestrator_handles(app)


def new_turn(name: str = "greet") -> Turn:
    instance = Instance("i1", name, "e1", RuntimeStatus.PENDING, T0, T0)
    start = events.execution_started(T0, instance_id="i1", execution_id="e1", name=name, input_text=None)
    return Turn(instance=instance, history_json=[], messages=[Message("i1", start, T0, "e1", id=1)])


def env_for(orchestrator=None) -> TurnEnv:
    return TurnEnv(now=T0, orchestrator=orchestrator, known_orchestrators=["greet"], new_id=lambda: "x1")


def drive(turn: Turn, env: TurnEnv, replay) -> TurnCommit:
    """Run the steps with ``replay`` answering each context (raising to fail), as a remote host would."""
    steps = decide_turn_steps(turn, env)
    try:
        context = next(steps)
        while True:
            try:
                reply = replay(context)
            except Exception as exc:
                context = steps.throw(exc)
            else:
                context = steps.send(reply)
    except StopIteration as done:
        return done.value


def test_the_steps_yield_the_context_and_return_the_same_commit_as_decide_turn() -> None:
    contexts: list[str] = []

    def replay(context: str) -> str:
        contexts.append(context)
        return HANDLES["greet"](context)

    stepped = drive(new_turn(), env_for(HANDLES["greet"]), replay)
    direct = decide_turn(new_turn(), env_for(HANDLES["greet"]))

    assert len(contexts) == 1 and json.loads(contexts[0])["history"]
    assert [a.name for a in stepped.new_activities] == [a.name for a in direct.new_activities] == ["hello"]
    assert stepped.instance.runtime_status is direct.instance.runtime_status is RuntimeStatus.RUNNING


def test_an_exception_thrown_into_the_steps_fails_the_orchestration_with_its_text() -> None:
    def replay(context: str) -> str:
        raise RuntimeError("the worker's failure text")

    commit = drive(new_turn(), env_for(HANDLES["greet"]), replay)

    assert commit.instance.runtime_status is RuntimeStatus.FAILED
    assert "the worker's failure text" in (commit.instance.output or "")


def test_turn_aborted_thrown_into_the_steps_gives_the_turn_up() -> None:
    def replay(context: str) -> str:
        raise TurnAborted("the worker died")

    with pytest.raises(TurnAborted):
        drive(new_turn(), env_for(HANDLES["greet"]), replay)


def test_a_turn_with_no_orchestrator_asks_for_no_replay() -> None:
    def replay(context: str) -> str:
        raise AssertionError("nothing to replay")

    commit = drive(new_turn(), env_for(None), replay)

    assert commit.instance.runtime_status is RuntimeStatus.FAILED
