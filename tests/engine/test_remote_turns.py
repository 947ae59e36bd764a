"""A turn whose orchestrator replays in another process (``TurnDecider.decide_remote``): its steps run on the loop
around the awaited replay; a replay given up (the worker died) decides nothing; an orchestrator the invoker does not
replay remotely (a test's stub) runs in this process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Callable

import pytest

from devhost.clock import VirtualClock
from devhost.core.errors import TurnAborted
from devhost.core.model import RuntimeStatus
from devhost.runtime.config import HostSettings
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry, OrchestratorFunction
from devhost.runtime.turns import PreparedTurn, TurnDecider
from devhost.store.memory import MemoryStore
from tests.store_contract import make_instance, start_message

DONE = json.dumps({"isDone": True, "output": 42, "actions": []})


class RemoteInvoker(Invoker):
    """Replays every orchestrator with ``replay`` (an async fake standing for a worker process)."""

    turns_off_loop = True

    def __init__(self, clock: VirtualClock, replay: Callable[[str], Awaitable[str]] | None) -> None:
        super().__init__(clock)
        self.replay = replay

    def remote_orchestrator(self, function, *, trace=(None, None)):  # type: ignore[no-untyped-def]
        return self.replay


def prepared_turn(replay: Callable[[str], Awaitable[str]] | None, local: Callable[[str], str]) -> PreparedTurn:
    clock = VirtualClock()
    store = MemoryStore()
    store.create_instance(make_instance("i1"), start_message("i1"))
    registry = FunctionRegistry(orchestrators={"orch": OrchestratorFunction("orch", local)})
    decider = TurnDecider(store, clock, registry, HostSettings(), RemoteInvoker(clock, replay), None)
    prepared = decider.prepare("i1")
    assert prepared is not None
    return prepared


def never_local(context: str) -> str:
    raise AssertionError("replayed in this process")


def test_the_remote_replay_is_awaited_and_its_answer_decides_the_turn() -> None:
    contexts: list[str] = []

    async def replay(context: str) -> str:
        contexts.append(context)
        await asyncio.sleep(0)  # a real replay answers in a later loop pass
        return DONE

    prepared = prepared_turn(replay, never_local)

    commit = asyncio.run(TurnDecider.decide_remote(prepared))

    assert commit.instance.runtime_status is RuntimeStatus.COMPLETED and commit.instance.output == "42"
    assert len(contexts) == 1 and prepared.ran


def test_a_replay_given_up_decides_nothing() -> None:
    async def replay(context: str) -> str:
        raise TurnAborted("the worker exited")

    prepared = prepared_turn(replay, never_local)

    with pytest.raises(TurnAborted):
        asyncio.run(TurnDecider.decide_remote(prepared))


def test_the_failure_text_of_a_remote_replay_fails_the_orchestration() -> None:
    async def replay(context: str) -> str:
        raise RuntimeError("boom in the worker")

    prepared = prepared_turn(replay, never_local)

    commit = asyncio.run(TurnDecider.decide_remote(prepared))

    assert commit.instance.runtime_status is RuntimeStatus.FAILED and "boom in the worker" in (commit.instance.output or "")


def test_an_orchestrator_not_replayed_remotely_runs_in_this_process() -> None:
    local_calls: list[str] = []

    def local(context: str) -> str:
        local_calls.append(context)
        return DONE

    prepared = prepared_turn(None, local)

    commit = asyncio.run(TurnDecider.decide_remote(prepared))

    assert commit.instance.runtime_status is RuntimeStatus.COMPLETED and len(local_calls) == 1
